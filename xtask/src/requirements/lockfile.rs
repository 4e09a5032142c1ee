//! pip-compile lockfiles: header, option lines, pinned packages with hashes and `# via`
//! annotations, and the trailing section of unsafe packages pip-compile leaves unpinned.
//!
//! [`render`] writes the same format back, so that lockfiles are byte-identical whichever
//! resolver produced the resolution.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::{Operator, Version};
use pep508_rs::{MarkerEnvironment, MarkerTree, PackageName, Requirement, VerbatimUrl, VersionOrUrl};

use super::header::{self, Header};
use super::input::{self, OptionLine};
use super::lines::LogicalLine;
use super::ParseError;

/// The comment pip-compile writes before packages it leaves out of a lockfile.
pub const UNSAFE_SECTION: &str =
    "# The following packages are considered to be unsafe in a requirements file:";

/// The comment pip-compile writes instead of [`UNSAFE_SECTION`] when the lockfile has hashes.
pub const UNSAFE_SECTION_WITH_HASHES: &str = "# WARNING: The following packages were not pinned, but pip requires them to be
# pinned when the requirements file includes hashes and the requirement is not
# satisfied by a package already installed. Consider using the --allow-unsafe flag.";

/// Packages pip-compile leaves unpinned unless `--allow-unsafe` is given.
pub const UNSAFE_PACKAGES: &[&str] = &["distribute", "pip", "setuptools"];

/// A parsed lockfile.
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub path: PathBuf,
    pub header: Option<Header>,
    pub options: Vec<OptionLine>,
    pub packages: Vec<LockedPackage>,
    /// Names listed, commented out, after [`UNSAFE_SECTION`], with their lines.
    pub unsafe_packages: Vec<(String, usize)>,
}

/// One pinned package.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedPackage {
    pub name: PackageName,
    /// The name as written.
    pub raw_name: String,
    /// The pinned version, or `None` for a direct URL.
    pub version: Option<Version>,
    /// The direct URL of a `name @ url` entry.
    pub url: Option<String>,
    pub marker: MarkerTree,
    /// The marker exactly as written after `;`.
    pub marker_text: Option<String>,
    /// Extras as written (`pkg[extra]==`), which `--strip-extras` never writes.
    pub extras: Vec<String>,
    pub hashes: Vec<String>,
    /// `# via` items: package names, `-r requirements.in` or `-c constraints.txt`.
    pub via: Vec<String>,
    /// 1-based line of the requirement.
    pub line: usize,
}

impl LockedPackage {
    /// Checks whether requirements.in (or a file it includes with `-r`) requires this package directly.
    pub fn is_direct(&self) -> bool {
        self.via.iter().any(|item| item.starts_with("-r "))
    }

    /// Packages (not files) that pull this one in.
    pub fn parents(&self) -> impl Iterator<Item = &str> {
        self.via.iter().map(String::as_str).filter(|item| !item.starts_with('-'))
    }

    /// Checks whether the line installs on a target with this environment.
    pub fn applies_to(&self, env: &MarkerEnvironment) -> bool {
        self.marker.evaluate(env, &[])
    }

    pub fn version_string(&self) -> String {
        match (&self.version, &self.url) {
            (Some(version), _) => version.to_string(),
            (None, Some(url)) => url.clone(),
            (None, None) => String::new(),
        }
    }
}

impl Lockfile {
    /// Finds the first entry of a package.
    pub fn get(&self, name: &PackageName) -> Option<&LockedPackage> {
        self.packages.iter().find(|package| &package.name == name)
    }

    /// Entries by normalized name; a name with several entries is a merged lockfile.
    pub fn by_name(&self) -> BTreeMap<&PackageName, Vec<&LockedPackage>> {
        let mut map: BTreeMap<&PackageName, Vec<&LockedPackage>> = BTreeMap::new();
        for package in &self.packages {
            map.entry(&package.name).or_default().push(package);
        }
        map
    }
}

