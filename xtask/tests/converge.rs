//! `check-converged` and `converge` end to end with uv, against wheels the tests build into a
//! local find-links folder or serve from a python3 http.server on 127.0.0.1.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::wheels::Wheel;
use serde_json::Value;

const AMD64: &str = "amd64-gpu-requirements.txt";
const ARM64: &str = "arm64-requirements.txt";

/// A requirements folder whose `app` depends on the unpinned `lib`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(find_links: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let wheels = dir.path().join("wheels");
        Wheel::pure("app", "1.0", &["lib>=1.0"]).write(&wheels);
        Wheel::pure("lib", "1.0", &[]).write(&wheels);
        let requirements = format!("# fixture\n--no-index\n--find-links {find_links}\n\n# Direct\napp==1.0\n");
        std::fs::write(dir.path().join("requirements.in"), requirements).unwrap();
        Fixture { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap()
    }

    fn xtask(&self, args: &[&str]) -> Output {
        common::xtask().args(args).arg("--requirements-dir").arg(self.path()).output().unwrap()
    }

    /// Runs check-converged with `--format json` and returns the exit code and the report.
    fn check_converged(&self, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["check-converged", "--format", "json"];
        args.extend(extra);
        let output = self.xtask(&args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report = serde_json::from_str(&stdout).unwrap_or_else(|err| {
            panic!("invalid JSON ({err}): {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr))
        });
        (output.status.code().unwrap(), report)
    }
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn kinds(report: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| format!("{}:{}:{}", finding["kind"].as_str().unwrap(), finding["package"].as_str().unwrap_or("-"), finding["target"].as_str().unwrap_or("-")))
        .collect();
    kinds.sort();
    kinds
}

#[test]
fn new_transitive_release_detected_then_pinned() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(kinds(&report), Vec::<String>::new());

    Wheel::pure("lib", "1.1", &[]).write(&fixture.path().join("wheels"));
    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(kinds(&report), ["changed:lib:amd64-gpu", "changed:lib:arm64"]);
    let changed = &report["findings"][0];
    assert_eq!(changed["old_version"], "1.0");
    assert_eq!(changed["new_version"], "1.1");
    assert_eq!(changed["suggestion"], "lib==1.1");
    assert!(changed["line"].as_u64().is_some());
    assert!(fixture.read(AMD64).contains("lib==1.0"), "check-converged must not write");

    let before = fixture.read("requirements.in");
    let output = fixture.xtask(&["converge"]);
    assert_exit(&output, 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("round 1: pinned lib==1.1"), "{stderr}");
    assert!(stderr.contains("round 2: nothing drifted"), "{stderr}");
    let after = fixture.read("requirements.in");
    assert!(after.starts_with(&before), "existing lines must stay:\n{after}");
    assert!(after.contains("# Transitive dependencies, pinned by `cargo xtask converge`"), "{after}");
    assert!(after.ends_with("\nlib==1.1\n"), "{after}");
    assert!(fixture.read(AMD64).contains("\nlib==1.1\n"), "{}", fixture.read(AMD64));
    assert!(fixture.read(ARM64).contains("\nlib==1.1\n"), "{}", fixture.read(ARM64));

    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_exit(&fixture.xtask(&["validate"]), 0);
}

