//! `cargo xtask pull-ecr` against real components on loopback: the Docker daemon, moto's
//! server as the ECR API, and `docker-registry` instances with htpasswd auth that each test
//! starts on a free 127.0.0.1 port.
//!
//! moto's `GetAuthorizationToken` returns user `AWS` and password `123456789012-auth-token`, so
//! a registry whose htpasswd file contains that pair accepts moto's token. Every run gets dummy
//! AWS credentials, empty AWS config files, a temporary HOME and disabled instance metadata,
//! so nothing reads the user's settings or leaves loopback.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The password in moto's authorization token for its default account.
const MOTO_PASSWORD: &str = "123456789012-auth-token";
/// The raw token: base64 of `AWS:123456789012-auth-token`.
const MOTO_TOKEN: &str = "QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu";

/// A server process started by a test, killed when dropped.
struct Server {
    child: Child,
    address: String,
    _state: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(address: &str, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what} exited with {status} before listening on {address}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {address} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn have_program(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        common::skip_or_fail(&format!("`{name}` is not installed"));
    }
    found
}

/// Checks that the Docker daemon responds. If not, skips the test, or fails it under
/// XTASK_REQUIRE_SERVICES=1.
fn docker_daemon_up() -> bool {
    let up = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !up {
        common::skip_or_fail("the Docker daemon does not respond");
    }
    up
}

/// Starts `docker-registry` on a free port with htpasswd auth for `AWS` with `password`.
fn start_registry(password: &str) -> Option<Server> {
    if !have_program("docker-registry") || !have_program("htpasswd") {
        return None;
    }
    let state = tempfile::tempdir().unwrap();
    let htpasswd = state.path().join("htpasswd");
    let mut child = Command::new("htpasswd")
        .arg("-B")
        .arg("-i")
        .arg("-c")
        .arg(&htpasswd)
        .arg("AWS")
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "htpasswd failed");

    let address = format!("127.0.0.1:{}", free_port());
    let config = state.path().join("registry.yml");
    let text = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
         http:\n  addr: {address}\nauth:\n  htpasswd:\n    realm: xtask-test\n    path: {}\n",
        state.path().join("data").display(),
        htpasswd.display()
    );
    std::fs::write(&config, text).unwrap();
    let mut child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(&address, &mut child, "docker-registry");
    Some(Server { child, address, _state: state })
}

/// Starts moto's server on a free port; `no_auth_actions` turns on moto's IAM access control
/// after that many requests.
fn start_moto(no_auth_actions: Option<u32>) -> Option<Server> {
    if !have_program("moto_server") {
        return None;
    }
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = Command::new("moto_server");
    command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    command.current_dir(state.path()).stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(count) = no_auth_actions {
        command.env("INITIAL_NO_AUTH_ACTION_COUNT", count.to_string());
    }
    let mut child = command.spawn().unwrap();
    let address = format!("127.0.0.1:{port}");
    wait_for_port(&address, &mut child, "moto_server");
    Some(Server { child, address: format!("http://{address}"), _state: state })
}

/// Returns the shared moto endpoint that `.ci/services` exports.
fn shared_moto() -> Option<String> {
    common::service_env("XTASK_TEST_MOTO_ENDPOINT", "moto's server")
}

/// A hermetic environment for one xtask run.
struct Sandbox {
    home: TempDir,
    requirements: TempDir,
    aws_config: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let home = tempfile::tempdir().unwrap();
        let aws_config = home.path().join("aws-config");
        std::fs::write(&aws_config, "").unwrap();
        Sandbox { home, requirements: tempfile::tempdir().unwrap(), aws_config }
    }

    /// `xtask pull-ecr` with a clean environment: dummy credentials for `endpoint`, empty AWS
    /// config files, instance metadata off, and this sandbox as HOME.
    fn pull_ecr(&self, endpoint: &str) -> Command {
        let mut command = common::xtask();
        command.env_clear();
        command.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        if let Some(host) = std::env::var_os("DOCKER_HOST") {
            command.env("DOCKER_HOST", host);
        }
        command.env("HOME", self.home.path());
        command.env("AWS_CONFIG_FILE", &self.aws_config);
        command.env("AWS_SHARED_CREDENTIALS_FILE", &self.aws_config);
        command.env("AWS_EC2_METADATA_DISABLED", "true");
        command.env("AWS_ACCESS_KEY_ID", "testing");
        command.env("AWS_SECRET_ACCESS_KEY", "testing");
        command.env("AWS_REGION", "us-east-1");
        command.env("AWS_ENDPOINT_URL", endpoint);
        command.arg("--requirements-dir").arg(self.requirements.path());
        command.arg("pull-ecr");
        command
    }

    fn docker_config(&self) -> PathBuf {
        self.home.path().join(".docker")
    }
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command.stdin(Stdio::null()).output().unwrap();
    let text = format!(
        "exit: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(MOTO_PASSWORD), "the password leaked into the output");
    assert!(!text.contains(MOTO_TOKEN), "the raw token leaked into the output");
}