/// Parses a lockfile. Entries must be pinned with `==` (or be direct URLs).
pub fn parse(text: &str, path: &Path) -> Result<Lockfile, ParseError> {
    let header = header::parse(text);
    let skip = header.as_ref().map_or(0, |header| header.line_count);
    let physical: Vec<&str> = text.lines().collect();

    let mut lockfile = Lockfile {
        path: path.to_path_buf(),
        header,
        options: Vec::new(),
        packages: Vec::new(),
        unsafe_packages: Vec::new(),
    };
    let mut in_unsafe_section = false;
    let mut in_via_block = false;
    let mut index = skip;

    while index < physical.len() {
        let number = index + 1;
        let line = physical[index];
        let trimmed = line.trim();
        index += 1;

        if trimmed.is_empty() {
            in_via_block = false;
            continue;
        }

        if let Some(comment) = trimmed.strip_prefix('#') {
            let indented = line.starts_with(char::is_whitespace);
            if indented {
                if let Some(package) = lockfile.packages.last_mut() {
                    record_annotation(package, comment, &mut in_via_block);
                }
            } else if line.starts_with(UNSAFE_SECTION) || line.starts_with("# WARNING: The following packages were not pinned") {
                in_unsafe_section = true;
            } else if in_unsafe_section {
                let name = comment.trim();
                if !name.is_empty() && !name.contains(' ') {
                    lockfile.unsafe_packages.push((name.to_string(), number));
                }
            }
            continue;
        }

        in_via_block = false;
        let mut content = String::new();
        let mut current = line;
        // An inline comment ends the entry; with `--annotation-style=line` it is `# via a, b`.
        let mut trailing_comment = None;
        loop {
            let (code, comment) = super::lines::split_comment(current);
            if comment.is_some() {
                content.push_str(code);
                trailing_comment = comment;
                break;
            }
            match current.trim_end().strip_suffix('\\') {
                Some(stripped) if index < physical.len() => {
                    content.push_str(stripped);
                    content.push(' ');
                    current = physical[index];
                    index += 1;
                }
                Some(stripped) => {
                    content.push_str(stripped);
                    break;
                }
                None => {
                    content.push_str(current);
                    break;
                }
            }
        }
        let logical = LogicalLine { line: number, content: content.trim().to_string(), comment: None };

        if logical.content.starts_with('-') {
            let option = input::parse_option(&logical, path)?;
            lockfile.options.push(OptionLine { option, line: number });
        } else {
            let mut package = parse_entry(&logical, path)?;
            if let Some(comment) = trailing_comment {
                let mut in_via_block = false;
                record_annotation(&mut package, &comment, &mut in_via_block);
            }
            lockfile.packages.push(package);
        }
    }
    Ok(lockfile)
}

fn record_annotation(package: &mut LockedPackage, comment: &str, in_via_block: &mut bool) {
    let body = comment.trim();
    if let Some(rest) = body.strip_prefix("via") {
        if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            let rest = rest.trim();
            if rest.is_empty() {
                *in_via_block = true;
            } else {
                // The line annotation style lists every parent on one line.
                package.via.extend(rest.split(", ").map(str::to_string));
            }
            return;
        }
    }
    if *in_via_block && !body.is_empty() {
        package.via.push(body.to_string());
    }
}

fn parse_entry(logical: &LogicalLine, path: &Path) -> Result<LockedPackage, ParseError> {
    let (requirement_text, option_start) = input::split_requirement_options(&logical.content);
    let hashes = input::parse_hashes(&logical.content[option_start..], logical, path, option_start)?;
    let requirement = Requirement::<VerbatimUrl>::from_str(requirement_text).map_err(|err| {
        ParseError::new(path, logical.line, format!("invalid lockfile entry: {err}"))
            .with_column(err.start + 1)
    })?;

    let (version, url) = match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
            let specifiers: Vec<_> = specifiers.iter().collect();
            match specifiers.as_slice() {
                [only] if matches!(only.operator(), Operator::Equal | Operator::ExactEqual) => {
                    (Some(only.version().clone()), None)
                }
                _ => {
                    return Err(not_pinned(path, logical, requirement_text));
                }
            }
        }
        Some(VersionOrUrl::Url(url)) => (None, Some(url.to_string())),
        None => return Err(not_pinned(path, logical, requirement_text)),
    };

    let raw_name: String = requirement_text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let extras = requirement.extras.iter().map(ToString::to_string).collect();
    Ok(LockedPackage {
        name: requirement.name.clone(),
        raw_name,
        version,
        url,
        marker_text: input::marker_text(requirement_text),
        marker: requirement.marker,
        extras,
        hashes,
        via: Vec::new(),
        line: logical.line,
    })
}