#[test]
fn per_target_versions_pinned_with_markers() {
    let fixture = Fixture::new("wheels");
    let wheels = fixture.path().join("wheels");
    Wheel::pure("app", "2.0", &["lib>=1.0", "extra==1.0 ; platform_machine == 'x86_64'", "extra==2.0 ; platform_machine == 'aarch64'"]).write(&wheels);
    Wheel::pure("extra", "1.0", &[]).write(&wheels);
    Wheel::pure("extra", "2.0", &[]).write(&wheels);
    let text = fixture.read("requirements.in").replace("app==1.0", "app==2.0");
    std::fs::write(fixture.path().join("requirements.in"), text).unwrap();
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);

    let validate = fixture.xtask(&["validate", "--format", "json"]);
    assert_exit(&validate, 1);
    assert!(String::from_utf8_lossy(&validate.stdout).contains("cross-target-drift"));

    assert_exit(&fixture.xtask(&["converge"]), 0);
    let after = fixture.read("requirements.in");
    assert!(after.contains("extra==1.0 ; platform_machine == \"x86_64\"\n"), "{after}");
    assert!(after.contains("extra==2.0 ; platform_machine == \"aarch64\"\n"), "{after}");
    assert!(!after.contains("lib=="), "lib did not drift:\n{after}");
    assert_exit(&fixture.xtask(&["validate"]), 0);
    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn converge_per_target_merges_pins() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    Wheel::pure("lib", "1.1", &[]).write(&fixture.path().join("wheels"));

    assert_exit(&fixture.xtask(&["converge", "--arch", "arm64"]), 0);
    let after_arm64 = fixture.read("requirements.in");
    assert!(after_arm64.ends_with("\nlib==1.1 ; platform_machine == \"aarch64\"\n"), "amd64 still locks 1.0:\n{after_arm64}");

    assert_exit(&fixture.xtask(&["converge", "--arch", "amd64-gpu"]), 0);
    let after_amd64 = fixture.read("requirements.in");
    assert_eq!(after_amd64.matches("lib==").count(), 1, "{after_amd64}");
    assert!(after_amd64.ends_with("\nlib==1.1\n"), "{after_amd64}");
    assert!(fixture.read(AMD64).contains("\nlib==1.1\n"), "{}", fixture.read(AMD64));

    let validate = fixture.xtask(&["validate", "--format", "json"]);
    assert_exit(&validate, 0);
    let report: Value = serde_json::from_slice(&validate.stdout).unwrap();
    assert_eq!(kinds(&report), Vec::<String>::new(), "{report:#}");
}

#[test]
fn other_target_at_same_version_gets_no_marker() {
    let fixture = Fixture::new("wheels");
    Wheel::pure("lib", "1.1", &[]).write(&fixture.path().join("wheels"));
    assert_exit(&fixture.xtask(&["compile", "--arch", "arm64", "--resolver", "uv"]), 0);
    std::fs::remove_file(fixture.path().join("wheels/lib-1.1-py3-none-any.whl")).unwrap();
    assert_exit(&fixture.xtask(&["compile", "--arch", "amd64-gpu", "--resolver", "uv"]), 0);
    Wheel::pure("lib", "1.1", &[]).write(&fixture.path().join("wheels"));

    assert_exit(&fixture.xtask(&["converge", "--arch", "amd64-gpu"]), 0);
    let after = fixture.read("requirements.in");
    assert!(after.ends_with("\nlib==1.1\n"), "arm64 already locks 1.1:\n{after}");
}

#[test]
fn round_limit_exits_1_and_writes_nothing() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    Wheel::pure("lib", "1.1", &[]).write(&fixture.path().join("wheels"));
    let requirements = fixture.read("requirements.in");
    let lockfile = fixture.read(AMD64);

    let output = fixture.xtask(&["converge", "--max-rounds", "1"]);
    assert_exit(&output, 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("round 1: pinned lib==1.1"), "{stderr}");
    assert!(stderr.contains("did not settle within 1 round;"), "{stderr}");
    assert_eq!(fixture.read("requirements.in"), requirements);
    assert_eq!(fixture.read(AMD64), lockfile);
}

#[test]
fn resolver_failure_exits_3_and_writes_nothing() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    let broken = fixture.read("requirements.in").replace("app==1.0", "app==9.9");
    std::fs::write(fixture.path().join("requirements.in"), &broken).unwrap();
    let lockfile = fixture.read(AMD64);

    let output = fixture.xtask(&["check-converged", "--arch", "amd64-gpu"]);
    assert_exit(&output, 3);
    let output = fixture.xtask(&["converge"]);
    assert_exit(&output, 3);
    assert_eq!(fixture.read("requirements.in"), broken);
    assert_eq!(fixture.read(AMD64), lockfile);
}

#[test]
fn unresolvable_targets_reported_as_findings() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    let broken = fixture.read("requirements.in").replace("app==1.0", "app==9.9");
    std::fs::write(fixture.path().join("requirements.in"), broken).unwrap();

    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(report["ok"], false);
    assert_eq!(kinds(&report), ["resolution-failed:-:amd64-gpu", "resolution-failed:-:arm64"]);
    let finding = &report["findings"][0];
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["file"].as_str().unwrap(), fixture.path().join(AMD64).display().to_string());
    assert!(finding["message"].as_str().unwrap().contains("uv failed to resolve target `amd64-gpu`"), "{finding:#}");

    let output = fixture.xtask(&["check-converged"]);
    assert_exit(&output, 3);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().filter(|line| line.contains("error[resolution-failed]")).count(), 2, "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("2 error(s), 0 warning(s)"));
}

