//! Findings from the semantic difference between a committed lockfile and a fresh resolution:
//! `added`, `removed`, `changed`, `marker-changed` and `annotation-changed`, each with the
//! requirements.in line that pins the fresh result.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::Finding;
use crate::requirements::diff::{self, Change};
use crate::requirements::lockfile::Lockfile;
use crate::targets::Target;
use crate::validate::{suggested_pin, target_marker};

/// One target's committed lockfile and its fresh resolution.
pub struct Pair<'a> {
    pub target: &'a Target,
    /// The committed lockfile's path for reports.
    pub file: String,
    pub committed: &'a Lockfile,
    pub fresh: &'a Lockfile,
}

/// Compares every pair. A suggestion carries the target's marker unless every target of the
/// table was resolved and all fresh resolutions agree on the package's version.
pub fn compare_all(pairs: &[Pair], all_targets: &[Target]) -> Vec<Finding> {
    let everything_resolved = all_targets.iter().all(|target| pairs.iter().any(|pair| pair.target.name == target.name));
    let mut fresh_versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pair in pairs {
        for package in &pair.fresh.packages {
            fresh_versions.entry(package.name.to_string()).or_default().insert(package.version_string());
        }
    }
    let shared = |name: &str| -> bool {
        everything_resolved
            && pairs.iter().all(|pair| pair.fresh.packages.iter().any(|package| package.name.as_ref() == name))
            && fresh_versions.get(name).is_some_and(|versions| versions.len() == 1)
    };

    let mut findings = Vec::new();
    for pair in pairs {
        let marker = target_marker(pair.target, all_targets);
        for change in diff::diff(pair.committed, pair.fresh) {
            let name = change.name().to_string();
            let marker = if shared(&name) { None } else { marker.as_deref() };
            findings.push(finding_for(pair, &change, marker));
        }
    }
    findings
}

fn finding_for(pair: &Pair, change: &Change, marker: Option<&str>) -> Finding {
    let target = &pair.target.name;
    let name = change.name().to_string();
    let finding = match change {
        Change::Added { version, via, .. } => {
            let suggestion = suggested_pin(&name, version, marker);
            Finding::error(
                "added",
                format!(
                    "a fresh resolution for {target} adds {name} {version}{}, which the lockfile lacks; \
                     pin it with `{suggestion}` or recompile",
                    via_text(via)
                ),
            )
            .at(&pair.file, None)
            .with("new_version", version.clone())
            .with("suggestion", suggestion)
        }
        Change::Removed { version, line, .. } => {
            let suggestion = suggested_pin(&name, version, marker);
            Finding::error(
                "removed",
                format!(
                    "a fresh resolution for {target} no longer needs {name} {version}; recompile to drop \
                     it, or add `{suggestion}` to keep it"
                ),
            )
            .at(&pair.file, Some(*line))
            .with("old_version", version.clone())
            .with("suggestion", suggestion)
        }
        Change::Changed { old_version, new_version, line, via, .. } => {
            let suggestion = suggested_pin(&name, new_version, marker);
            Finding::error(
                "changed",
                format!(
                    "a fresh resolution for {target} picks {name} {new_version} instead of {old_version}{}; \
                     add `{suggestion}` to requirements.in and recompile",
                    via_text(via)
                ),
            )
            .at(&pair.file, Some(*line))
            .with("old_version", old_version.clone())
            .with("new_version", new_version.clone())
            .with("suggestion", suggestion)
        }
        Change::MarkerChanged { version, old_marker, new_marker, line, .. } => {
            let pin_marker = new_marker.as_deref().or(marker);
            let suggestion = suggested_pin(&name, version, pin_marker);
            Finding::error(
                "marker-changed",
                format!(
                    "a fresh resolution for {target} locks {name} {version} with marker {} instead of {}; \
                     add `{suggestion}` to requirements.in and recompile",
                    marker_text(new_marker),
                    marker_text(old_marker)
                ),
            )
            .at(&pair.file, Some(*line))
            .with("suggestion", suggestion)
        }
        Change::AnnotationChanged { old_via, new_via, line, .. } => Finding::warning(
            "annotation-changed",
            format!(
                "only the `# via` annotations of {name} differ in a fresh resolution for {target} ({}); \
                 recompile to refresh them",
                via_changes(old_via, new_via)
            ),
        )
        .at(&pair.file, Some(*line)),
    };
    finding.target(target).package(&name)
}

fn via_text(via: &[String]) -> String {
    if via.is_empty() {
        String::new()
    } else {
        format!(" (via {})", via.join(", "))
    }
}

/// Lists what a fresh resolution adds to (`+name`) and drops from (`-name`) the `# via` list.
fn via_changes(old_via: &[String], new_via: &[String]) -> String {
    let added = new_via.iter().filter(|name| !old_via.contains(name)).map(|name| format!("+{name}"));
    let removed = old_via.iter().filter(|name| !new_via.contains(name)).map(|name| format!("-{name}"));
    added.chain(removed).collect::<Vec<_>>().join(", ")
}

