//! `cargo xtask build` against the real docker CLI, dockerd and an htpasswd registry on
//! loopback, using the fixture context in `tests/fixtures/build`.
//!
//! The registry comes from `XTASK_TEST_REGISTRY`, `XTASK_TEST_REGISTRY_USER` and
//! `XTASK_TEST_REGISTRY_PASSWORD_FILE` (written by `.ci/services`). Each test logs in with its own
//! temporary `DOCKER_CONFIG` and pushes to a repository of its own.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tempfile::TempDir;

fn fixture() -> PathBuf {
    common::repo_root().join("xtask/tests/fixtures/build")
}

fn invalid_requirements() -> PathBuf {
    common::repo_root().join("xtask/tests/fixtures/build-invalid/requirements")
}

/// `xtask build` on the fixture context, with no tag from the environment.
fn build(requirements_dir: &Path, args: &[&str]) -> Command {
    build_in(&fixture(), requirements_dir, args)
}

/// `xtask build` with the fixture Dockerfile on the given context, with no tag from the
/// environment.
fn build_in(context: &Path, requirements_dir: &Path, args: &[&str]) -> Command {
    let mut command = common::xtask();
    command
        .arg("--requirements-dir")
        .arg(requirements_dir)
        .arg("build")
        .arg("--file")
        .arg(fixture().join("Dockerfile"))
        .arg("--context")
        .arg(context)
        .args(args)
        .env_remove("GITHUB_RUN_NUMBER")
        .stdin(Stdio::null());
    command
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("cannot run xtask");
    eprintln!("stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Returns a repository name that no other test run uses.
fn unique_repository(host: &str, name: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{host}/xtask-test/{name}-{}-{nanos}", std::process::id())
}

/// The test registry, logged in through a temporary Docker configuration.
struct Registry {
    host: String,
    config: TempDir,
}

impl Registry {
    /// Logs in, or returns `None` when the registry is not configured and tests may skip.
    fn login() -> Option<Registry> {
        let host = common::service_env("XTASK_TEST_REGISTRY", "the test registry")?;
        let user = common::service_env("XTASK_TEST_REGISTRY_USER", "the test registry user")?;
        let password_file =
            common::service_env("XTASK_TEST_REGISTRY_PASSWORD_FILE", "the test registry password")?;

        let config = TempDir::new().unwrap();
        let password = std::fs::File::open(&password_file).expect("cannot open the password file");
        // The password goes through stdin only, never argv or the test output.
        let output = docker(config.path())
            .args(["login", &host, "--username", &user, "--password-stdin"])
            .stdin(password)
            .output()
            .expect("cannot run docker login");
        assert!(output.status.success(), "docker login {host} failed: {}", stderr(&output));
        Some(Registry { host, config })
    }

    fn config_dir(&self) -> &Path {
        self.config.path()
    }
}

/// Returns the docker CLI with its own configuration folder.
fn docker(config: &Path) -> Command {
    let mut command = Command::new("docker");
    command.env("DOCKER_CONFIG", config);
    command
}

/// `imagetools inspect`'s JSON for a reference, or `None` when it is not in the registry.
fn inspect(config: &Path, reference: &str) -> Option<Value> {
    let output = docker(config)
        .args(["buildx", "imagetools", "inspect", "--format", "{{json .Manifest}}", reference])
        .output()
        .unwrap();
    output.status.success().then(|| serde_json::from_slice(&output.stdout).unwrap())
}

/// Reads `/requirements.txt` from the image `repository@digest` without running it: pull,
/// create a stopped container, copy the file out, clean up.
fn read_lockfile(config: &Path, repository: &str, digest: &str) -> String {
    let reference = format!("{repository}@{digest}");
    let status = docker(config).args(["pull", "--quiet", &reference]).stdout(Stdio::null()).status().unwrap();
    assert!(status.success(), "docker pull {reference} failed");

    // A scratch image has no command, so the container gets a placeholder it never runs.
    let created = docker(config).args(["create", &reference, "/none"]).output().unwrap();
    assert!(created.status.success(), "docker create failed: {}", stderr(&created));
    let container = String::from_utf8(created.stdout).unwrap().trim().to_string();

    let out = TempDir::new().unwrap();
    let destination = out.path().join("requirements.txt");
    let source = format!("{container}:/requirements.txt");
    let copied = docker(config).arg("cp").arg(&source).arg(&destination).status().unwrap();
    docker(config).args(["rm", &container]).output().unwrap();
    docker(config).args(["rmi", &reference]).output().unwrap();
    assert!(copied.success(), "docker cp {source} failed");
    std::fs::read_to_string(destination).unwrap()
}

fn fixture_lockfile(name: &str) -> String {
    std::fs::read_to_string(fixture().join("requirements").join(name)).unwrap()
}

#[test]
fn build_push_merges_both_platforms() {
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "merge");

    let output = run(build(&fixture().join("requirements"), &["--push", "--tag", "t1", "--image", &repository])
        .env("DOCKER_CONFIG", registry.config_dir()));
    assert!(output.status.success(), "build failed: {}", stderr(&output));

    let summary: Value = serde_json::from_str(&stdout(&output)).expect("stdout is one JSON summary");
    assert_eq!(summary["image"], repository.as_str());
    assert_eq!(summary["tag"], "t1");
    let platforms = summary["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2);
    assert_eq!(platforms[0]["platform"], "linux/amd64");
    assert_eq!(platforms[0]["reference"], format!("{repository}:t1-amd64-gpu").as_str());
    assert_eq!(platforms[1]["platform"], "linux/arm64");
    assert_eq!(platforms[1]["reference"], format!("{repository}:t1-arm64").as_str());
    let merged_digest = summary["merged"]["digest"].as_str().unwrap();
    assert!(merged_digest.starts_with("sha256:"), "{summary}");
    assert_eq!(summary["merged"]["reference"], format!("{repository}:t1").as_str());

    let list = inspect(registry.config_dir(), &format!("{repository}:t1")).expect("t1 is pushed");
    assert_eq!(list["digest"], merged_digest);
    let entries = list["manifests"].as_array().unwrap();
    let mut found: Vec<String> = entries
        .iter()
        .map(|entry| format!("{}/{}", entry["platform"]["os"].as_str().unwrap(), entry["platform"]["architecture"].as_str().unwrap()))
        .collect();
    found.sort();
    assert_eq!(found, ["linux/amd64", "linux/arm64"], "no attestation or other entries");

    for (platform, lockfile) in [("linux/amd64", "amd64-gpu-requirements.txt"), ("linux/arm64", "arm64-requirements.txt")] {
        let summary_entry = platforms.iter().find(|entry| entry["platform"] == platform).unwrap();
        let list_entry = entries
            .iter()
            .find(|entry| format!("linux/{}", entry["platform"]["architecture"].as_str().unwrap()) == platform)
            .unwrap();
        assert_eq!(summary_entry["digest"], list_entry["digest"], "{platform} digest");

        let digest = list_entry["digest"].as_str().unwrap();
        let content = read_lockfile(registry.config_dir(), &repository, digest);
        assert_eq!(content, fixture_lockfile(lockfile), "{platform} holds {lockfile}");
    }
}

#[test]
fn build_merge_only_merges_pushed_platforms() {
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "merge-only");
    let requirements = fixture().join("requirements");

    for platform in ["linux/amd64", "linux/arm64"] {
        let output = run(build(&requirements, &["--platform", platform, "--push", "--tag", "5", "--image", &repository])
            .env("DOCKER_CONFIG", registry.config_dir()));
        assert!(output.status.success(), "build {platform} failed: {}", stderr(&output));
        let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert!(summary["merged"].is_null(), "one platform alone is not merged");
    }
    assert!(inspect(registry.config_dir(), &format!("{repository}:5")).is_none());

    let output = run(build(&requirements, &["--merge-only", "--tag", "5", "--image", &repository])
        .env("DOCKER_CONFIG", registry.config_dir()));
    assert!(output.status.success(), "merge failed: {}", stderr(&output));
    assert!(!stderr(&output).contains("buildx build"), "--merge-only builds nothing");
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let list = inspect(registry.config_dir(), &format!("{repository}:5")).expect("5 is pushed");
    assert_eq!(summary["merged"]["digest"], list["digest"]);
    assert_eq!(list["manifests"].as_array().unwrap().len(), 2);
}

#[test]
fn build_merge_only_names_missing_platform() {
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "missing");

    let output = run(build(&fixture().join("requirements"), &["--merge-only", "--tag", "9", "--image", &repository])
        .env("DOCKER_CONFIG", registry.config_dir()));
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains(&format!("{repository}:9-amd64-gpu is not in the registry")), "{}", stderr(&output));
}

