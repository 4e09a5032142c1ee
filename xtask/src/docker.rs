//! The docker CLI: commands built as plain argument lists, the checks that docker, buildx and a
//! reachable daemon exist (shared by `build`, `pull-ecr` and `doctor`), and `imagetools inspect`
//! output parsing.
//!
//! Every command is built by a function that returns a [`DockerCommand`] without running it, so
//! that unit tests can assert the exact argv and `--dry-run` can print it. No command built here
//! carries a secret: logins pass the password on stdin.

mod process;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use xshell::{Cmd, Shell};

use crate::exit::{external, ResultExt};

pub(crate) use process::run;

/// Bound on `docker version`, which waits on an unreachable `DOCKER_HOST`.
pub(crate) const DAEMON_CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// One `docker` invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerCommand {
    /// Arguments after `docker`.
    pub args: Vec<String>,
}

impl DockerCommand {
    pub fn new<I, S>(args: I) -> DockerCommand
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DockerCommand { args: args.into_iter().map(Into::into).collect() }
    }

    /// The command as an xshell [`Cmd`] that does not echo itself: callers print
    /// [`DockerCommand`]'s shell-quoted form instead.
    pub fn to_cmd<'a>(&self, sh: &'a Shell) -> Cmd<'a> {
        sh.cmd("docker").args(&self.args).quiet()
    }

    /// Runs the command with its output streaming to stderr, so that stdout stays free for
    /// reports.
    pub fn run_streaming(&self, sh: &Shell) -> Result<()> {
        let mut command: std::process::Command = self.to_cmd(sh).into();
        command.stdout(std::io::stderr());
        let status = command
            .status()
            .with_context(|| format!("cannot run `{self}`"))
            .external_context("docker failed to start")?;
        if !status.success() {
            return Err(external(format!("`{self}` failed ({status})")));
        }
        Ok(())
    }

    /// Runs the command and returns its stdout; stderr streams through.
    pub fn read(&self, sh: &Shell) -> Result<String> {
        self.to_cmd(sh).read().map_err(|err| external(format!("`{self}` failed: {err}")))
    }
}

/// Shows the command as a shell would need it typed, quoting arguments that need it.
impl fmt::Display for DockerCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("docker")?;
        for arg in &self.args {
            write!(f, " {}", shell_quote(arg))?;
        }
        Ok(())
    }
}

/// Quotes an argument for a POSIX shell, leaving common safe arguments bare.
pub fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if safe {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `docker version` limited to the daemon's version: it fails when the daemon is unreachable.
pub fn daemon_version_command() -> DockerCommand {
    DockerCommand::new(["version", "--format", "{{.Server.Version}}"])
}

pub fn buildx_version_command() -> DockerCommand {
    DockerCommand::new(["buildx", "version"])
}

/// The description of the daemon check in a dry run's steps.
pub const DAEMON_CHECK: &str = "check that the Docker daemon responds";

/// Returns the commands [`check_available`] runs, in order, each with its description.
pub fn availability_checks() -> Vec<(&'static str, DockerCommand)> {
    vec![
        (DAEMON_CHECK, daemon_version_command()),
        ("check that the docker buildx plugin is installed", buildx_version_command()),
    ]
}

/// Checks that the docker CLI is on `PATH`, that its daemon responds and that the buildx plugin
/// is installed. Each failure is an external error (exit 3) that says how to fix it.
pub fn check_available(sh: &Shell, verbose: bool) -> Result<()> {
    let docker = find_cli()?;
    if verbose {
        eprintln!("using {}", docker.display());
    }

    let version = check_daemon(&docker)?;
    if verbose {
        eprintln!("Docker daemon {version}");
    }

    let buildx = buildx_version_command();
    let output = buildx.to_cmd(sh).ignore_status().output().external_context("cannot run docker")?;
    if !output.status.success() {
        return Err(external(
            "the docker buildx plugin is not installed; install it (Debian trixie and later: \
             `apt-get install docker-buildx`; Docker's own packages: docker-buildx-plugin; see \
             https://docs.docker.com/go/buildx/)",
        ));
    }
    if verbose {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout).trim());
    }
    Ok(())
}

/// Finds the docker CLI on `PATH`. A missing CLI is an external error (exit 3) whose message
/// names the package to install.
pub fn find_cli() -> Result<PathBuf> {
    which::which("docker").map_err(|_| {
        external(
            "the docker CLI was not found on PATH; install Docker Engine (Debian and Ubuntu: \
             `apt-get install docker.io`; other systems: https://docs.docker.com/engine/install/)",
        )
    })
}