fn marker_text(marker: &Option<String>) -> String {
    marker.as_ref().map_or("none".to_string(), |marker| format!("`{marker}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lock(text: &str) -> Lockfile {
        crate::requirements::lockfile::parse(text, Path::new("lock.txt")).unwrap()
    }

    fn targets() -> Vec<Target> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        crate::targets::TargetTable::load(&manifest).unwrap().targets
    }

    fn kinds(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(|finding| format!("{}:{}", finding.kind, finding.package.as_deref().unwrap_or(""))).collect()
    }

    #[test]
    fn every_change_kind_with_suggestions() {
        let targets = targets();
        let committed = lock("a==1\n    # via -r requirements.in\nb==1\n    # via a\nc==1\n    # via a\nd==1\n    # via x\n");
        let fresh = lock("a==1\n    # via -r requirements.in\nb==2\n    # via a\nc==1 ; sys_platform == \"linux\"\n    # via a\nd==1\n    # via y\ne==5\n    # via a\n");
        let pairs = [Pair { target: &targets[1], file: "arm64.txt".into(), committed: &committed, fresh: &fresh }];
        let findings = compare_all(&pairs, &targets);
        assert_eq!(kinds(&findings), ["changed:b", "marker-changed:c", "annotation-changed:d", "added:e"]);

        let changed = &findings[0];
        assert_eq!(changed.extra["old_version"], "1");
        assert_eq!(changed.extra["new_version"], "2");
        assert_eq!(changed.extra["suggestion"], "b==2 ; platform_machine == \"aarch64\"");
        assert_eq!(changed.line, Some(3));
        assert_eq!(findings[1].extra["suggestion"], "c==1 ; sys_platform == \"linux\"");
        assert_eq!(findings[2].severity, crate::report::Severity::Warning);
        assert_eq!(findings[3].line, None);
        assert_eq!(findings[3].extra["suggestion"], "e==5 ; platform_machine == \"aarch64\"");
    }

    #[test]
    fn annotation_change_lists_only_differences() {
        let cases: [(&[&str], &[&str], &str); 4] = [
            (&["aiohttp", "datasets"], &["aiohttp", "aiosignal", "datasets"], "+aiosignal"),
            (&["foo", "requests"], &["requests"], "-foo"),
            (&["foo"], &["aiosignal"], "+aiosignal, -foo"),
            (&["-r requirements.in"], &["-r requirements.in", "torch"], "+torch"),
        ];
        for (old, new, expected) in cases {
            let old: Vec<String> = old.iter().map(|name| name.to_string()).collect();
            let new: Vec<String> = new.iter().map(|name| name.to_string()).collect();
            assert_eq!(via_changes(&old, &new), expected);
        }

        let targets = targets();
        let committed = lock("d==1\n    # via\n    #   foo\n    #   requests\n");
        let fresh = lock("d==1\n    # via\n    #   aiosignal\n    #   requests\n");
        let pairs = [Pair { target: &targets[0], file: "amd64.txt".into(), committed: &committed, fresh: &fresh }];
        let message = compare_all(&pairs, &targets)[0].message.clone();
        assert!(message.contains("(+aiosignal, -foo)"), "{message}");
        assert!(!message.contains("requests"), "{message}");
    }

    #[test]
    fn shared_change_has_no_marker() {
        let targets = targets();
        let committed = lock("six==1.14.0\n    # via a\n");
        let fresh = lock("six==1.16.0\n    # via a\n");
        let pairs = [
            Pair { target: &targets[0], file: "amd64.txt".into(), committed: &committed, fresh: &fresh },
            Pair { target: &targets[1], file: "arm64.txt".into(), committed: &committed, fresh: &fresh },
        ];
        let findings = compare_all(&pairs, &targets);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].extra["suggestion"], "six==1.16.0");
        assert_eq!(findings[1].extra["suggestion"], "six==1.16.0");
    }

    #[test]
    fn spelling_only_difference_is_not_drift() {
        let targets = targets();
        let committed = lock("Msgpack_Numpy==0.4.8\n    # via -r requirements.in\n");
        let fresh = lock("msgpack-numpy==0.4.8\n    # via -r requirements.in\n");
        let pairs = [Pair { target: &targets[0], file: "amd64.txt".into(), committed: &committed, fresh: &fresh }];
        assert!(compare_all(&pairs, &targets).is_empty());
    }

    #[test]
    fn removed_names_committed_line() {
        let targets = targets();
        let committed = lock("a==1\n    # via -r requirements.in\nold==3\n    # via a\n");
        let fresh = lock("a==1\n    # via -r requirements.in\n");
        let pairs = [Pair { target: &targets[0], file: "amd64.txt".into(), committed: &committed, fresh: &fresh }];
        let findings = compare_all(&pairs, &targets);
        assert_eq!(kinds(&findings), ["removed:old"]);
        assert_eq!(findings[0].line, Some(3));
        assert_eq!(findings[0].extra["old_version"], "3");
    }
}