/// Runs docker with its own config folder, failing the test on a non-zero exit.
fn docker(config: &Path, args: &[&str]) -> String {
    let output = Command::new("docker").env("DOCKER_CONFIG", config).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Imports a one-file image, pushes it as `registry/repository:tag` with a login of its own,
/// removes it locally and returns its digest reference `registry/repository@sha256:...`.
fn push_test_image(registry: &Server, password: &str, repository: &str, tag: &str) -> String {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("docker-config");
    std::fs::create_dir(&config).unwrap();
    let rootfs = work.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    let stamp = format!("{repository}:{tag} {:?}", std::time::SystemTime::now());
    std::fs::write(rootfs.join("marker.txt"), stamp).unwrap();
    let archive = work.path().join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&rootfs)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar failed");

    let reference = format!("{}/{repository}:{tag}", registry.address);
    docker(&config, &["import", archive.to_str().unwrap(), &reference]);
    let mut login = Command::new("docker")
        .env("DOCKER_CONFIG", &config)
        .args(["login", "--username", "AWS", "--password-stdin", &registry.address])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    login.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    assert!(login.wait().unwrap().success(), "test login to {} failed", registry.address);
    docker(&config, &["push", &reference]);
    let digests =
        docker(&config, &["image", "inspect", "--format", "{{json .RepoDigests}}", &reference]);
    docker(&config, &["image", "rm", &reference]);

    let digests: Vec<String> = serde_json::from_str(&digests).unwrap();
    let prefix = format!("{}/{repository}@", registry.address);
    digests
        .into_iter()
        .find(|digest| digest.starts_with(&prefix))
        .expect("pushed image has a digest")
}

fn local_digests(reference: &str) -> Option<Vec<String>> {
    let output = Command::new("docker")
        .args(["image", "inspect", "--format", "{{json .RepoDigests}}", reference])
        .output()
        .unwrap();
    output.status.success().then(|| serde_json::from_slice(&output.stdout).unwrap())
}

fn remove_local(reference: &str) {
    let _ = Command::new("docker").args(["image", "rm", reference]).output();
}

