//! `cargo xtask doctor`: which tools and services are present, in which versions, and what
//! to do about those that are missing. It changes nothing and provisions nothing.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::docker;
use crate::exit::Outcome;
use crate::project::{display_path, Project};
use crate::tools;

#[derive(clap::Args, Debug)]
pub struct Args {}

/// One line of the report.
struct Check {
    name: &'static str,
    found: Option<String>,
    /// Advice for when the tool is missing.
    advice: String,
    /// A remark on what was found, such as a version that differs from the pin.
    remark: String,
}

pub fn run(project: &Project, _args: Args) -> Result<Outcome> {
    let checks = vec![
        python(),
        pip_compile(project),
        uv(project),
        docker_client(),
        docker_daemon(),
        buildx(),
    ];

    println!("target table: {} ({} targets: {})", display_path(&project.root.join("Cargo.toml")), project.table.targets.len(), project.table.names().join(", "));
    println!("requirements: {}", display_path(&project.requirements_dir));
    for check in &checks {
        match &check.found {
            Some(found) => println!("ok       {:<12} {found}{}", check.name, suffix(&check.remark)),
            None => println!("missing  {:<12} {}", check.name, check.advice),
        }
    }
    Ok(Outcome::Success)
}

fn suffix(advice: &str) -> String {
    if advice.is_empty() {
        String::new()
    } else {
        format!(" ({advice})")
    }
}

fn python() -> Check {
    let found = which::which("python3").ok().and_then(|path| {
        tools::python_version(&path).map(|version| format!("Python {version} at {}", path.display()))
    });
    Check {
        name: "python3",
        found,
        advice: "install Python 3 with venv and pip; the xtask provisions pip-tools and uv with it"
            .into(),
        remark: String::new(),
    }
}

fn pip_compile(project: &Project) -> Check {
    let pinned = &project.table.tools.pip_tools;
    let found = which::which("pip-compile").ok().and_then(|path| version_of(&path, "--version"));
    let remark = match &found {
        Some(found) if !found.ends_with(pinned.as_str()) => {
            format!("not the pinned {pinned}; compile provisions that one under target/xtask/tools")
        }
        _ => String::new(),
    };
    let advice = format!("compile provisions pip-tools {pinned} under target/xtask/tools when needed");
    Check { name: "pip-compile", found, advice, remark }
}

fn uv(project: &Project) -> Check {
    let pinned = &project.table.tools.uv;
    let found = which::which("uv").ok().and_then(|path| version_of(&path, "--version"));
    let remark = match &found {
        Some(found) if !found.contains(pinned.as_str()) => {
            format!("not the pinned {pinned}; compile provisions that one under target/xtask/tools")
        }
        _ => String::new(),
    };
    let advice = format!("compile provisions uv {pinned} under target/xtask/tools when needed");
    Check { name: "uv", found, advice, remark }
}

fn docker_client() -> Check {
    let found = which::which("docker").ok().and_then(|path| version_of(&path, "--version"));
    Check { name: "docker", found, advice: "install Docker Engine (the docker.io package on Debian)".into(), remark: String::new() }
}

fn docker_daemon() -> Check {
    let version = docker::find_cli().and_then(|program| docker::check_daemon(&program));
    let found = version.ok().map(|version| format!("engine {version}"));
    Check { name: "dockerd", found, advice: "start the Docker daemon (dockerd) or set DOCKER_HOST".into(), remark: String::new() }
}

fn buildx() -> Check {
    let output = Command::new("docker").args(&docker::buildx_version_command().args).output();
    let found = match output {
        Ok(output) if output.status.success() => Some(String::from_utf8_lossy(&output.stdout).trim().to_string()),
        _ => None,
    };
    Check { name: "buildx", found, advice: "install the docker buildx plugin (docker-buildx)".into(), remark: String::new() }
}

fn version_of(program: &Path, flag: &str) -> Option<String> {
    let output = Command::new(program).arg(flag).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    output.status.success().then(|| text.trim().to_string())
}