#[test]
fn build_dry_run_prints_numbered_steps() {
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "dry-run");
    let fixture = fixture();
    let dockerfile = fixture.join("Dockerfile");

    let output = run(build(&fixture.join("requirements"), &["--push", "--tag", "3", "--image", &repository, "--build-arg", "A=b c", "--dry-run"])
        .env("DOCKER_CONFIG", registry.config_dir()));
    assert!(output.status.success(), "dry run failed: {}", stderr(&output));

    let build_line = |platform: &str, target: &str| {
        format!(
            "docker buildx build --platform {platform} --file {} --tag {repository}:3-{target} \
             --provenance=false --sbom=false --build-arg 'A=b c' --push {}",
            dockerfile.display(),
            fixture.display()
        )
    };
    let inspect_line = |tag: &str| format!("docker buildx imagetools inspect --format '{{{{json .Manifest}}}}' {repository}:{tag}");
    let expected = [
        "1. check that the Docker daemon responds".to_string(),
        "    docker version --format '{{.Server.Version}}'".to_string(),
        "2. check that the docker buildx plugin is installed".to_string(),
        "    docker buildx version".to_string(),
        format!("3. build linux/amd64 (target amd64-gpu) and push it as {repository}:3-amd64-gpu"),
        format!("    {}", build_line("linux/amd64", "amd64-gpu")),
        format!("4. read the digest of {repository}:3-amd64-gpu from the registry"),
        format!("    {}", inspect_line("3-amd64-gpu")),
        format!("5. build linux/arm64 (target arm64) and push it as {repository}:3-arm64"),
        format!("    {}", build_line("linux/arm64", "arm64")),
        format!("6. read the digest of {repository}:3-arm64 from the registry"),
        format!("    {}", inspect_line("3-arm64")),
        format!("7. merge the platforms into the manifest list {repository}:3"),
        format!("    docker buildx imagetools create --tag {repository}:3 {repository}:3-amd64-gpu {repository}:3-arm64"),
        format!("8. read the digest and platforms of {repository}:3"),
        format!("    {}", inspect_line("3")),
    ];
    let printed = stdout(&output);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines, expected);

    for tag in ["3", "3-amd64-gpu", "3-arm64"] {
        assert!(inspect(registry.config_dir(), &format!("{repository}:{tag}")).is_none(), "{tag} was pushed");
    }
}