#[test]
fn dry_run_contacts_nothing() {
    let sandbox = Sandbox::new();
    let unused = format!("http://127.0.0.1:{}", free_port());
    let (output, text) = run(sandbox
        .pull_ecr(&unused)
        .args(["--tag", "v1", "--registry", "127.0.0.1:5000", "--dry-run"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));

    assert_eq!(output.status.code(), Some(0), "{text}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("docker login --username AWS --password-stdin 127.0.0.1:5000"),
        "{text}"
    );
    assert!(stdout.contains("pull 127.0.0.1:5000/marqo-base:v1"), "{text}");
    assert!(stdout.contains("GetAuthorizationToken"), "{text}");
}

/// The dry run prints numbered steps, each followed by its command, as `build --dry-run` does.
#[test]
fn dry_run_prints_numbered_steps() {
    let sandbox = Sandbox::new();
    let unused = format!("http://127.0.0.1:{}", free_port());
    let (output, text) = run(sandbox
        .pull_ecr(&unused)
        .args(["--tag", "v1", "--registry", "127.0.0.1:5000", "--dry-run"]));

    assert_eq!(output.status.code(), Some(0), "{text}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "1. check that the Docker daemon responds", "{text}");
    assert_eq!(lines[1], "    docker version --format '{{.Server.Version}}'", "{text}");
    assert!(lines[2].starts_with("2. fetch an ECR authorization token"), "{text}");
    assert!(lines[3].starts_with("3. log in to 127.0.0.1:5000"), "{text}");
    assert_eq!(
        lines[4],
        "    DOCKER_CONFIG=TEMPORARY-DOCKER-CONFIG docker login --username AWS --password-stdin \
         127.0.0.1:5000",
        "{text}"
    );
    assert_eq!(lines[5], "    password: <from stdin>", "{text}");
    assert_eq!(lines[6], "4. pull 127.0.0.1:5000/marqo-base:v1", "{text}");
    assert_eq!(
        lines[7],
        "    DOCKER_CONFIG=TEMPORARY-DOCKER-CONFIG docker pull 127.0.0.1:5000/marqo-base:v1",
        "{text}"
    );
    assert!(lines[8].starts_with("5. "), "{text}");
    assert!(lines[9].starts_with("    docker image inspect "), "{text}");
    assert_eq!(lines.len(), 10, "{text}");
}

const ECR_HOST: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

#[test]
fn ecr_registry_sets_region_and_account() {
    let sandbox = Sandbox::new();
    let unused = format!("http://127.0.0.1:{}", free_port());
    let (output, text) =
        run(sandbox.pull_ecr(&unused).args(["--tag", "v1", "--registry", ECR_HOST, "--dry-run"]));

    assert_eq!(output.status.code(), Some(0), "{text}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("region: eu-west-1"), "AWS_REGION=us-east-1 is overridden: {text}");
    assert!(stdout.contains("registry: 123456789012"), "{text}");
}

#[test]
fn ecr_registry_rejects_contradictions() {
    let cases = [
        (["--region", "us-east-1"], "--region us-east-1", "region eu-west-1"),
        (["--registry-id", "210987654321"], "--registry-id 210987654321", "account 123456789012"),
    ];
    for (option, given, expected) in cases {
        let sandbox = Sandbox::new();
        let mut command = sandbox.pull_ecr("http://127.0.0.1:1");
        command.args(["--tag", "v1", "--registry", ECR_HOST, "--dry-run"]).args(option);
        let (output, text) = run(&mut command);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(text.contains(given), "{text}");
        assert!(text.contains(expected), "{text}");
        assert!(output.stdout.is_empty(), "{text}");
    }
}

#[test]
fn invalid_tag_exits_2() {
    let sandbox = Sandbox::new();
    let (output, text) = run(sandbox.pull_ecr("http://127.0.0.1:1").arg("--tag=-v1"));
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("invalid tag `-v1`"), "{text}");
    assert!(!text.contains("fetching"), "contacted AWS before validating: {text}");
}

#[test]
fn invalid_repository_exits_2() {
    let sandbox = Sandbox::new();
    let (output, text) = run(sandbox.pull_ecr("http://127.0.0.1:1").args([
        "--tag",
        "v1",
        "--repository",
        "Team/Marqo",
    ]));
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("invalid repository `Team/Marqo`"), "{text}");
    assert!(text.contains("lowercase"), "{text}");
}

#[test]
fn stopped_daemon_exits_3() {
    let sandbox = Sandbox::new();
    let (output, text) = run(sandbox
        .pull_ecr("http://127.0.0.1:1")
        .args(["--tag", "v1", "--registry", "127.0.0.1:5000"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("Docker daemon at DOCKER_HOST=unix:///nonexistent/docker.sock"), "{text}");
    assert!(text.contains("is not reachable"), "{text}");
    assert!(text.contains("Start it"), "{text}");
    assert!(!text.contains("fetching"), "contacted AWS before checking docker: {text}");
}

#[test]
fn unreachable_endpoint_fails_fast() {
    if !docker_daemon_up() {
        return;
    }
    let sandbox = Sandbox::new();
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let (output, text) =
        run(sandbox.pull_ecr(&endpoint).args(["--tag", "v1", "--registry", "127.0.0.1:5000"]));

    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("endpoint unreachable"), "{text}");
    assert!(text.contains(&endpoint), "{text}");
    assert!(started.elapsed() < Duration::from_secs(25), "took {:?}", started.elapsed());
}

#[test]
fn missing_credentials_reported() {
    if !docker_daemon_up() {
        return;
    }
    let sandbox = Sandbox::new();
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let (output, text) = run(sandbox
        .pull_ecr(&endpoint)
        .args(["--tag", "v1", "--registry", "127.0.0.1:5000"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY"));

    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("no AWS credentials found"), "{text}");
    assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
}

#[test]
fn moto_auth_errors_reported() {
    if !docker_daemon_up() {
        return;
    }
    // Two requests pass before moto's access control starts: creating a user and its key.
    let Some(moto) = start_moto(Some(2)) else { return };
    let script = format!(
        "import boto3\n\
         iam = boto3.client('iam', endpoint_url='{}', region_name='us-east-1',\n\
             aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         iam.create_user(UserName='no-permissions')\n\
         key = iam.create_access_key(UserName='no-permissions')['AccessKey']\n\
         print(key['AccessKeyId'], key['SecretAccessKey'])\n",
        moto.address
    );
    let keys = Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(keys.status.success(), "{}", String::from_utf8_lossy(&keys.stderr));
    let keys = String::from_utf8(keys.stdout).unwrap();
    let (key_id, secret) = keys.trim().split_once(' ').unwrap();
    let sandbox = Sandbox::new();

    let (output, text) =
        run(sandbox.pull_ecr(&moto.address).args(["--tag", "v1", "--registry", "127.0.0.1:5000"]));
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("access denied"), "{text}");
    assert!(text.contains("InvalidClientTokenId"), "{text}");
    assert!(text.contains("The security token included in the request is invalid"), "{text}");

    let (output, text) = run(sandbox
        .pull_ecr(&moto.address)
        .args(["--tag", "v1", "--registry", "127.0.0.1:5000"])
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret));
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("access denied"), "{text}");
    assert!(text.contains("AccessDenied"), "{text}");
    assert!(text.contains("ecr:GetAuthorizationToken"), "{text}");
    assert!(!text.contains(secret), "the secret access key leaked: {text}");
}

#[test]
fn pulls_pushed_image_with_digest() {
    if !docker_daemon_up() {
        return;
    }
    let Some(moto) = shared_moto() else { return };
    let Some(registry) = start_registry(MOTO_PASSWORD) else { return };
    let expected = push_test_image(&registry, MOTO_PASSWORD, "team/marqo-base", "pull-ok");
    let reference = format!("{}/team/marqo-base:pull-ok", registry.address);
    assert!(local_digests(&reference).is_none(), "the image is still present before the pull");
    let sandbox = Sandbox::new();

    let (output, text) = run(sandbox.pull_ecr(&moto).args([
        "--tag",
        "pull-ok",
        "--repository",
        "team/marqo-base",
        "--registry",
        &registry.address,
    ]));

    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected, "{text}");
    let digests = local_digests(&reference).expect("the pulled image is present");
    assert!(digests.contains(&expected), "{digests:?}");
    assert_no_secret(&text);
    let user_config = sandbox.docker_config().join("config.json");
    assert!(!user_config.exists(), "the login reached the user's Docker config");
    remove_local(&reference);
}

