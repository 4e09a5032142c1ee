//! The docker commands of a login and a pull. Each command is built by a function that returns
//! it without running it, so tests can check the exact argv.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::secret::Secret;
use crate::exit::{external, ResultExt};

/// Bound on `docker version`, which waits on an unreachable `DOCKER_HOST`.
const DAEMON_CHECK_TIMEOUT: Duration = Duration::from_secs(30);
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

/// Exit status and captured output of a finished command.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Docker {
    /// Finds `docker` on `PATH`.
    pub(crate) fn find() -> Result<Docker> {
        let program = which::which("docker").map_err(|_| {
            external(
                "docker not found on PATH: install the Docker CLI (the docker.io package on \
                 Debian) and start its daemon",
            )
        })?;
        Ok(Docker { program })
    }

    pub(crate) fn version_command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(["version", "--format", "{{.Server.Version}}"]);
        command
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

    /// Checks that the daemon responds and returns its version.
    pub(crate) fn check_daemon(&self, verbose: bool) -> Result<String> {
        let mut command = self.version_command();
        echo(&command, verbose);
        let finished = run(&mut command, None, false, DAEMON_CHECK_TIMEOUT)?;
        let Some(finished) = finished else {
            return Err(external(format!(
                "the Docker daemon did not respond within {} s; check DOCKER_HOST and the \
                 current docker context",
                DAEMON_CHECK_TIMEOUT.as_secs()
            )));
        };
        let version = finished.stdout.trim();
        if !finished.status.success() || version.is_empty() {
            return Err(external(format!(
                "the Docker daemon is not running or not reachable: {}; start dockerd (or \
                 Docker Desktop), or check DOCKER_HOST and the current docker context",
                last_line(&finished.stderr)
            )));
        }
        Ok(version.to_string())
    }

    /// Runs `docker login` with the password on stdin.
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
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Returns the last non-empty line of a program's output, where docker writes its error.
fn last_line(output: &str) -> &str {
    output.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or("no output")
}

/// Runs a command with `stdin_secret` written to its stdin, and returns its output, or `None`
/// when it was still running after `timeout` and was killed. With `stream_stdout`, the
/// child's stdout goes straight to this process's stderr and is not captured.
fn run(
    command: &mut Command,
    stdin_secret: Option<&Secret>,
    stream_stdout: bool,
    timeout: Duration,
) -> Result<Option<Finished>> {
    command.stdin(if stdin_secret.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(if stream_stdout { Stdio::from(std::io::stderr()) } else { Stdio::piped() });
    command.stderr(Stdio::piped());
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command.spawn().external_context(format!("cannot run {program}"))?;

    let stdout = child.stdout.take().map(spawn_reader);
    let stderr = child.stderr.take().map(spawn_reader);
    if let (Some(secret), Some(mut stdin)) = (stdin_secret, child.stdin.take()) {
        // A failed write means the child exited early, and its status and output tell why.
        // Dropping `stdin` closes the pipe, so the child reads the password up to EOF.
        let _ = stdin.write_all(secret.expose().as_bytes());
    }

    let deadline = Instant::now().checked_add(timeout);
    let status = loop {
        if let Some(status) = child.try_wait().external_context(format!("waiting for {program}"))? {
            break status;
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    };

    let collect = |reader: Option<std::thread::JoinHandle<String>>| {
        reader.map(|handle| handle.join().unwrap_or_default()).unwrap_or_default()
    };
    Ok(Some(Finished { status, stdout: collect(stdout), stderr: collect(stderr) }))
}

fn spawn_reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
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
        assert_eq!(
            argv(&docker().version_command()),
            ["version", "--format", "{{.Server.Version}}"]
        );
    }

    #[test]
    fn run_writes_secret_to_stdin_only() {
        let secret = Secret::new("s3cr3t".to_string());
        let mut command = Command::new("sh");
        command.args(["-c", "read -r line; echo \"got $line\"; echo \"argv: $0 $*\" >&2"]);
        let finished =
            run(&mut command, Some(&secret), false, Duration::from_secs(10)).unwrap().unwrap();
        assert!(finished.status.success());
        assert_eq!(finished.stdout, "got s3cr3t\n");
        assert!(!finished.stderr.contains("s3cr3t"), "{}", finished.stderr);
        assert!(!command_line(&command).contains("s3cr3t"));
    }

    #[test]
    fn run_kills_command_after_timeout() {
        let mut command = Command::new("sleep");
        command.arg("5");
        let started = Instant::now();
        let finished = run(&mut command, None, false, Duration::from_millis(200)).unwrap();
        assert!(finished.is_none());
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn last_line_skips_blank_lines() {
        assert_eq!(last_line("a\nError: denied\n\n"), "Error: denied");
        assert_eq!(last_line(""), "no output");
    }
}