#[test]
fn build_tag_from_run_number() {
    let output = run(build(&fixture().join("requirements"), &["--platform", "linux/arm64", "--load", "--dry-run"])
        .env("GITHUB_RUN_NUMBER", "57"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("--tag marqo-base:57 "), "{}", stdout(&output));
}

#[test]
fn build_without_tag_is_rejected() {
    let output = run(&mut build(&fixture().join("requirements"), &["--dry-run"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("pass --tag TAG"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
}

#[test]
fn build_rejects_invalid_tags_and_names() {
    let long_tag = "a".repeat(129);
    let cases: [&[&str]; 5] = [
        &["--tag", "bad tag"],
        &["--tag", ".hidden"],
        &["--tag", &long_tag],
        &["--tag", "1", "--image", "127.0.0.1:5000/Upper/Case"],
        &["--tag", "1", "--image", "127.0.0.1:5000/a//b"],
    ];
    for case in cases {
        let mut args = case.to_vec();
        args.push("--dry-run");
        let output = run(&mut build(&fixture().join("requirements"), &args));
        assert_eq!(output.status.code(), Some(2), "{case:?} is rejected");
        assert!(stdout(&output).is_empty(), "{case:?} prints no command");
    }
}

#[test]
fn build_rejects_load_with_two_platforms() {
    let output = run(&mut build(&fixture().join("requirements"), &["--load", "--tag", "1", "--dry-run"]));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("--load takes one platform"), "{message}");
    assert!(message.contains("one platform per tag"), "{message}");
}

#[test]
fn build_rejects_lockfiles_failing_validate() {
    let context = invalid_requirements().parent().unwrap().to_path_buf();
    let output = run(&mut build_in(&context, &invalid_requirements(), &["--tag", "1", "--dry-run"]));
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("refusing to build"), "{message}");
    assert!(message.contains("error[duplicate-package]"), "{message}");
    assert!(stdout(&output).is_empty(), "no command is printed");
}

#[test]
fn build_rejects_requirements_outside_context() {
    let copy = TempDir::new().unwrap();
    for entry in std::fs::read_dir(fixture().join("requirements")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }

    let output = run(&mut build(copy.path(), &["--tag", "1", "--dry-run"]));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains(&copy.path().display().to_string()), "names the checked folder: {message}");
    assert!(message.contains("fixtures/build/requirements"), "names the copied folder: {message}");
    assert!(message.contains("--requirements-dir"), "{message}");
    assert!(stdout(&output).is_empty(), "no command is printed");
}

#[test]
fn build_stopped_daemon_exits_3() {
    if which_docker().is_none() {
        common::skip_or_fail("the docker CLI is not installed");
        return;
    }
    let socket = std::env::temp_dir().join(format!("xtask-no-daemon-{}.sock", std::process::id()));
    let output = run(build(&fixture().join("requirements"), &["--platform", "linux/arm64", "--tag", "1"])
        .env("DOCKER_HOST", format!("unix://{}", socket.display())));
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(message.contains("Docker daemon"), "{message}");
    assert!(message.contains("is not reachable"), "{message}");
    assert!(message.contains("Start it"), "{message}");
}

#[test]
fn build_push_without_login_exits_3() {
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "no-login");
    let empty_config = TempDir::new().unwrap();

    let output = run(build(&fixture().join("requirements"), &["--platform", "linux/arm64", "--push", "--tag", "1", "--image", &repository])
        .env("DOCKER_CONFIG", empty_config.path()));
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(message.contains(&format!("docker login {}", registry.host)), "{message}");
    assert!(stdout(&output).is_empty(), "no summary after a failure");
}

/// `xtask build --push --ecr` for arm64 against moto and the test registry, logging in for
/// `account` with an empty Docker configuration of its own.
fn build_with_ecr(endpoint: &str, repository: &str, account: &str) -> (Output, TempDir) {
    build_platforms_with_ecr("linux/arm64", endpoint, repository, account)
}

/// `xtask build --push --ecr` for `platforms`, as [`build_with_ecr`] runs it.
fn build_platforms_with_ecr(platforms: &str, endpoint: &str, repository: &str, account: &str) -> (Output, TempDir) {
    let config = TempDir::new().unwrap();
    let aws = TempDir::new().unwrap();
    let args = [
        "--platform", platforms, "--push", "--tag", "1", "--image", repository,
        "--ecr", "--region", "us-east-1", "--registry-id", account,
    ];
    let output = run(build(&fixture().join("requirements"), &args)
        .env("DOCKER_CONFIG", config.path())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", aws.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", aws.path().join("credentials"))
        .env_remove("AWS_PROFILE"));
    (output, config)
}

