//! The docker commands of a login and a pull. Each command is built by a function that returns
//! it without running it, so tests can check the exact argv.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Result;

use super::secret::Secret;
use crate::docker::{self, last_line, run, shell_quote, DAEMON_CHECK_TIMEOUT};
use crate::exit::{external, ResultExt};

/// Bound on `docker login`, which contacts the registry.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(120);

/// Output fragments of docker and the registry that mean the credentials were rejected.
const REJECTED_LOGIN: &[&str] =
    &["unauthorized", "401", "incorrect username or password", "authentication required"];
/// Output fragments that mean a host could not be reached.
const UNREACHABLE: &[&str] = &[
    "connection refused",
    "no such host",
    "i/o timeout",
    "timeout exceeded",
    "network is unreachable",
    "tls handshake timeout",
    "server gave http response to https client",
];
/// Output fragments of `docker pull` that mean the repository or tag does not exist.
const NOT_FOUND: &[&str] =
    &["manifest unknown", "not found", "repository does not exist", "name unknown"];
/// Output fragments of `docker pull` that mean the registry refused access.
const PULL_DENIED: &[&str] = &["denied", "unauthorized", "no basic auth credentials"];
/// Output fragment of the docker CLI when it cannot reach the daemon.
const DAEMON_DOWN: &str = "cannot connect to the docker daemon";

/// The docker CLI found on `PATH`.
#[derive(Debug, Clone)]
pub(crate) struct Docker {
    pub program: PathBuf,
}

impl Docker {
    /// Finds `docker` on `PATH`.
    pub(crate) fn find() -> Result<Docker> {
        Ok(Docker { program: docker::find_cli()? })
    }

    /// Builds `docker login`, which reads the password from stdin.
    pub(crate) fn login_command(&self, config_dir: &Path, user: &str, host: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.env("DOCKER_CONFIG", config_dir);
        command.args(["login", "--username", user, "--password-stdin", host]);
        command
    }

    pub(crate) fn pull_command(&self, config_dir: &Path, reference: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.env("DOCKER_CONFIG", config_dir);
        command.args(["pull", reference]);
        command
    }

    pub(crate) fn repo_digests_command(&self, reference: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.args(["image", "inspect", "--format", "{{json .RepoDigests}}", reference]);
        command
    }

    pub(crate) fn login(
        &self,
        config_dir: &Path,
        host: &str,
        user: &str,
        password: &Secret,
        verbose: bool,
    ) -> Result<()> {
        let mut command = self.login_command(config_dir, user, host);
        echo(&command, verbose);
        let finished = run(&mut command, Some(password), false, LOGIN_TIMEOUT)?;
        let Some(finished) = finished else {
            return Err(external(format!(
                "docker login to {host} timed out after {} s; check that the registry is \
                 reachable",
                LOGIN_TIMEOUT.as_secs()
            )));
        };
        let output = password.redact(&format!("{}\n{}", finished.stdout, finished.stderr));
        if verbose {
            eprint!("{}", password.redact(&finished.stderr));
        }
        if finished.status.success() {
            return Ok(());
        }

        let message = last_line(&output);
        let lower = output.to_lowercase();
        if lower.contains(DAEMON_DOWN) {
            return Err(external(format!(
                "docker login to {host} failed because the Docker daemon is not running: \
                 {message}; start dockerd or check DOCKER_HOST"
            )));
        }
        if REJECTED_LOGIN.iter().any(|fragment| lower.contains(fragment)) {
            return Err(external(format!(
                "login rejected: the registry {host} did not accept the ECR token for user \
                 {user}: {message}; check that the token's account and region match the \
                 registry (--registry, --registry-id, --region, --profile)"
            )));
        }
        if UNREACHABLE.iter().any(|fragment| lower.contains(fragment)) {
            return Err(external(format!(
                "registry unreachable: docker login cannot connect to {host}: {message}; check \
                 the registry host and port, and the network"
            )));
        }
        Err(external(format!("docker login to {host} failed: {message}")))
    }

