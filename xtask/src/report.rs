//! Findings of the checking commands, rendered as text lines, a JSON object or GitHub Actions
//! annotations.
//!
//! Text is one `path:line: severity[kind]: message` line per finding. JSON is
//! `{"ok": bool, "findings": [...]}` with `target`, `package`, `file` and `line` set to null
//! where they do not apply. Both go to stdout; the annotations follow the text lines when
//! `GITHUB_ACTIONS=true`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::exit::{Category, Outcome};

/// How bad a finding is: errors fail the check, warnings do not (unless `--strict` promotes
/// them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem found in requirements.in, a lockfile or the Dockerfile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable kebab-case identifier such as `version-mismatch`.
    pub kind: String,
    pub target: Option<String>,
    /// Normalized package name.
    pub package: Option<String>,
    /// Path as the user gave it, relative to the current directory.
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<usize>,
    pub message: String,
    /// Kind-specific fields: `old_version`, `new_version`, `suggestion`, `via`.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Finding {
    pub fn new(severity: Severity, kind: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity,
            kind: kind.to_string(),
            target: None,
            package: None,
            file: None,
            line: None,
            message: message.into(),
            extra: BTreeMap::new(),
        }
    }

    pub fn error(kind: &str, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Error, kind, message)
    }

    pub fn warning(kind: &str, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Warning, kind, message)
    }

    pub fn target(mut self, target: &str) -> Finding {
        self.target = Some(target.to_string());
        self
    }

    pub fn package(mut self, package: impl ToString) -> Finding {
        self.package = Some(package.to_string());
        self
    }

    /// Sets the file and, when known, the 1-based line.
    pub fn at(mut self, file: &str, line: Option<usize>) -> Finding {
        self.file = Some(file.to_string());
        self.line = line;
        self
    }

    /// Adds a kind-specific field.
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Finding {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the finding as one `path:line: severity[kind]: message` line. Without a file the
    /// location part is left out; the message may carry a suggestion on the same line.
    pub fn to_text_line(&self) -> String {
        let mut line = String::new();
        match (&self.file, self.line) {
            (Some(file), Some(number)) => write!(line, "{file}:{number}: ").unwrap(),
            (Some(file), None) => write!(line, "{file}: ").unwrap(),
            _ => {}
        }
        write!(line, "{}[{}]: {}", self.severity.as_str(), self.kind, self.message).unwrap();
        line
    }

    /// Renders the finding as a GitHub Actions workflow command (`::error file=...,line=...::`).
    pub fn to_annotation(&self) -> String {
        let mut properties = Vec::new();
        if let Some(file) = &self.file {
            properties.push(format!("file={}", escape_property(file)));
            if let Some(line) = self.line {
                properties.push(format!("line={line}"));
            }
        }
        properties.push(format!("title={}", escape_property(&self.kind)));
        format!("::{} {}::{}", self.severity.as_str(), properties.join(","), escape_data(&self.message))
    }
}

/// Output format of the checking commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Kinds that are warnings by default and errors under `--strict`.
pub const STRICT_KINDS: &[&str] = &["unpinned-transitive", "annotation-changed"];

/// The findings of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub findings: Vec<Finding>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    findings: &'a [Finding],
}

impl Report {
    pub fn new(findings: Vec<Finding>) -> Report {
        Report { findings }
    }

    /// Promotes the warnings listed in [`STRICT_KINDS`] to errors.
    pub fn apply_strict(&mut self) {
        for finding in &mut self.findings {
            if STRICT_KINDS.contains(&finding.kind.as_str()) {
                finding.severity = Severity::Error;
            }
        }
    }

    /// Orders findings by file, line and kind, with findings that have no file first.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.file, a.line, &a.target, &a.kind, &a.package).cmp(&(&b.file, b.line, &b.target, &b.kind, &b.package))
        });
    }

    /// True when no finding is an error.
    pub fn ok(&self) -> bool {
        !self.findings.iter().any(Finding::is_error)
    }

    pub fn outcome(&self) -> Outcome {
        if self.ok() {
            Outcome::Success
        } else {
            Outcome::Failed(Category::Findings)
        }
    }

    pub fn error_count(&self) -> usize {
        self.findings.iter().filter(|finding| finding.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.findings.len() - self.error_count()
    }

    /// The text lines, followed by GitHub Actions annotations when `annotations` is set.
    pub fn to_text(&self, annotations: bool) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            out.push_str(&finding.to_text_line());
            out.push('\n');
        }
        if annotations {
            for finding in &self.findings {
                out.push_str(&finding.to_annotation());
                out.push('\n');
            }
        }
        out
    }

    pub fn to_json(&self) -> String {
        let report = JsonReport { ok: self.ok(), findings: &self.findings };
        serde_json::to_string_pretty(&report).expect("findings serialize to JSON")
    }

    /// Renders the report in `format`; text carries annotations when `GITHUB_ACTIONS=true`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.to_text(github_actions()),
            Format::Json => {
                let mut json = self.to_json();
                json.push('\n');
                json
            }
        }
    }

    /// Builds the report of a run that stopped on an error before it could check anything. It
    /// holds one `invalid-input` (exit 2) or `tool-failed` (exit 3) error finding whose message
    /// is the whole error chain, so that `--format json` still prints one object on stdout.
    pub fn for_error(err: &anyhow::Error) -> Report {
        let kind = match crate::exit::category_of(err) {
            Category::Invalid => "invalid-input",
            Category::External | Category::Findings => "tool-failed",
        };
        Report::new(vec![Finding::error(kind, format!("{err:#}"))])
    }

    /// Prints the report on stdout and a one-line summary on stderr, and returns the outcome.
    pub fn print(&self, format: Format) -> Outcome {
        print!("{}", self.render(format));
        eprintln!("{} error(s), {} warning(s)", self.error_count(), self.warning_count());
        self.outcome()
    }
}

