//! Findings of the checking commands, rendered as text lines, a JSON object or GitHub Actions
//! annotations.

use std::collections::BTreeMap;

use serde::Serialize;

/// How bad a finding is: errors fail the check, warnings do not (unless `--strict` promotes
/// them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
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

/// Output format of the checking commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}