fn not_pinned(path: &Path, logical: &LogicalLine, text: &str) -> ParseError {
    ParseError::new(path, logical.line, format!("lockfile entry `{text}` is not pinned with =="))
        .with_column(1)
        .with_hint("lockfiles hold exact pins; regenerate this one with `cargo xtask compile`")
}

/// One entry to write with [`render`].
#[derive(Debug, Clone)]
pub struct RenderEntry {
    /// Normalized name, which pip-compile writes and sorts by.
    pub name: String,
    /// `==VERSION` or ` @ URL`.
    pub pin: String,
    pub marker_text: Option<String>,
    pub hashes: Vec<String>,
    pub via: Vec<String>,
}

impl RenderEntry {
    pub fn from_locked(package: &LockedPackage) -> RenderEntry {
        let pin = match (&package.version, &package.url) {
            (Some(version), _) => format!("=={version}"),
            (None, Some(url)) => format!(" @ {url}"),
            (None, None) => String::new(),
        };
        RenderEntry {
            name: package.name.to_string(),
            pin,
            marker_text: package.marker_text.clone(),
            hashes: package.hashes.clone(),
            via: package.via.clone(),
        }
    }
}

/// Writes a lockfile in pip-compile's layout (split annotation style): header, option lines and
/// a blank line when there are options, entries sorted by name, then the unsafe section with
/// `unsafe_names` commented out (pip-tools 7.7's `writer.py` layout without `--allow-unsafe`).
pub fn render(header: &str, options: &[String], entries: &[RenderEntry], unsafe_names: &[String]) -> String {
    let mut out = String::from(header);
    for option in options {
        out.push_str(option);
        out.push('\n');
    }
    if !options.is_empty() {
        out.push('\n');
    }

    let mut sorted: Vec<&RenderEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for entry in sorted {
        render_entry(&mut out, entry);
    }

    if !unsafe_names.is_empty() {
        let mut names = unsafe_names.to_vec();
        names.sort();
        out.push('\n');
        let with_hashes = entries.iter().any(|entry| !entry.hashes.is_empty());
        out.push_str(if with_hashes { UNSAFE_SECTION_WITH_HASHES } else { UNSAFE_SECTION });
        out.push('\n');
        for name in names {
            out.push_str(&format!("# {name}\n"));
        }
    }
    out
}

fn render_entry(out: &mut String, entry: &RenderEntry) {
    out.push_str(&entry.name);
    out.push_str(&entry.pin);
    if let Some(marker) = &entry.marker_text {
        out.push_str(" ; ");
        out.push_str(marker);
    }
    let mut hashes = entry.hashes.clone();
    hashes.sort();
    for hash in &hashes {
        out.push_str(" \\\n    --hash=");
        out.push_str(hash);
    }
    out.push('\n');

    let mut via = entry.via.clone();
    via.sort();
    via.dedup();
    match via.as_slice() {
        [] => {}
        [only] => out.push_str(&format!("    # via {only}\n")),
        many => {
            out.push_str("    # via\n");
            for item in many {
                out.push_str(&format!("    #   {item}\n"));
            }
        }
    }
}

pub use super::marker_format::normalize_marker_text;

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "#
# This file is autogenerated by pip-compile with Python 3.11
# by the following command:
#
#    pip-compile --output-file=amd64-gpu-requirements.txt --strip-extras requirements.in
#
--extra-index-url https://download.pytorch.org/whl/cu116

aiohttp==3.10.9
    # via
    #   -r requirements.in
    #   fsspec