    /// Runs `docker pull`. Docker's progress goes to stderr, so stdout stays free for the
    /// digest.
    pub(crate) fn pull(&self, config_dir: &Path, reference: &str, verbose: bool) -> Result<()> {
        let mut command = self.pull_command(config_dir, reference);
        echo(&command, verbose);
        let finished = run(&mut command, None, true, Duration::MAX)?
            .expect("a command without timeout finishes");
        if finished.status.success() {
            return Ok(());
        }

        let message = last_line(&finished.stderr);
        let lower = finished.stderr.to_lowercase();
        if lower.contains(DAEMON_DOWN) {
            return Err(external(format!(
                "docker pull {reference} failed because the Docker daemon is not running: \
                 {message}; start dockerd or check DOCKER_HOST"
            )));
        }
        if NOT_FOUND.iter().any(|fragment| lower.contains(fragment)) {
            return Err(external(format!(
                "image not found: {reference} does not exist in the registry: {message}; \
                 check --tag and --repository"
            )));
        }
        if PULL_DENIED.iter().any(|fragment| lower.contains(fragment)) {
            return Err(external(format!(
                "access denied: the registry refused to send {reference}: {message}; check \
                 that the AWS credentials allow ecr:BatchGetImage and \
                 ecr:GetDownloadUrlForLayer on the repository"
            )));
        }
        if UNREACHABLE.iter().any(|fragment| lower.contains(fragment)) {
            return Err(external(format!(
                "registry unreachable: docker pull {reference} failed: {message}; check the \
                 registry host and port, and the network"
            )));
        }
        Err(external(format!("docker pull {reference} failed: {message}")))
    }

    /// Returns the digest reference (`REPOSITORY@sha256:...`) of a local image for the
    /// repository of `reference`, which is `name:tag`.
    pub(crate) fn repo_digest(&self, reference: &str, verbose: bool) -> Result<String> {
        let mut command = self.repo_digests_command(reference);
        echo(&command, verbose);
        let finished = run(&mut command, None, false, DAEMON_CHECK_TIMEOUT)?;
        let Some(finished) = finished.filter(|finished| finished.status.success()) else {
            return Err(external(format!(
                "docker image inspect {reference} failed after the pull; run it by hand to see \
                 why"
            )));
        };
        let digests: Vec<String> = serde_json::from_str(finished.stdout.trim())
            .external_context(format!("docker image inspect {reference} returned no JSON list"))?;
        let repository = reference.rsplit_once(':').map_or(reference, |(name, _)| name);
        let prefix = format!("{repository}@");
        digests.into_iter().find(|digest| digest.starts_with(&prefix)).ok_or_else(|| {
            external(format!(
                "the pulled image {reference} has no digest for {repository}; the registry \
                 sent no manifest digest"
            ))
        })
    }
}

/// Prints a command as a shell line on stderr: its `DOCKER_CONFIG`, program and argv. No
/// command of this module carries a secret in its environment or argv.
pub(crate) fn echo(command: &Command, verbose: bool) {
    if verbose {
        eprintln!("$ {}", command_line(command));
    }
}

/// Renders a command as one shell-like line.
pub(crate) fn command_line(command: &Command) -> String {
    let mut words = Vec::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            words.push(format!("{}={}", key.to_string_lossy(), quote(value)));
        }
    }
    words.push(quote(command.get_program()));
    words.extend(command.get_args().map(quote));
    words.join(" ")
}

fn quote(word: &OsStr) -> String {
    shell_quote(&word.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docker() -> Docker {
        Docker { program: PathBuf::from("docker") }
    }

    fn argv(command: &Command) -> Vec<String> {
        command.get_args().map(|arg| arg.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn login_command_reads_password_from_stdin() {
        let command = docker().login_command(Path::new("/tmp/cfg"), "AWS", "127.0.0.1:5000");
        assert_eq!(
            argv(&command),
            ["login", "--username", "AWS", "--password-stdin", "127.0.0.1:5000"]
        );
        let envs: Vec<_> = command.get_envs().collect();
        assert_eq!(envs, [(OsStr::new("DOCKER_CONFIG"), Some(OsStr::new("/tmp/cfg")))]);
        assert_eq!(
            command_line(&command),
            "DOCKER_CONFIG=/tmp/cfg docker login --username AWS --password-stdin 127.0.0.1:5000"
        );
    }

    #[test]
    fn pull_and_inspect_commands() {
        let pull = docker().pull_command(Path::new("/tmp/cfg"), "reg.io/marqo-base:v1");
        assert_eq!(argv(&pull), ["pull", "reg.io/marqo-base:v1"]);
        let inspect = docker().repo_digests_command("reg.io/marqo-base:v1");
        assert_eq!(
            argv(&inspect),
            ["image", "inspect", "--format", "{{json .RepoDigests}}", "reg.io/marqo-base:v1"]
        );
        assert_eq!(
            command_line(&inspect),
            "docker image inspect --format '{{json .RepoDigests}}' reg.io/marqo-base:v1"
        );
    }
}
