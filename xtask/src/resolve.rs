//! Resolution backends: pip-compile and uv, each run in a temporary folder so that nothing in
//! the requirements folder changes, each returning a lockfile in pip-compile's format.

use std::path::PathBuf;

use anyhow::Result;

use crate::project::Project;
use crate::requirements::lockfile::Lockfile;
use crate::targets::Target;

/// Which resolver produces a lockfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Resolver {
    /// pip-tools' pip-compile: resolves only for the host's platform and Python.
    PipCompile,
    /// uv pip compile: cross-resolves for any target from any host.
    Uv,
}

/// Which preferred pins to drop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Upgrade {
    /// Keep every pin of the existing lockfile as a preference.
    #[default]
    None,
    /// Drop all preferences.
    All,
    /// Drop the preferences of these packages.
    Packages(Vec<String>),
}

/// One resolution to run.
#[derive(Debug, Clone)]
pub struct ResolveRequest<'a> {
    pub project: &'a Project,
    pub target: &'a Target,
    pub resolver: Resolver,
    /// Python version `X.Y` to resolve for.
    pub python_version: String,
    /// Folder holding requirements.in and any files it includes; it is copied, never written.
    pub source_dir: PathBuf,
    /// Text of the existing lockfile whose pins are preferred; `None` resolves afresh.
    pub preferences: Option<String>,
    pub upgrade: Upgrade,
}

/// A finished resolution.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The lockfile text, canonical header included, ready to be written.
    pub text: String,
    /// The same text parsed.
    pub lockfile: Lockfile,
}

/// Runs one resolution. A resolver failure is an external error (exit 3) whose message ends
/// with the resolver's last lines of output.
pub fn resolve(request: &ResolveRequest) -> Result<Resolution> {
    let _ = request;
    anyhow::bail!("resolution is not implemented yet")
}

/// Runs several resolutions in parallel, one thread each, returning results in request order.
pub fn resolve_all(requests: &[ResolveRequest]) -> Vec<Result<Resolution>> {
    requests.iter().map(resolve).collect()
}
