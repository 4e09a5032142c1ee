//! Placeholder until the command lands.

use anyhow::Result;

use crate::exit::Outcome;
use crate::project::Project;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_project: &Project, _args: Args) -> Result<Outcome> {
    anyhow::bail!("not implemented yet")
}
