//! `cargo xtask validate` on the real marqo-base requirements as committed, and on broken
//! copies that each test derives from them.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

const AMD64: &str = "amd64-gpu-requirements.txt";
const ARM64: &str = "arm64-requirements.txt";

fn real_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/marqo-base/requirements")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(real_dir().join(name)).unwrap()
}

fn validate(dir: &Path) -> (i32, Value) {
    let output = common::xtask()
        .arg("validate")
        .arg("--requirements-dir")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!("invalid JSON ({err}): {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code().unwrap(), report)
}

fn findings_of<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["findings"].as_array().unwrap().iter().filter(|finding| finding["kind"] == kind).collect()
}

fn errors(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["severity"] == "error")
        .map(|finding| format!("{}[{}] {}", finding["kind"], finding["package"], finding["message"]))
        .collect()
}

/// Copies the real folder into a temporary one, with `edit` applied to each file.
fn broken_copy(edit: impl Fn(&str, String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["requirements.in", AMD64, ARM64] {
        std::fs::write(dir.path().join(name), edit(name, read(name))).unwrap();
    }
    dir
}

#[test]
fn real_data_passes_with_unpinned_warnings() {
    let (code, report) = validate(&real_dir());
    assert_eq!(code, 0, "{:#?}", errors(&report));
    assert_eq!(report["ok"], true);
    let findings = report["findings"].as_array().unwrap();
    let unpinned = findings_of(&report, "unpinned-transitive");
    assert_eq!(unpinned.len(), findings.len(), "only unpinned-transitive warnings expected");
    assert!(unpinned.len() > 40, "{}", unpinned.len());
    assert!(unpinned.iter().all(|finding| finding["severity"] == "warning"));
    let targets: Vec<&str> = unpinned.iter().map(|finding| finding["target"].as_str().unwrap()).collect();
    assert!(targets.contains(&"amd64-gpu"));
    assert!(targets.contains(&"arm64"));
    assert!(unpinned.iter().any(|finding| finding["package"] == "aiohappyeyeballs" && finding["via"] == "aiohttp"));
}

#[test]
fn history_passes_too() {
    let history = real_dir().join("../history");
    for entry in std::fs::read_dir(&history).unwrap() {
        let dir = entry.unwrap().path();
        let (code, report) = validate(&dir);
        assert_eq!(code, 0, "{}: {:#?}", dir.display(), errors(&report));
    }
}

#[test]
fn real_strict_fails() {
    let output = common::xtask()
        .arg("validate")
        .arg("--requirements-dir")
        .arg(real_dir())
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn changed_torch_version_mismatches() {
    let dir = broken_copy(|name, text| if name == ARM64 { text.replace("torch==1.13.1 ;", "torch==1.13.0 ;") } else { text });
    let (code, report) = validate(dir.path());
    assert_eq!(code, 1);
    let found = findings_of(&report, "version-mismatch");
    assert_eq!(found.len(), 1, "{:#?}", errors(&report));
    assert_eq!(found[0]["package"], "torch");
    assert_eq!(found[0]["target"], "arm64");
}

#[test]
fn merged_lockfile_rejected() {
    let dir = broken_copy(|name, text| {
        if name == AMD64 {
            let arm64 = read(ARM64);
            let body = arm64.split_once("cu116\n\n").unwrap().1;
            format!("{text}{body}")
        } else {
            text
        }
    });
    let (code, report) = validate(dir.path());
    assert_eq!(code, 1);
    let duplicates = findings_of(&report, "duplicate-package");
    assert!(duplicates.iter().any(|finding| finding["package"] == "torch"), "{:#?}", errors(&report));
    assert!(duplicates[0]["message"].as_str().unwrap().contains("each target needs its own file"));
    let foreign = findings_of(&report, "foreign-pin");
    assert_eq!(foreign.len(), 3, "torch, torchaudio and torchvision for arm64: {:#?}", errors(&report));

    let summary = &report["findings"][0];
    assert_eq!(summary["kind"], "duplicate-package");
    assert_eq!(summary["file"].as_str().unwrap(), dir.path().join(AMD64).display().to_string());
    assert!(summary["line"].is_null());
    assert!(summary["package"].is_null());
    let message = summary["message"].as_str().unwrap();
    assert!(message.contains("looks like a merge of several targets' lockfiles"), "{message}");
    assert!(message.contains("each target needs its own file"), "{message}");
    assert_eq!(duplicates.iter().filter(|finding| finding["line"].is_null()).count(), 1);

    let duplicate_lines: Vec<&Value> = duplicates.iter().map(|finding| &finding["line"]).collect();
    let unpinned = findings_of(&report, "unpinned-transitive");
    let repeated: Vec<&&Value> = unpinned.iter().filter(|finding| finding["target"] == "amd64-gpu" && duplicate_lines.contains(&&finding["line"])).collect();
    assert!(repeated.is_empty(), "warnings on repeated lines: {repeated:#?}");
    let amd64_names: Vec<&str> =
        unpinned.iter().filter(|finding| finding["target"] == "amd64-gpu").map(|finding| finding["package"].as_str().unwrap()).collect();
    let distinct: std::collections::BTreeSet<&str> = amd64_names.iter().copied().collect();
    assert_eq!(amd64_names.len(), distinct.len(), "one warning per package: {amd64_names:?}");
}

#[test]
fn macos_only_marker_is_inactive() {
    let dir = broken_copy(|name, text| {
        if name == "requirements.in" {
            text.replace("platform_machine == \"arm64\" or platform_machine == \"aarch64\"", "platform_machine == \"arm64\"")
        } else {
            text
        }
    });
    let (code, report) = validate(dir.path());
    assert_eq!(code, 1);
    assert_eq!(findings_of(&report, "inactive-pin").len(), 3, "{:#?}", errors(&report));
    assert_eq!(findings_of(&report, "foreign-pin").len(), 3, "{:#?}", errors(&report));
}

#[test]
fn host_find_links_undeclared() {
    let dir = broken_copy(|name, text| {
        if name == AMD64 {
            text.replace("--extra-index-url https://download.pytorch.org/whl/cu116\n", "--extra-index-url https://download.pytorch.org/whl/cu116\n--find-links /opt/wheels\n")
        } else {
            text
        }
    });
    let (code, report) = validate(dir.path());
    assert_eq!(code, 1);
    assert_eq!(errors(&report).len(), 1, "{:#?}", errors(&report));
    assert_eq!(findings_of(&report, "undeclared-index")[0]["line"], 8);
}

#[test]
fn transitive_bump_on_one_target_drifts() {
    let dir = broken_copy(|name, text| if name == ARM64 { text.replace("\naiosignal==1.3.2\n", "\naiosignal==1.3.1\n") } else { text });
    let (code, report) = validate(dir.path());
    assert_eq!(code, 1);
    let drift = findings_of(&report, "cross-target-drift");
    assert_eq!(drift.len(), 2, "{:#?}", errors(&report));
    for finding in &drift {
        assert_eq!(finding["suggestion"], "aiosignal==1.3.2", "one pin for every target comes first");
    }
    let arm64 = drift.iter().find(|finding| finding["target"] == "arm64").unwrap();
    let message = arm64["message"].as_str().unwrap();
    let shared = message.find("`aiosignal==1.3.2`").expect(message);
    let per_target = message
        .find("`aiosignal==1.3.1 ; platform_machine == \"arm64\" or platform_machine == \"aarch64\"`")
        .expect("the per-target pin uses requirements.in's marker spelling");
    assert!(shared < per_target, "{message}");
}

#[test]
fn header_for_other_target_rejected() {
    let dir = broken_copy(|name, text| {
        if name == ARM64 {
            text.replace("--output-file=arm64-requirements.txt", "--output-file=amd64-gpu-requirements.txt")
        } else {
            text
        }
    });
    let (code, report) = validate(dir.path());
    assert_eq!(code, 1);
    let mismatch = findings_of(&report, "header-mismatch");
    assert_eq!(mismatch.len(), 1, "{:#?}", errors(&report));
    assert_eq!(mismatch[0]["line"], 5);
}
