//! `requirements.in` files: pins with PEP 508 markers, option lines and `-r`/`-c` includes.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, PackageName, Requirement, VerbatimUrl, VersionOrUrl};

use super::lines::{logical_lines, LogicalLine};
use super::ParseError;

/// A parsed requirements file, without its includes resolved.
#[derive(Debug, Clone)]
pub struct RequirementsFile {
    pub path: PathBuf,
    pub pins: Vec<Pin>,
    pub options: Vec<OptionLine>,
}

/// One requirement line.
#[derive(Debug, Clone)]
pub struct Pin {
    /// Normalized name (PEP 503).
    pub name: PackageName,
    /// The name as written.
    pub raw_name: String,
    pub requirement: Requirement,
    /// The marker exactly as written after `;`, which pip-compile copies into lockfiles.
    pub marker_text: Option<String>,
    /// `--hash` values (`sha256:...`).
    pub hashes: Vec<String>,
    /// The file this pin was read from (an included file for pins from `-r`).
    pub file: PathBuf,
    /// 1-based line of the pin in `file`.
    pub line: usize,
    /// The requirement text without options and comment.
    pub text: String,
}

impl Pin {
    /// Checks whether the pin applies on a target with this marker environment.
    pub fn applies_to(&self, env: &MarkerEnvironment) -> bool {
        self.requirement.marker.evaluate(env, &[])
    }

    /// The version specifiers, or `None` for a URL requirement or a bare name.
    pub fn specifiers(&self) -> Option<&pep440_rs::VersionSpecifiers> {
        match &self.requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => Some(specifiers),
            _ => None,
        }
    }

    /// The version of an exact `==` pin, local version included.
    pub fn exact_version(&self) -> Option<&pep440_rs::Version> {
        let specifiers = self.specifiers()?;
        match specifiers.iter().collect::<Vec<_>>().as_slice() {
            [only] if *only.operator() == pep440_rs::Operator::Equal => Some(only.version()),
            _ => None,
        }
    }
}

/// An option line such as `--extra-index-url URL` or `-r other.in`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionLine {
    pub option: RequirementsOption,
    pub line: usize,
}

/// The options pip-compile and uv understand in a requirements file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequirementsOption {
    IndexUrl(String),
    ExtraIndexUrl(String),
    FindLinks(String),
    TrustedHost(String),
    NoIndex,
    Pre,
    PreferBinary,
    OnlyBinary(String),
    NoBinary(String),
    /// `-r FILE`: its requirements are part of this file's.
    Requirement(String),
    /// `-c FILE`: its requirements only constrain versions.
    Constraint(String),
}

impl RequirementsOption {
    /// Index and find-links URLs, which may carry credentials.
    pub fn url(&self) -> Option<&str> {
        match self {
            RequirementsOption::IndexUrl(url)
            | RequirementsOption::ExtraIndexUrl(url)
            | RequirementsOption::FindLinks(url) => Some(url),
            _ => None,
        }
    }

    /// Formats the option as pip-compile writes it at the top of a lockfile, or `None` when it is not
    /// copied there.
    pub fn lockfile_line(&self) -> Option<String> {
        match self {
            RequirementsOption::IndexUrl(url) => Some(format!("--index-url {url}")),
            RequirementsOption::ExtraIndexUrl(url) => Some(format!("--extra-index-url {url}")),
            RequirementsOption::FindLinks(url) => Some(format!("--find-links {url}")),
            RequirementsOption::TrustedHost(host) => Some(format!("--trusted-host {host}")),
            _ => None,
        }
    }
}

/// Parses the text of a requirements file. Unsupported syntax is an error, never dropped.
pub fn parse(text: &str, path: &Path) -> Result<RequirementsFile, ParseError> {
    let mut file = RequirementsFile { path: path.to_path_buf(), pins: Vec::new(), options: Vec::new() };
    for logical in logical_lines(text) {
        if logical.content.is_empty() {
            continue;
        }
        if logical.content.starts_with('-') {
            let option = parse_option(&logical, path)?;
            file.options.push(OptionLine { option, line: logical.line });
        } else {
            file.pins.push(parse_pin(&logical, path)?);
        }
    }
    Ok(file)
}