#[test]
fn keep_login_stores_in_user_config() {
    if !docker_daemon_up() {
        return;
    }
    let Some(moto) = shared_moto() else { return };
    let Some(registry) = start_registry(MOTO_PASSWORD) else { return };
    let expected = push_test_image(&registry, MOTO_PASSWORD, "marqo-base", "keep-login");
    let sandbox = Sandbox::new();

    let (output, text) = run(sandbox.pull_ecr(&moto).args([
        "--tag",
        "keep-login",
        "--registry",
        &registry.address,
        "--keep-login",
    ]));

    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected, "{text}");
    let config = std::fs::read_to_string(sandbox.docker_config().join("config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert!(config["auths"][&registry.address]["auth"].is_string(), "{config}");
    remove_local(&format!("{}/marqo-base:keep-login", registry.address));
}

#[test]
fn wrong_password_rejected_without_leak() {
    if !docker_daemon_up() {
        return;
    }
    let Some(moto) = shared_moto() else { return };
    let Some(registry) = start_registry("a-different-registry-password") else { return };
    let sandbox = Sandbox::new();

    let (output, text) = run(sandbox.pull_ecr(&moto).args([
        "--verbose",
        "--tag",
        "v1",
        "--registry",
        &registry.address,
    ]));

    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("login rejected"), "{text}");
    assert!(text.contains(&registry.address), "{text}");
    assert_no_secret(&text);
}

