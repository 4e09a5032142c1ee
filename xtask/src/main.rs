//! `cargo xtask`: keeps the marqo-base image's per-architecture Python lockfiles pinned,
//! reproducible and checked, builds the multi-platform image and pulls it from Amazon ECR.
//!
//! Every command reads the target table in the workspace `Cargo.toml`
//! (`[workspace.metadata.xtask]`). Reports go to stdout, progress and logs to stderr, and the
//! exit code names the category of failure (see [`exit::Category`]).

mod build;
mod check_converged;
mod compile;
mod converge;
mod docker;
mod doctor;
mod dry_run;
mod ecr;
mod exit;
mod files;
mod progress;
mod project;
mod pull_ecr;
mod reference;
mod report;
mod requirements;
mod resolve;
mod targets;
mod tools;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::project::Project;

#[derive(Parser)]
#[command(name = "cargo xtask", version, about, propagate_version = true)]
struct Cli {
    /// Folder holding requirements.in and the lockfiles named by the target table
    /// [default: requirements/ at the repository root]
    #[arg(long, global = true, value_name = "DIR")]
    requirements_dir: Option<PathBuf>,

    /// Print the commands the xtask runs and more detail about each step
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve requirements.in into each target's lockfile
    Compile(compile::Args),
    /// Check requirements.in against every lockfile, offline and marker-aware
    Validate(validate::Args),
    /// Re-resolve each target afresh and compare with its committed lockfile
    CheckConverged(check_converged::Args),
    /// Compile, pin drifted transitive dependencies and repeat until nothing changes
    Converge(converge::Args),
    /// Build the image with docker buildx, one platform or several merged into one manifest list
    Build(build::Args),
    /// Log in to Amazon ECR through the AWS SDK and pull an image
    PullEcr(pull_ecr::Args),
    /// Show which tools and services are present and what is missing
    Doctor(doctor::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => exit::report_error(&err),
    }
}

fn run(cli: Cli) -> anyhow::Result<exit::Outcome> {
    let project = Project::discover(cli.requirements_dir, cli.verbose)?;
    match cli.command {
        Command::Compile(args) => compile::run(&project, args),
        Command::Validate(args) => validate::run(&project, args),
        Command::CheckConverged(args) => check_converged::run(&project, args),
        Command::Converge(args) => converge::run(&project, args),
        Command::Build(args) => build::run(&project, args),
        Command::PullEcr(args) => pull_ecr::run(&project, args),
        Command::Doctor(args) => doctor::run(&project, args),
    }
}