/// A requirements file with its `-r` includes, read through a caller-supplied reader.
#[derive(Debug, Clone)]
pub struct RequirementsTree {
    /// The top file first, then included files in the order they were met.
    pub files: Vec<RequirementsFile>,
    /// Files included with `-c`: their pins constrain versions but require nothing.
    pub constraints: Vec<RequirementsFile>,
}

impl RequirementsTree {
    /// Iterates over every requirement pin of the tree (constraints excluded), in file order.
    pub fn pins(&self) -> impl Iterator<Item = &Pin> {
        self.files.iter().flat_map(|file| file.pins.iter())
    }

    /// Iterates over every option line with the file it is in.
    pub fn options(&self) -> impl Iterator<Item = (&Path, &OptionLine)> {
        self.files
            .iter()
            .chain(&self.constraints)
            .flat_map(|file| file.options.iter().map(move |option| (file.path.as_path(), option)))
    }
}

/// Two pins of one package that both apply under one marker environment, the earlier first.
#[derive(Debug, Clone, Copy)]
pub enum PinClash<'a> {
    /// One pin's exact version is outside the other's specifiers, so no version satisfies
    /// both and every resolver fails.
    Conflict(&'a Pin, &'a Pin),
    /// Two requirement pins of the same exact version: harmless, but one of them is redundant.
    Duplicate(&'a Pin, &'a Pin),
}

impl RequirementsTree {
    /// Lists the pairs of pins, requirements and constraints alike, that clash under `env`.
    /// A constraint that repeats a requirement's version is the usual shape of a constraints
    /// file, so only two requirement pins make a [`PinClash::Duplicate`].
    pub fn clashing_pins(&self, env: &MarkerEnvironment) -> Vec<PinClash<'_>> {
        let requirements = self.pins().map(|pin| (pin, false));
        let constraints = self.constraints.iter().flat_map(|file| file.pins.iter()).map(|pin| (pin, true));
        let active: Vec<(&Pin, bool)> = requirements.chain(constraints).filter(|(pin, _)| pin.applies_to(env)).collect();

        let mut clashes = Vec::new();
        for (index, (first, first_is_constraint)) in active.iter().enumerate() {
            for (second, second_is_constraint) in &active[index + 1..] {
                if first.name != second.name {
                    continue;
                }
                if conflict(first, second) {
                    clashes.push(PinClash::Conflict(first, second));
                } else if !first_is_constraint
                    && !second_is_constraint
                    && first.exact_version().is_some()
                    && first.exact_version() == second.exact_version()
                {
                    clashes.push(PinClash::Duplicate(first, second));
                }
            }
        }
        clashes
    }
}

/// Checks whether no version satisfies both pins, judged for pins with an exact `==` version:
/// any version that satisfies an exact pin equals its version, local label aside, so one of the
/// exact versions satisfies both pins whenever any version does. `==1.13.1` and
/// `==1.13.1+cu116` therefore agree on `1.13.1+cu116`.
fn conflict(first: &Pin, second: &Pin) -> bool {
    let (Some(first_specifiers), Some(second_specifiers)) = (first.specifiers(), second.specifiers()) else {
        return false;
    };
    let candidates: Vec<&pep440_rs::Version> = [first.exact_version(), second.exact_version()].into_iter().flatten().collect();
    !candidates.is_empty()
        && !candidates.iter().any(|version| first_specifiers.contains(version) && second_specifiers.contains(version))
}

