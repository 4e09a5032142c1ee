//! Placeholder until the command lands.

use std::path::Path;

use anyhow::Result;

use crate::exit::Outcome;
use crate::project::Project;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_project: &Project, _args: Args) -> Result<Outcome> {
    anyhow::bail!("not implemented yet")
}

/// Runs every static check and returns whether any finding is an error, after printing the
/// findings as text on stderr. `build` calls this before building.
pub fn check_before_build(project: &Project, dockerfile: &Path) -> Result<bool> {
    let _ = (project, dockerfile);
    Ok(true)
}