#[test]
fn build_ecr_login_then_push() {
    let Some(endpoint) = common::service_env("XTASK_TEST_MOTO_ENDPOINT", "the moto ECR endpoint") else { return };
    let Some(account) = common::service_env("XTASK_TEST_MOTO_ACCOUNT", "the moto account") else { return };
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "ecr");

    // The test registry accepts the user AWS with moto's token password for this account.
    let (output, config) = build_with_ecr(&endpoint, &repository, &account);
    assert!(output.status.success(), "build --ecr failed: {}", stderr(&output));
    assert!(!stderr(&output).contains(&format!("{account}-auth-token")), "the password stays out of the output");
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let pushed = inspect(registry.config_dir(), &format!("{repository}:1-arm64")).expect("1-arm64 is pushed");
    assert_eq!(summary["platforms"][0]["digest"], pushed["digest"]);

    let leftover = std::fs::read_to_string(config.path().join("config.json")).unwrap_or_default();
    assert!(!leftover.contains(&registry.host), "the ECR login stays out of DOCKER_CONFIG: {leftover}");
}

/// The merge runs last, so the ECR login must still be in place when it runs.
#[test]
fn build_ecr_login_then_merge() {
    let Some(endpoint) = common::service_env("XTASK_TEST_MOTO_ENDPOINT", "the moto ECR endpoint") else { return };
    let Some(account) = common::service_env("XTASK_TEST_MOTO_ACCOUNT", "the moto account") else { return };
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "ecr-merge");

    let (output, _config) = build_platforms_with_ecr("linux/amd64,linux/arm64", &endpoint, &repository, &account);
    assert!(output.status.success(), "build --ecr failed: {}", stderr(&output));
    let summary: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let list = inspect(registry.config_dir(), &format!("{repository}:1")).expect("the manifest list is pushed");
    assert_eq!(summary["merged"]["digest"], list["digest"]);
    assert_eq!(list["manifests"].as_array().unwrap().len(), 2);
}