/// Reads `path` and every file it includes with `-r` or `-c`, relative to the including file.
/// `read` returns a file's text; an include cycle is an error naming the line.
pub fn load_tree(
    path: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<RequirementsTree, ParseError> {
    let mut tree = RequirementsTree { files: Vec::new(), constraints: Vec::new() };
    let mut stack = Vec::new();
    load_into(path, false, read, &mut tree, &mut stack, None)?;
    Ok(tree)
}

fn load_into(
    path: &Path,
    constraint: bool,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
    tree: &mut RequirementsTree,
    stack: &mut Vec<PathBuf>,
    included_from: Option<(&Path, usize)>,
) -> Result<(), ParseError> {
    let text = read(path).map_err(|err| match included_from {
        Some((parent, line)) => ParseError::new(
            parent,
            line,
            format!("cannot read included file {}: {err}", path.display()),
        ),
        None => ParseError::new(path, 1, format!("cannot read {}: {err}", path.display())),
    })?;
    let file = parse(&text, path)?;
    stack.push(normalize_path(path));

    let includes: Vec<(bool, String, usize)> = file
        .options
        .iter()
        .filter_map(|option| match &option.option {
            RequirementsOption::Requirement(child) => Some((false, child.clone(), option.line)),
            RequirementsOption::Constraint(child) => Some((true, child.clone(), option.line)),
            _ => None,
        })
        .collect();
    if constraint {
        tree.constraints.push(file);
    } else {
        tree.files.push(file);
    }

    for (child_is_constraint, child, line) in includes {
        let child_path = normalize_path(&path.parent().unwrap_or(Path::new("")).join(&child));
        if stack.iter().any(|seen| seen == &child_path) {
            return Err(ParseError::new(path, line, format!("`{child}` includes itself through a cycle"))
                .with_hint("remove one of the -r/-c lines that form the cycle"));
        }
        // A file included from two places is read once, so its pins are not reported as
        // duplicates of themselves.
        let loaded = tree.files.iter().chain(&tree.constraints).any(|file| file.path == child_path);
        if loaded {
            continue;
        }
        load_into(
            &child_path,
            constraint || child_is_constraint,
            read,
            tree,
            stack,
            Some((path, line)),
        )?;
    }
    stack.pop();
    Ok(())
}

/// Removes `.` and `..` components without touching the file system, as `os.path.normpath`
/// does, so that `dir/../dir/a.in` and `dir/a.in` compare equal.
pub fn normalize_path(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !normalized.pop() {
                    normalized.push("..");
                }
            }
            other => normalized.push(other),
        }
    }
    normalized
}

pub(crate) fn parse_option(logical: &LogicalLine, path: &Path) -> Result<RequirementsOption, ParseError> {
    let content = logical.content.as_str();
    let (flag, value) = split_flag(content);
    let need_value = |value: Option<&str>| {
        value.filter(|value| !value.is_empty()).map(str::to_string).ok_or_else(|| {
            ParseError::new(path, logical.line, format!("`{flag}` needs a value"))
                .with_column(1)
        })
    };
    let option = match flag {
        "-i" | "--index-url" => RequirementsOption::IndexUrl(need_value(value)?),
        "--extra-index-url" => RequirementsOption::ExtraIndexUrl(need_value(value)?),
        "-f" | "--find-links" => RequirementsOption::FindLinks(need_value(value)?),
        "--trusted-host" => RequirementsOption::TrustedHost(need_value(value)?),
        "-r" | "--requirement" => RequirementsOption::Requirement(need_value(value)?),
        "-c" | "--constraint" => RequirementsOption::Constraint(need_value(value)?),
        "--only-binary" => RequirementsOption::OnlyBinary(need_value(value)?),
        "--no-binary" => RequirementsOption::NoBinary(need_value(value)?),
        "--no-index" => RequirementsOption::NoIndex,
        "--pre" => RequirementsOption::Pre,
        "--prefer-binary" => RequirementsOption::PreferBinary,
        "-e" | "--editable" => {
            return Err(ParseError::new(path, logical.line, format!("unsupported editable requirement `{content}`"))
                .with_column(1)
                .with_hint("an image installs released packages only; pin a version instead"));
        }
        _ => {
            return Err(ParseError::new(path, logical.line, format!("unsupported option `{flag}`"))
                .with_column(1)
                .with_hint(
                    "supported options are -r, -c, --index-url, --extra-index-url, --find-links, \
                     --trusted-host, --no-index, --pre, --prefer-binary, --only-binary, --no-binary",
                ));
        }
    };
    Ok(option)
}