msgpack-numpy==0.4.8
    # via -r requirements.in
six==1.16.0 \\
    --hash=sha256:aa \\
    --hash=sha256:bb
    # via python-dateutil
torch==1.13.1+cu116 ; platform_machine == \"x86_64\"
    # via
    #   -r requirements.in
    #   timm

# The following packages are considered to be unsafe in a requirements file:
# setuptools
";

    fn sample() -> Lockfile {
        parse(SAMPLE, Path::new("amd64-gpu-requirements.txt")).unwrap()
    }

    #[test]
    fn entries_with_lines_and_annotations() {
        let lockfile = sample();
        let names: Vec<_> = lockfile.packages.iter().map(|p| p.name.to_string()).collect();
        assert_eq!(names, ["aiohttp", "msgpack-numpy", "six", "torch"]);
        assert_eq!(lockfile.packages[0].line, 9);
        assert_eq!(lockfile.packages[0].via, ["-r requirements.in", "fsspec"]);
        assert!(lockfile.packages[1].is_direct());
        assert_eq!(lockfile.packages[2].hashes, ["sha256:aa", "sha256:bb"]);
        assert_eq!(lockfile.packages[2].via, ["python-dateutil"]);
        assert_eq!(lockfile.packages[3].line, 19);
        assert_eq!(lockfile.unsafe_packages, [("setuptools".to_string(), 25)]);
        assert_eq!(lockfile.options.len(), 1);
        assert_eq!(lockfile.header.as_ref().unwrap().python_version.as_deref(), Some("3.11"));
    }

    #[test]
    fn local_version_kept() {
        let torch = sample().packages.pop().unwrap();
        assert_eq!(torch.version.unwrap().to_string(), "1.13.1+cu116");
        assert_eq!(torch.marker_text.as_deref(), Some("platform_machine == \"x86_64\""));
    }

    #[test]
    fn render_reproduces_pip_compile_layout() {
        let lockfile = sample();
        let header_end = SAMPLE.find("--extra").unwrap();
        let entries: Vec<_> = lockfile.packages.iter().map(RenderEntry::from_locked).collect();
        let options = ["--extra-index-url https://download.pytorch.org/whl/cu116".to_string()];
        let text = render(&SAMPLE[..header_end], &options, &entries, &["setuptools".to_string()]);
        let expected = SAMPLE.replace(UNSAFE_SECTION, UNSAFE_SECTION_WITH_HASHES);
        assert_eq!(text, expected);

        let reparsed = parse(&text, Path::new("amd64-gpu-requirements.txt")).unwrap();
        assert_eq!(reparsed.unsafe_packages, [("setuptools".to_string(), 27)]);
        assert_eq!(reparsed.packages.len(), 4);
    }

    #[test]
    fn line_annotation_style_parsed() {
        let text = "aiohttp==3.10.9           # via -r requirements.in, fsspec\nsix==1.16.0 \\\n    --hash=sha256:aa\n    # via python-dateutil, pandas\n";
        let lockfile = parse(text, Path::new("lock.txt")).unwrap();
        assert_eq!(lockfile.packages.len(), 2);
        assert_eq!(lockfile.packages[0].via, ["-r requirements.in", "fsspec"]);
        assert!(lockfile.packages[0].is_direct());
        assert_eq!(lockfile.packages[1].hashes, ["sha256:aa"]);
        assert_eq!(lockfile.packages[1].via, ["python-dateutil", "pandas"]);
    }

    #[test]
    fn unpinned_entry_rejected() {
        let err = parse("six>=1.0\n", Path::new("lock.txt")).unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("not pinned"), "{}", err.message);
    }

    #[test]
    fn duplicate_names_grouped() {
        let lockfile = parse(
            "torch==1.13.1+cu116 ; platform_machine == \"x86_64\"\nTorch==1.13.1 ; platform_machine == \"aarch64\"\n",
            Path::new("merged.txt"),
        )
        .unwrap();
        let groups = lockfile.by_name();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups.values().next().unwrap().len(), 2);
    }

}
