//! Adds pins to requirements.in's transitive section, keeping every existing line, comment and
//! the order as they are.

/// The comment that opens the section `converge` writes into. An existing section whose
/// comment starts with `# Transitive dependencies` (any case) is used instead.
pub const SECTION_COMMENT: &str =
    "# Transitive dependencies, pinned by `cargo xtask converge` so that they cannot drift";

/// One pin to add.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewPin {
    pub name: String,
    pub version: String,
    /// The target's marker, when the package or its version differs between targets.
    pub marker: Option<String>,
    /// 1-based lines of requirements.in that this pin supersedes, such as another target's
    /// marker pin of the same version. The pin takes the first line's place and the other
    /// lines are removed. When empty, the pin is appended to the transitive section.
    pub replaces: Vec<usize>,
}

impl NewPin {
    pub fn line(&self) -> String {
        crate::validate::suggested_pin(&self.name, &self.version, self.marker.as_deref())
    }
}

/// Returns `text` with `pins` written in. A pin that supersedes lines takes the place of the
/// first of them. The other pins are appended to the end of the transitive section, which is
/// created at the end of the file when there is none.
pub fn add_transitive_pins(text: &str, pins: &[NewPin]) -> String {
    let (replacing, appended): (Vec<NewPin>, Vec<NewPin>) = pins.iter().cloned().partition(|pin| !pin.replaces.is_empty());
    let text = replace_lines(text, &replacing);
    append_transitive_pins(&text, &appended)
}

/// Writes each pin over the first line it supersedes and removes its other lines.
fn replace_lines(text: &str, pins: &[NewPin]) -> String {
    if pins.is_empty() {
        return text.to_string();
    }
    let mut lines: Vec<Option<String>> = text.lines().map(|line| Some(line.to_string())).collect();
    for pin in pins {
        for (position, number) in pin.replaces.iter().enumerate() {
            if let Some(slot) = lines.get_mut(number - 1) {
                *slot = (position == 0).then(|| pin.line());
            }
        }
    }
    let mut out = lines.into_iter().flatten().collect::<Vec<_>>().join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn append_transitive_pins(text: &str, pins: &[NewPin]) -> String {
    if pins.is_empty() {
        return text.to_string();
    }
    let new_lines: Vec<String> = pins.iter().map(NewPin::line).collect();
    let lines: Vec<&str> = text.lines().collect();

    let Some(start) = lines.iter().position(|line| is_section_comment(line)) else {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(SECTION_COMMENT);
        out.push('\n');
        for line in new_lines {
            out.push_str(&line);
            out.push('\n');
        }
        return out;
    };

    // The section ends before a blank line that is followed by another comment block, or at
    // the end of the file. New pins go after its last non-blank line.
    let mut end = lines.len();
    for index in start + 1..lines.len() {
        let blank = lines[index].trim().is_empty();
        let next_is_comment = lines.get(index + 1).is_some_and(|next| next.trim_start().starts_with('#'));
        if blank && next_is_comment {
            end = index;
            break;
        }
    }
    let insert_at = (start + 1..end).rev().find(|&index| !lines[index].trim().is_empty()).map_or(start + 1, |index| index + 1);

    let mut out_lines: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
    for (offset, line) in new_lines.into_iter().enumerate() {
        out_lines.insert(insert_at + offset, line);
    }
    let mut out = out_lines.join("\n");
    let inserted_at_end = insert_at >= lines.len();
    if text.ends_with('\n') || inserted_at_end {
        out.push('\n');
    }
    out
}

fn is_section_comment(line: &str) -> bool {
    let Some(comment) = line.trim_start().strip_prefix('#') else { return false };
    comment.trim_start().to_ascii_lowercase().starts_with("transitive dependencies")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(name: &str, version: &str, marker: Option<&str>) -> NewPin {
        NewPin { name: name.into(), version: version.into(), marker: marker.map(str::to_string), replaces: Vec::new() }
    }

    #[test]
    fn replacing_pin_takes_first_line() {
        let text = "a==1\n\n# Transitive dependencies\ncertifi==2025.1.31 ; platform_machine == \"aarch64\"\nidna==3.10\nsix==1 ; platform_machine == \"aarch64\"\nsix==1 ; sys_platform == \"darwin\"\n";
        let merged = NewPin { replaces: vec![4], ..pin("certifi", "2025.1.31", None) };
        let merged_twice = NewPin { replaces: vec![6, 7], ..pin("six", "1", None) };
        let out = add_transitive_pins(text, &[merged, pin("yarl", "1.13.1", None), merged_twice]);
        assert_eq!(out, "a==1\n\n# Transitive dependencies\ncertifi==2025.1.31\nidna==3.10\nsix==1\nyarl==1.13.1\n");
    }

    #[test]
    fn appends_to_existing_section_without_trailing_newline() {
        let text = "six==1.14.0\n\n# ARM Specific packages\ntorch==1.13.1; platform_machine == \"aarch64\"\n\n# Transitive dependencies\naiohttp==3.10.9\nfilelock==3.16.1";
        let out = add_transitive_pins(text, &[pin("yarl", "1.13.1", None), pin("numpy", "1.26.4", Some("platform_machine == \"x86_64\""))]);
        assert_eq!(
            out,
            "six==1.14.0\n\n# ARM Specific packages\ntorch==1.13.1; platform_machine == \"aarch64\"\n\n# Transitive dependencies\naiohttp==3.10.9\nfilelock==3.16.1\nyarl==1.13.1\nnumpy==1.26.4 ; platform_machine == \"x86_64\"\n"
        );
    }

    #[test]
    fn section_in_the_middle_keeps_following_blocks() {
        let text = "a==1\n\n# transitive dependencies\nb==2\n# keep this note\n\n# Other\nc==3\n";
        let out = add_transitive_pins(text, &[pin("d", "4", None)]);
        assert_eq!(out, "a==1\n\n# transitive dependencies\nb==2\n# keep this note\nd==4\n\n# Other\nc==3\n");
    }

    #[test]
    fn creates_marked_section() {
        let out = add_transitive_pins("# top\na==1", &[pin("b", "2", None)]);
        assert_eq!(out, format!("# top\na==1\n\n{SECTION_COMMENT}\nb==2\n"));
        assert_eq!(add_transitive_pins("a==1\n", &[]), "a==1\n");
    }

    #[test]
    fn atomic_write_replaces_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requirements.in");
        std::fs::write(&path, "old\n").unwrap();
        crate::files::write_atomically(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