/// Splits `--flag value`, `--flag=value` and `-rvalue` forms.
fn split_flag(content: &str) -> (&str, Option<&str>) {
    if let Some((flag, value)) = content.split_once(|c: char| c.is_whitespace() || c == '=') {
        if flag.starts_with("--") || flag.len() == 2 {
            return (flag, Some(value.trim()));
        }
    }
    if !content.starts_with("--") && content.len() > 2 {
        return (&content[..2], Some(content[2..].trim()));
    }
    (content, None)
}

fn parse_pin(logical: &LogicalLine, path: &Path) -> Result<Pin, ParseError> {
    let (requirement_text, option_start) = split_requirement_options(&logical.content);
    let hashes = parse_hashes(&logical.content[option_start..], logical, path, option_start)?;

    let requirement = Requirement::<VerbatimUrl>::from_str(requirement_text).map_err(|err| {
        ParseError::new(path, logical.line, format!("invalid requirement: {err}"))
            .with_column(err.start + 1)
            .with_hint("write a PEP 508 requirement such as `name==1.2.3 ; platform_machine == \"x86_64\"`")
    })?;
    let raw_name = raw_name(requirement_text);
    let marker_text = marker_text(requirement_text);

    Ok(Pin {
        name: requirement.name.clone(),
        raw_name,
        requirement,
        marker_text,
        hashes,
        file: path.to_path_buf(),
        line: logical.line,
        text: requirement_text.to_string(),
    })
}

/// Returns the requirement part of a line and the byte offset where its options start: the
/// first whitespace-preceded token that begins with `-` outside quotes.
pub fn split_requirement_options(content: &str) -> (&str, usize) {
    let mut quote: Option<char> = None;
    let mut previous_is_space = false;
    for (index, c) in content.char_indices() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '-' && previous_is_space => return (content[..index].trim_end(), index),
            None => {}
        }
        previous_is_space = c.is_whitespace();
    }
    (content.trim_end(), content.len())
}

pub(crate) fn parse_hashes(
    options: &str,
    logical: &LogicalLine,
    path: &Path,
    offset: usize,
) -> Result<Vec<String>, ParseError> {
    let mut hashes = Vec::new();
    let mut tokens = options.split_whitespace().peekable();
    while let Some(token) = tokens.next() {
        let value = if let Some(value) = token.strip_prefix("--hash=") {
            Some(value.to_string())
        } else if token == "--hash" {
            tokens.next().map(str::to_string)
        } else {
            None
        };
        match value {
            Some(value) if value.contains(':') => hashes.push(value),
            _ => {
                return Err(ParseError::new(
                    path,
                    logical.line,
                    format!("unsupported option `{token}` after a requirement"),
                )
                .with_column(offset + 1)
                .with_hint("only `--hash=ALGORITHM:DIGEST` may follow a requirement"));
            }
        }
    }
    Ok(hashes)
}