#[test]
fn missing_tag_reports_not_found() {
    if !docker_daemon_up() {
        return;
    }
    let Some(moto) = shared_moto() else { return };
    let Some(registry) = start_registry(MOTO_PASSWORD) else { return };
    let sandbox = Sandbox::new();

    let (output, text) = run(sandbox.pull_ecr(&moto).args([
        "--tag",
        "no-such-tag",
        "--registry",
        &registry.address,
    ]));

    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("image not found"), "{text}");
    assert!(text.contains(&format!("{}/marqo-base:no-such-tag", registry.address)), "{text}");
    assert_no_secret(&text);
}

/// A `docker` wrapper first on PATH records each invocation's argv and environment, then
/// runs the real docker, so the log records exactly what docker received during the login.
#[test]
fn password_never_in_docker_argv() {
    if !docker_daemon_up() {
        return;
    }
    let Some(moto) = shared_moto() else { return };
    let Some(registry) = start_registry(MOTO_PASSWORD) else { return };
    let expected = push_test_image(&registry, MOTO_PASSWORD, "marqo-base", "argv");
    let sandbox = Sandbox::new();

    let real_docker = Command::new("sh").args(["-c", "command -v docker"]).output().unwrap();
    let real_docker = String::from_utf8(real_docker.stdout).unwrap().trim().to_string();
    let bin = sandbox.home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = sandbox.home.path().join("docker-calls.log");
    let wrapper = format!(
        "#!/bin/sh\n\
         {{ printf 'argv:'; printf ' %s' \"$@\"; printf '\\n'; env | sed 's/^/env: /'; \
         ps -eo args | sed 's/^/ps: /'; }} >> '{}'\n\
         exec '{real_docker}' \"$@\"\n",
        log.display()
    );
    std::fs::write(bin.join("docker"), wrapper).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(bin.join("docker")).status().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let (output, text) = run(sandbox.pull_ecr(&moto).env("PATH", path).args([
        "--verbose",
        "--tag",
        "argv",
        "--registry",
        &registry.address,
    ]));

    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected, "{text}");
    let calls = std::fs::read_to_string(&log).unwrap();
    let login = format!("argv: login --username AWS --password-stdin {}", registry.address);
    assert!(calls.lines().any(|line| line == login), "no login call recorded:\n{calls}");
    assert!(calls.contains("argv: pull "), "no pull call recorded:\n{calls}");
    assert!(calls.lines().any(|line| line.starts_with("ps: ")), "no process list recorded");
    assert!(!calls.contains(MOTO_PASSWORD), "the password reached docker's argv or environment");
    assert!(!calls.contains(MOTO_TOKEN), "the raw token reached docker's argv or environment");
    assert_no_secret(&text);
    remove_local(&format!("{}/marqo-base:argv", registry.address));
}

/// Docker CLI 28 stores logins with docker-credential-secretservice (or -pass) when one is on
/// PATH and the config names no credentials, which would keep the password after the run.
#[test]
fn platform_credential_helper_bypassed() {
    if !docker_daemon_up() {
        return;
    }
    let Some(moto) = shared_moto() else { return };
    let Some(registry) = start_registry(MOTO_PASSWORD) else { return };
    let expected = push_test_image(&registry, MOTO_PASSWORD, "marqo-base", "helper");
    let sandbox = Sandbox::new();

    let bin = sandbox.home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = sandbox.home.path().join("helper-calls.log");
    for helper in ["docker-credential-secretservice", "docker-credential-pass"] {
        let script =
            format!("#!/bin/sh\necho \"{helper} $*\" >> '{}'\ncat > /dev/null\n", log.display());
        std::fs::write(bin.join(helper), script).unwrap();
        Command::new("chmod").arg("+x").arg(bin.join(helper)).status().unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let (output, text) = run(sandbox.pull_ecr(&moto).env("PATH", path).args([
        "--tag",
        "helper",
        "--registry",
        &registry.address,
    ]));

    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected, "{text}");
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!calls.contains(" store"), "a credential helper stored the login:\n{calls}");
    remove_local(&format!("{}/marqo-base:helper", registry.address));
}
