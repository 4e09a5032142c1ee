//! Running a docker command with a bound on its run time and, for a login, a secret written to
//! its stdin.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::ecr::secret::Secret;
use crate::exit::ResultExt;

/// Exit status and captured output of a finished command.
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs a command with `stdin_secret` written to its stdin, and returns its output, or `None`
/// when it was still running after `timeout` and was killed. With `stream_stdout`, the
/// child's stdout goes straight to this process's stderr and is not captured.
pub(crate) fn run(
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
    use crate::ecr::docker_cli::command_line;

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
}