#[test]
fn build_ecr_login_rejected_exits_3() {
    let Some(endpoint) = common::service_env("XTASK_TEST_MOTO_ENDPOINT", "the moto ECR endpoint") else { return };
    let Some(registry) = Registry::login() else { return };
    let repository = unique_repository(&registry.host, "ecr-rejected");

    // moto's token for another account carries the password 210987654321-auth-token, which the
    // test registry rejects.
    let (output, _config) = build_with_ecr(&endpoint, &repository, "210987654321");
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(message.contains(&format!("ECR login to {} failed", registry.host)), "{message}");
    assert!(!message.contains("auth-token"), "the password stays out of the output");
    assert!(stdout(&output).is_empty(), "no summary after a failure");
    assert!(inspect(registry.config_dir(), &format!("{repository}:1-arm64")).is_none());
}

fn which_docker() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|dir| dir.join("docker")).find(|path| path.is_file())
    })
}

#[test]
fn build_defaults_to_repository_dockerfile() {
    let root = common::repo_root();
    let output = run(common::xtask()
        .current_dir(&root)
        .args(["build", "--tag", "1", "--push", "--image", "127.0.0.1:5000/marqo-base", "--dry-run"])
        .env_remove("GITHUB_RUN_NUMBER"));
    assert!(output.status.success(), "{}", stderr(&output));

    let printed = stdout(&output);
    let builds: Vec<&str> = printed.lines().filter(|line| line.starts_with("    docker buildx build")).collect();
    assert_eq!(builds.len(), 2, "{printed}");
    let file = format!("--file {} ", root.join("Dockerfile").display());
    for line in builds {
        assert!(line.contains(&file), "{line}");
        assert!(line.ends_with(&format!(" --push {}", root.display())), "{line}");
    }
}

#[test]
fn build_ecr_dry_run_describes_login() {
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/marqo-base";
    let output = run(&mut build(&fixture().join("requirements"), &["--platform", "arm64", "--push", "--ecr", "--tag", "1", "--image", image, "--dry-run"]));
    assert!(output.status.success(), "{}", stderr(&output));

    let printed = stdout(&output);
    let lines: Vec<&str> = printed.lines().collect();
    assert!(lines[4].starts_with("3. fetch an ECR authorization token"), "{printed}");
    assert!(lines[4].contains("region: eu-west-1"), "{printed}");
    assert!(lines[4].contains("registry: 123456789012"), "{printed}");
    assert!(lines[5].starts_with("4. log in to 123456789012.dkr.ecr.eu-west-1.amazonaws.com"), "{printed}");
    assert_eq!(
        lines[6],
        "    DOCKER_CONFIG=TEMPORARY-DOCKER-CONFIG docker login --username AWS --password-stdin \
         123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    );
    assert_eq!(lines[7], "    password: <from stdin>");
    assert!(lines[8].starts_with("5. build linux/arm64"), "{printed}");
    assert!(lines[9].starts_with("    DOCKER_CONFIG=TEMPORARY-DOCKER-CONFIG docker buildx build "), "the build uses the login: {printed}");
    assert!(lines[9].contains(&format!("--tag {image}:1-arm64 ")), "{printed}");
}

#[test]
fn build_ecr_rejects_invalid_region() {
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/marqo-base";
    let args = ["--push", "--ecr", "--region", "EU WEST", "--tag", "1", "--image", image, "--dry-run"];
    let output = run(&mut build(&fixture().join("requirements"), &args));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid region"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
}

#[test]
fn build_ecr_rejects_other_region() {
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/marqo-base";
    let args = ["--push", "--ecr", "--region", "us-east-1", "--tag", "1", "--image", image, "--dry-run"];
    let output = run(&mut build(&fixture().join("requirements"), &args));
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("--region us-east-1"), "{message}");
    assert!(message.contains("region eu-west-1"), "{message}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn build_ecr_needs_push() {
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/marqo-base";
    let output = run(&mut build(&fixture().join("requirements"), &["--ecr", "--tag", "1", "--image", image, "--dry-run"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("add --push or --merge-only"), "{}", stderr(&output));
}