#[test]
fn invalid_usage_for_one_target_exits_2() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    let foreign = if std::env::consts::ARCH == "x86_64" { "arm64" } else { "amd64-gpu" };

    let (code, report) = fixture.check_converged(&["--resolver", "pip-compile", "--arch", foreign]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["ok"], false);
    assert_eq!(kinds(&report), [format!("resolution-failed:-:{foreign}")]);
    assert!(report["findings"][0]["message"].as_str().unwrap().contains("pip-compile cannot resolve target"));
}

#[test]
fn json_report_on_invalid_input() {
    let fixture = Fixture::new("wheels");
    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["ok"], false);
    let finding = &report["findings"][0];
    assert_eq!(finding["kind"], "invalid-input");
    assert!(finding["message"].as_str().unwrap().contains("cannot read the amd64-gpu lockfile"), "{finding:#}");

    let output = fixture.xtask(&["check-converged", "--format", "json"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("error: cannot read the amd64-gpu lockfile"));
}

#[test]
fn conflicting_pins_rejected_before_resolving() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    let conflicting = fixture.read("requirements.in") + "lib==1.0\nLib==2.0\n";
    std::fs::write(fixture.path().join("requirements.in"), &conflicting).unwrap();

    let output = fixture.xtask(&["converge"]);
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("requirements.in:8: `Lib==2.0` conflicts with `lib==1.0` at "), "{stderr}");
    assert!(stderr.contains("requirements.in:7"), "{stderr}");
    assert!(!stderr.contains("resolving"), "no resolver may run:\n{stderr}");
    assert_eq!(fixture.read("requirements.in"), conflicting);

    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 2);
    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(kinds(&report), ["resolution-failed:-:amd64-gpu", "resolution-failed:-:arm64"]);
}

#[test]
fn offline_runs_static_checks_only() {
    let fixture = Fixture::new("wheels");
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    Wheel::pure("lib", "1.1", &[]).write(&fixture.path().join("wheels"));
    let (code, report) = fixture.check_converged(&["--offline"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(kinds(&report), ["unpinned-transitive:lib:amd64-gpu", "unpinned-transitive:lib:arm64"]);
    let (code, _) = fixture.check_converged(&["--offline", "--strict"]);
    assert_eq!(code, 1);
}

/// A python3 http.server on a free loopback port, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path) -> Option<Server> {
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn wheel_check_over_http_find_links() {
    let wheels = tempfile::tempdir().unwrap();
    Wheel::pure("app", "1.0", &["lib>=1.0"]).write(wheels.path());
    Wheel::pure("lib", "1.0", &[]).write(wheels.path());
    Wheel { name: "native", version: "1.0", requires: &[], platform: "manylinux_2_17_x86_64" }.write(wheels.path());
    Wheel { name: "native", version: "2.0", requires: &[], platform: "manylinux_2_17_x86_64" }.write(wheels.path());
    std::fs::write(wheels.path().join("native-2.0.tar.gz"), "not built by this test").unwrap();
    let Some(server) = Server::start(wheels.path()) else {
        return common::skip_or_fail("python3 -m http.server did not start on 127.0.0.1");
    };

    let fixture = Fixture::new(&format!("http://127.0.0.1:{}/", server.port));
    assert_exit(&fixture.xtask(&["compile", "--arch", "all", "--resolver", "uv"]), 0);
    let (code, report) = fixture.check_converged(&[]);
    assert_eq!(code, 0, "{report:#}");

    // The committed arm64 lockfile now claims packages that only have x86_64 wheels.
    let arm64 = fixture.read(ARM64) + "native==1.0\n    # via app\n";
    std::fs::write(fixture.path().join(ARM64), arm64).unwrap();
    let (code, report) = fixture.check_converged(&["--arch", "arm64"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(kinds(&report), ["not-installable:native:arm64", "removed:native:arm64"]);
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "not-installable").unwrap();
    assert_eq!(finding["severity"], "error");

    let arm64 = fixture.read(ARM64).replace("native==1.0", "native==2.0");
    std::fs::write(fixture.path().join(ARM64), arm64).unwrap();
    let (_, report) = fixture.check_converged(&["--arch", "arm64"]);
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "not-installable").unwrap();
    assert_eq!(finding["severity"], "warning", "{report:#}");
    assert!(finding["message"].as_str().unwrap().contains("only an sdist"));
}