/// Checks that the daemon of the docker CLI at `program` responds to
/// [`daemon_version_command`] within [`DAEMON_CHECK_TIMEOUT`], and returns the daemon's version.
/// Each failure is an external error (exit 3) whose message names the fix.
pub fn check_daemon(program: &Path) -> Result<String> {
    let mut command = Command::new(program);
    command.args(&daemon_version_command().args);
    let host = std::env::var("DOCKER_HOST")
        .map_or_else(|_| "the default socket".to_string(), |host| format!("DOCKER_HOST={host}"));

    let Some(finished) = run(&mut command, None, false, DAEMON_CHECK_TIMEOUT)? else {
        return Err(external(format!(
            "the Docker daemon at {host} did not respond within {} s; check DOCKER_HOST and the \
             current docker context",
            DAEMON_CHECK_TIMEOUT.as_secs()
        )));
    };
    let version = finished.stdout.trim();
    if !finished.status.success() || version.is_empty() {
        let detail = last_line(&finished.stderr);
        return Err(external(format!(
            "the Docker daemon at {host} is not reachable: {detail}\nStart it (`systemctl start \
             docker`, or `.ci/services` on a test machine) or point DOCKER_HOST at a running \
             daemon"
        )));
    }
    Ok(version.to_string())
}

/// Returns the last non-empty line of a program's output, where docker writes its error.
pub(crate) fn last_line(output: &str) -> &str {
    output.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or("no output")
}

/// `imagetools inspect` printing the manifest (or manifest list) descriptor as JSON.
pub fn imagetools_inspect_command(reference: &str) -> DockerCommand {
    DockerCommand::new(["buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}", reference])
}

/// What `imagetools inspect --format '{{json .Manifest}}'` reports about a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub digest: String,
    /// Platforms (`linux/arm64`) of a manifest list's entries; empty for a single manifest.
    pub platforms: Vec<String>,
}

/// Parses the JSON that [`imagetools_inspect_command`] prints.
pub fn parse_manifest(json: &str) -> Result<Manifest> {
    let value: serde_json::Value =
        serde_json::from_str(json).context("imagetools inspect printed invalid JSON")?;
    let digest = value["digest"]
        .as_str()
        .context("imagetools inspect printed no digest")?
        .to_string();

    let mut platforms = Vec::new();
    for entry in value["manifests"].as_array().into_iter().flatten() {
        let platform = &entry["platform"];
        let os = platform["os"].as_str().unwrap_or("unknown");
        let architecture = platform["architecture"].as_str().unwrap_or("unknown");
        let mut name = format!("{os}/{architecture}");
        if let Some(variant) = platform["variant"].as_str() {
            name = format!("{name}/{variant}");
        }
        platforms.push(name);
    }
    Ok(Manifest { digest, platforms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_when_needed() {
        let command = DockerCommand::new(["buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}", "r:1"]);
        assert_eq!(command.to_string(), "docker buildx imagetools inspect --format '{{json .Manifest}}' r:1");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("KEY=a,b"), "KEY=a,b");
    }

    #[test]
    fn availability_commands_argv() {
        let checks = availability_checks();
        assert_eq!(checks[0].1.args, ["version", "--format", "{{.Server.Version}}"]);
        assert_eq!(checks[1].1.args, ["buildx", "version"]);
    }

    #[test]
    fn parse_manifest_list_platforms() {
        let json = r#"{
          "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
          "digest": "sha256:07c6",
          "manifests": [
            {"digest": "sha256:8d97", "platform": {"architecture": "amd64", "os": "linux"}},
            {"digest": "sha256:0a0f", "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
          ]
        }"#;
        let manifest = parse_manifest(json).unwrap();
        assert_eq!(manifest.digest, "sha256:07c6");
        assert_eq!(manifest.platforms, ["linux/amd64", "linux/arm64/v8"]);
    }

    #[test]
    fn parse_single_manifest() {
        let json = r#"{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": "sha256:0a0f", "size": 523}"#;
        let manifest = parse_manifest(json).unwrap();
        assert_eq!(manifest.digest, "sha256:0a0f");
        assert!(manifest.platforms.is_empty());
    }

    #[test]
    fn parse_manifest_rejects_missing_digest() {
        assert!(parse_manifest("{}").is_err());
        assert!(parse_manifest("not json").is_err());
    }

    #[test]
    fn error_line_is_last_nonempty() {
        let stderr = "Client: 28.2.2\nCannot connect to the Docker daemon at unix:///x.sock\n\n";
        assert_eq!(last_line(stderr), "Cannot connect to the Docker daemon at unix:///x.sock");
    }

    #[test]
    fn last_line_skips_blank_lines() {
        assert_eq!(last_line("a\nError: denied\n\n"), "Error: denied");
        assert_eq!(last_line(""), "no output");
    }
}
