//! Helpers shared by the integration tests: running the built binary and deciding whether a
//! test that needs an external service runs, skips or fails.
//!
//! `XTASK_REQUIRE_SERVICES=1` (set by `.ci/run`) turns every skip into a failure, so that CI
//! cannot pass by skipping.

#![allow(dead_code)]

pub mod wheels;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Returns the repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The real data: `../shared/marqo-base/requirements` beside the repository, or the folder in
/// `XTASK_REAL_DATA`.
pub fn real_data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("XTASK_REAL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/marqo-base/requirements"));
    dir.join("requirements.in").is_file().then_some(dir)
}

/// Builds a command running the xtask binary built for these tests.
pub fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

/// Whether services must be present (CI) rather than skipped.
pub fn services_required() -> bool {
    std::env::var("XTASK_REQUIRE_SERVICES").is_ok_and(|value| value == "1")
}

/// Returns `Some(value)` of an environment variable that names a service, or skips the test
/// loudly (returns `None`) when it is unset, or panics when services are required.
pub fn service_env(name: &str, what: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            skip_or_fail(&format!("{what} is not configured: {name} is unset"));
            None
        }
    }
}

/// Skips (prints a loud message) or, under `XTASK_REQUIRE_SERVICES=1`, panics.
pub fn skip_or_fail(reason: &str) {
    if services_required() {
        panic!("required test service missing: {reason}");
    }
    eprintln!(
        "\n!!! SKIPPED: {reason}. Start the services with `.ci/services` to run this test.\n"
    );
}
