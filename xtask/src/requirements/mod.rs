//! The requirements model shared by every command: `requirements.in` files, pip-compile
//! lockfiles, their headers and the differences between two lockfiles.
//!
//! Everything here is pure: it takes text and returns values, with 1-based line numbers into
//! the file the text came from. Reading files, running resolvers and printing belong to the
//! command modules.

pub mod diff;
pub mod header;
pub mod input;
pub mod lines;
pub mod lockfile;
pub mod marker_format;

use std::fmt;
use std::path::{Path, PathBuf};


pub use pep508_rs::PackageName;

/// An invalid line in a requirements file, with the position of the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: PathBuf,
    /// 1-based line of the start of the logical line.
    pub line: usize,
    /// 1-based column in the logical line, when the parser reports one.
    pub column: Option<usize>,
    /// Description of the problem, possibly over several lines (pep508_rs adds a caret under the value).
    pub message: String,
    /// Suggested fix.
    pub hint: Option<String>,
}

impl ParseError {
    pub fn new(file: &Path, line: usize, message: impl Into<String>) -> ParseError {
        ParseError { file: file.to_path_buf(), line, column: None, message: message.into(), hint: None }
    }

    pub fn with_column(mut self, column: usize) -> ParseError {
        self.column = Some(column);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> ParseError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", crate::project::display_path(&self.file), self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}


/// Normalizes a distribution name per PEP 503 (`msgpack_numpy` and `Msgpack.Numpy` become
/// `msgpack-numpy`); returns the input unchanged when it is not a valid name.
pub fn normalize_name(name: &str) -> String {
    PackageName::new(name.to_string()).map_or_else(|_| name.to_string(), |name| name.to_string())
}

/// Hides the user information of a URL (`https://user:secret@host/simple` becomes
/// `https://***@host/simple`), so that credentials reach no lockfile and no message.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}://***@{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Checks whether a URL carries user information (`user:password@` or a bare token `token@`).
pub fn url_has_credentials(url: &str) -> bool {
    redact_url(url) != url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_name_follows_pep_503() {
        assert_eq!(normalize_name("msgpack_numpy"), "msgpack-numpy");
        assert_eq!(normalize_name("Pillow"), "pillow");
        assert_eq!(normalize_name("open_clip.torch"), "open-clip-torch");
    }

    #[test]
    fn redact_url_hides_user_information() {
        assert_eq!(
            redact_url("https://user:s3cret@pypi.example.test/simple"),
            "https://***@pypi.example.test/simple"
        );
        assert_eq!(redact_url("https://token@host/a@b"), "https://***@host/a@b");
        assert_eq!(redact_url("https://host/simple"), "https://host/simple");
        assert!(url_has_credentials("http://u:p@127.0.0.1:8080/simple"));
        assert!(!url_has_credentials("https://download.pytorch.org/whl/cu116"));
    }
}

/// Fixture tests on the real marqo-base requirements, kept beside the repository.
#[cfg(test)]
mod real_data {
    use std::path::{Path, PathBuf};

    use super::{input, lockfile};

    fn real_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/marqo-base/requirements")
    }

    fn read(name: &str) -> String {
        let path = real_dir().join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("real data missing at {}: {err}", path.display()))
    }

    #[test]
    fn requirements_in_pins_found_with_lines() {
        let text = read("requirements.in");
        let file = input::parse(&text, Path::new("requirements.in")).unwrap();
        let physical: Vec<&str> = text.lines().collect();
        let pinned_lines = physical
            .iter()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#') && !line.starts_with('-'))
            .count();
        assert_eq!(file.pins.len(), pinned_lines);
        for pin in &file.pins {
            assert!(
                physical[pin.line - 1].starts_with(&pin.raw_name),
                "line {} is `{}`, not {}",
                pin.line,
                physical[pin.line - 1],
                pin.raw_name
            );
        }
        let torch: Vec<_> = file.pins.iter().filter(|pin| pin.name.as_ref() == "torch").collect();
        assert_eq!(torch.len(), 2);
        assert_eq!(torch[0].exact_version().unwrap().to_string(), "1.13.1+cu116");
        assert_eq!(file.options.len(), 1);
    }

    #[test]
    fn lockfiles_parse_completely() {
        for name in ["amd64-gpu-requirements.txt", "arm64-requirements.txt"] {
            let text = read(name);
            let lock = lockfile::parse(&text, Path::new(name)).unwrap();
            let entry_lines = text
                .lines()
                .filter(|line| !line.is_empty() && !line.starts_with([' ', '#', '-']))
                .count();
            assert_eq!(lock.packages.len(), entry_lines, "{name}");
            assert!(lock.packages.iter().all(|package| !package.via.is_empty()), "{name}");
            assert_eq!(lock.header.as_ref().unwrap().python_version.as_deref(), Some("3.9"));
            for package in &lock.packages {
                let line = text.lines().nth(package.line - 1).unwrap();
                assert!(line.starts_with(package.name.as_ref()), "{name}:{}: {line}", package.line);
            }
        }
    }
}