/// Returns the name as written at the start of a requirement.
fn raw_name(requirement_text: &str) -> String {
    requirement_text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

/// Returns the marker text after the first `;` outside quotes, trimmed.
pub fn marker_text(requirement_text: &str) -> Option<String> {
    let mut quote: Option<char> = None;
    for (index, c) in requirement_text.char_indices() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ';' => {
                let marker = requirement_text[index + 1..].trim();
                return (!marker.is_empty()).then(|| marker.to_string());
            }
            None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::TargetTable;

    fn parse_text(text: &str) -> RequirementsFile {
        parse(text, Path::new("requirements.in")).unwrap()
    }

    fn env(machine: &str) -> MarkerEnvironment {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let table = TargetTable::load(&manifest).unwrap();
        let mut target = table.targets[0].clone();
        target.markers.insert("platform_machine".into(), machine.into());
        target.marker_environment("3.11").unwrap()
    }

    #[test]
    fn clashing_pins_per_environment() {
        // (name, requirements.in, constraints file, conflicts, duplicates) under x86_64.
        let cases = [
            ("spelling variants", "Pillow==10.4.0\npillow==10.3.0\n", "", vec![(1, 2)], vec![]),
            ("two versions", "requests==2.28.1\nsix==1\nrequests==99.0.0\n", "", vec![(1, 3)], vec![]),
            ("same version", "six==1.14.0\nsix==1.14.0\n", "", vec![], vec![(1, 2)]),
            ("pin outside range", "six>=1.16\nsix==1.14.0\n", "", vec![(1, 2)], vec![]),
            ("pin inside range", "six>=1.10\nsix==1.14.0\n", "", vec![], vec![]),
            ("local label accepted", "torch==1.13.1\ntorch==1.13.1+cu116\n", "", vec![], vec![]),
            ("other target's pin", "torch==1.13.1+cu116; platform_machine == 'x86_64'\ntorch==1.13.1; platform_machine == 'aarch64'\n", "", vec![], vec![]),
            ("both apply here", "six==1; platform_machine == 'x86_64'\nsix==2; sys_platform == 'linux'\n", "", vec![(1, 2)], vec![]),
            ("constraint conflicts", "-c constraints.txt\nsix==1.14.0\n", "six==1.16.0\n", vec![(2, 1)], vec![]),
            ("constraint repeats", "-c constraints.txt\nsix==1.14.0\n", "six==1.14.0\n", vec![], vec![]),
        ];
        for (name, text, constraints, conflicts, duplicates) in cases {
            let read = |path: &Path| -> std::io::Result<String> {
                Ok(if path.ends_with("constraints.txt") { constraints.to_string() } else { text.to_string() })
            };
            let tree = load_tree(Path::new("requirements.in"), &read).unwrap();
            let (mut found_conflicts, mut found_duplicates) = (Vec::new(), Vec::new());
            for clash in tree.clashing_pins(&env("x86_64")) {
                match clash {
                    PinClash::Conflict(first, second) => found_conflicts.push((first.line, second.line)),
                    PinClash::Duplicate(first, second) => found_duplicates.push((first.line, second.line)),
                }
            }
            assert_eq!(found_conflicts, conflicts, "{name}: conflicts");
            assert_eq!(found_duplicates, duplicates, "{name}: duplicates");
        }
    }

    #[test]
    fn pin_keeps_line_and_normalized_name() {
        let file = parse_text("# top\n\nmsgpack_numpy==0.4.8\nPillow==10.4.0 # images\n");
        assert_eq!(file.pins.len(), 2);
        assert_eq!(file.pins[0].name.as_ref(), "msgpack-numpy");
        assert_eq!(file.pins[0].raw_name, "msgpack_numpy");
        assert_eq!(file.pins[0].line, 3);
        assert_eq!(file.pins[1].name.as_ref(), "pillow");
        assert_eq!(file.pins[1].line, 4);
    }

    #[test]
    fn marker_with_or_evaluates_per_target() {
        let file = parse_text(
            "torch==1.13.1; platform_machine == \"arm64\" or platform_machine == \"aarch64\"\n",
        );
        let pin = &file.pins[0];
        assert_eq!(
            pin.marker_text.as_deref(),
            Some("platform_machine == \"arm64\" or platform_machine == \"aarch64\"")
        );
        assert!(pin.applies_to(&env("aarch64")));
        assert!(pin.applies_to(&env("arm64")));
        assert!(!pin.applies_to(&env("x86_64")));
    }

    #[test]
    fn local_version_pin_is_exact() {
        let file = parse_text("torch==1.13.1+cu116; platform_machine == \"x86_64\"\n");
        assert_eq!(file.pins[0].exact_version().unwrap().to_string(), "1.13.1+cu116");
    }

    #[test]
    fn options_and_includes_recorded() {
        let file = parse_text(
            "--extra-index-url https://download.pytorch.org/whl/cu116\n-r base.in\n-c constraints.txt\n--find-links=./wheels\n-i https://pypi.org/simple\n",
        );
        let options: Vec<_> = file.options.iter().map(|option| option.option.clone()).collect();
        assert_eq!(
            options,
            [
                RequirementsOption::ExtraIndexUrl("https://download.pytorch.org/whl/cu116".into()),
                RequirementsOption::Requirement("base.in".into()),
                RequirementsOption::Constraint("constraints.txt".into()),
                RequirementsOption::FindLinks("./wheels".into()),
                RequirementsOption::IndexUrl("https://pypi.org/simple".into()),
            ]
        );
        assert_eq!(file.options[1].line, 2);
    }

    #[test]
    fn hashes_across_continuations() {
        let file = parse_text("six==1.14.0 \\\n    --hash=sha256:aa \\\n    --hash sha256:bb\n");
        assert_eq!(file.pins[0].hashes, ["sha256:aa", "sha256:bb"]);
        assert_eq!(file.pins[0].text, "six==1.14.0");
    }

    #[test]
    fn extras_parsed() {
        let file = parse_text("fsspec[http]==2024.3.1\n");
        assert_eq!(file.pins[0].requirement.extras.len(), 1);
        assert_eq!(file.pins[0].name.as_ref(), "fsspec");
    }

    #[test]
    fn invalid_marker_reports_line_and_column() {
        let err = parse("ok==1\ntorch==1.0; platform_machin == \"x86_64\"\n", Path::new("req.in"))
            .unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.column.is_some());
        assert!(err.to_string().starts_with("req.in:2:"), "{err}");
        assert!(err.message.contains('^'), "{}", err.message);
    }

    #[test]
    fn unsupported_option_rejected() {
        let err = parse("--use-feature fast\n", Path::new("req.in")).unwrap_err();
        assert!(err.message.contains("unsupported option `--use-feature`"), "{}", err.message);
        let err = parse("-e ./local\n", Path::new("req.in")).unwrap_err();
        assert!(err.message.contains("editable"), "{}", err.message);
        let err = parse("six==1 --no-deps\n", Path::new("req.in")).unwrap_err();
        assert!(err.message.contains("`--no-deps`"), "{}", err.message);
    }

    #[test]
    fn include_tree_follows_relative_paths() {
        let read = |path: &Path| -> std::io::Result<String> {
            match path.to_str().unwrap() {
                "dir/requirements.in" => Ok("-r extra/base.in\n-c pins.txt\nfoo==1\n".into()),
                "dir/extra/base.in" => Ok("Bar_Baz==2.0\n".into()),
                "dir/pins.txt" => Ok("qux==3\n".into()),
                _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "missing")),
            }
        };
        let tree = load_tree(Path::new("dir/requirements.in"), &read).unwrap();
        let names: Vec<_> = tree.pins().map(|pin| pin.name.to_string()).collect();
        assert_eq!(names, ["foo", "bar-baz"]);
        assert_eq!(tree.files[1].pins[0].file, Path::new("dir/extra/base.in"));
        assert_eq!(tree.constraints[0].pins[0].name.as_ref(), "qux");
    }

    #[test]
    fn include_cycle_through_parent_folder() {
        let read = |path: &Path| -> std::io::Result<String> {
            match path.to_str().unwrap() {
                "h/requirements.in" => Ok("-r ../h/requirements.in\n".into()),
                _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "not found")),
            }
        };
        let err = load_tree(Path::new("h/requirements.in"), &read).unwrap_err();
        assert!(err.message.contains("cycle"), "{}", err.message);
    }

    #[test]
    fn shared_include_loaded_once() {
        let read = |path: &Path| -> std::io::Result<String> {
            match path.to_str().unwrap() {
                "requirements.in" => Ok("-r b.in\n-r c.in\n".into()),
                "b.in" | "c.in" => Ok("-r d.in\n".into()),
                "d.in" => Ok("six==1.16.0\n".into()),
                _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "not found")),
            }
        };
        let tree = load_tree(Path::new("requirements.in"), &read).unwrap();
        assert_eq!(tree.pins().count(), 1);
    }

    #[test]
    fn include_cycle_and_missing_file() {
        let read = |path: &Path| -> std::io::Result<String> {
            match path.to_str().unwrap() {
                "a.in" => Ok("-r b.in\n".into()),
                "b.in" => Ok("x==1\n-r a.in\n-r gone.in\n".into()),
                _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "not found")),
            }
        };
        let err = load_tree(Path::new("a.in"), &read).unwrap_err();
        assert_eq!(err.file, Path::new("b.in"));
        assert_eq!(err.line, 2);
        assert!(err.message.contains("cycle"));
    }
}