/// Runs a checking command's body. Under `--format json`, an error that stops the run before
/// it reports is also printed on stdout as a report (see [`Report::for_error`]). The error is
/// returned unchanged, so the human message still goes to stderr with its exit code.
pub fn run_reporting_errors(format: Format, body: impl FnOnce() -> anyhow::Result<Outcome>) -> anyhow::Result<Outcome> {
    let result = body();
    if let (Format::Json, Err(err)) = (format, &result) {
        print!("{}", Report::for_error(err).render(Format::Json));
    }
    result
}

/// Whether the process runs inside GitHub Actions.
pub fn github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true")
}

/// Escapes an annotation message as the Actions runner expects (`%`, CR and LF).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes an annotation property, which additionally must not contain `:` or `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Finding {
        Finding::error("version-mismatch", "torch 1.13.0 does not satisfy ==1.13.1")
            .target("amd64-gpu")
            .package("torch")
            .at("requirements/amd64-gpu-requirements.txt", Some(12))
    }

    #[test]
    fn text_line_has_location_and_kind() {
        assert_eq!(
            sample().to_text_line(),
            "requirements/amd64-gpu-requirements.txt:12: error[version-mismatch]: torch 1.13.0 does not satisfy ==1.13.1"
        );
        let bare = Finding::warning("header-mismatch", "no header");
        assert_eq!(bare.to_text_line(), "warning[header-mismatch]: no header");
    }

    #[test]
    fn annotation_escapes_properties_and_data() {
        let finding = Finding::warning("absolute-path", "100% wrong\nsecond line").at("a,b:c.txt", Some(3));
        assert_eq!(
            finding.to_annotation(),
            "::warning file=a%2Cb%3Ac.txt,line=3,title=absolute-path::100%25 wrong%0Asecond line"
        );
    }

    #[test]
    fn json_has_nulls_and_extra_fields() {
        let finding = Finding::error("changed", "six changed").with("old_version", "1.0").with("new_version", "1.1");
        let report = Report::new(vec![finding]);
        let value: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(value["ok"], false);
        let first = &value["findings"][0];
        assert_eq!(first["kind"], "changed");
        assert_eq!(first["severity"], "error");
        assert!(first["file"].is_null());
        assert!(first["line"].is_null());
        assert!(first["target"].is_null());
        assert_eq!(first["old_version"], "1.0");
        assert_eq!(first["new_version"], "1.1");
    }

    #[test]
    fn error_report_kind_follows_category() {
        let cases = [
            (crate::exit::invalid("bad pin").context("reading requirements.in"), "invalid-input", "reading requirements.in: bad pin"),
            (crate::exit::external("uv failed"), "tool-failed", "uv failed"),
            (anyhow::anyhow!("disk full"), "tool-failed", "disk full"),
        ];
        for (err, kind, message) in cases {
            let report = Report::for_error(&err);
            let value: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
            assert_eq!(value["ok"], false, "{kind}");
            assert_eq!(value["findings"][0]["kind"], kind);
            assert_eq!(value["findings"][0]["severity"], "error");
            assert_eq!(value["findings"][0]["message"], message);
        }
    }

    #[test]
    fn strict_promotes_only_listed_kinds() {
        let mut report = Report::new(vec![
            Finding::warning("unpinned-transitive", "a"),
            Finding::warning("foreign-transitive", "b"),
        ]);
        assert!(report.ok());
        report.apply_strict();
        assert_eq!(report.findings[0].severity, Severity::Error);
        assert_eq!(report.findings[1].severity, Severity::Warning);
        assert_eq!(report.outcome(), Outcome::Failed(Category::Findings));
    }
}
