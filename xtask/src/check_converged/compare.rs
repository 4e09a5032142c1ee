//! Findings from the semantic difference between a committed lockfile and a fresh resolution:
//! `added`, `removed`, `changed`, `marker-changed` and `annotation-changed`, each with the
//! requirements.in line that pins the fresh result.

use std::collections::BTreeSet;

use crate::report::Finding;
use crate::requirements::diff::{self, Change};
use crate::requirements::input::RequirementsTree;
use crate::requirements::lockfile::Lockfile;
use crate::requirements::PackageName;
use crate::targets::Target;
use crate::validate::{suggested_pin, target_marker_in};

/// One target's committed lockfile and its fresh resolution.
pub struct Pair<'a> {
    pub target: &'a Target,
    /// The committed lockfile's path for reports.
    pub file: String,
    pub committed: &'a Lockfile,
    pub fresh: &'a Lockfile,
}

/// The inputs besides the pairs that decide how a suggestion is spelled.
pub struct Context<'a> {
    /// Every target of the table.
    pub all_targets: &'a [Target],
    /// requirements.in, whose per-target markers the suggestions copy.
    pub tree: &'a RequirementsTree,
    /// The committed lockfiles of the targets that have no pair (not selected, or their
    /// resolution failed), by target name.
    pub unchecked: Vec<(&'a str, &'a Lockfile)>,
}

/// Compares every pair. A suggestion carries the target's marker unless every target of the
/// table would lock the package at the suggested version: the fresh resolutions of the pairs
/// agree on it, and each other target's committed lockfile already locks it.
pub fn compare_all(pairs: &[Pair], context: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for pair in pairs {
        let marker = target_marker_in(context.tree, pair.target, context.all_targets);
        for change in diff::diff(pair.committed, pair.fresh) {
            let unconditional = shared_fresh_version(pairs, context, change.name()).is_some();
            let marker = if unconditional { None } else { marker.as_deref() };
            findings.push(finding_for(pair, &change, marker));
        }
    }
    findings
}

/// Returns the version every target of the table locks a package at. It counts the fresh
/// resolution of each pair and the committed lockfile of every other target. It is `None`
/// when a target lacks the package, has no lockfile here, or locks another version.
fn shared_fresh_version(pairs: &[Pair], context: &Context, name: &PackageName) -> Option<String> {
    let mut versions = BTreeSet::new();
    for target in context.all_targets {
        let lockfile = match pairs.iter().find(|pair| pair.target.name == target.name) {
            Some(pair) => pair.fresh,
            None => context.unchecked.iter().find(|(unchecked, _)| *unchecked == target.name)?.1,
        };
        versions.insert(lockfile.get(name)?.version_string());
    }
    let mut versions = versions.into_iter();
    let version = versions.next()?;
    versions.next().is_none().then_some(version)
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
            let keep = suggested_pin(&name, old_version, marker);
            Finding::error(
                "changed",
                format!(
                    "a fresh resolution for {target} picks {name} {new_version} instead of {old_version}{}; \
                     add `{suggestion}` to requirements.in and recompile, or pin `{keep}` to keep the \
                     image unchanged",
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

    fn compare(pairs: &[Pair], targets: &[Target]) -> Vec<Finding> {
        compare_with(pairs, targets, "", Vec::new())
    }

    fn compare_with(pairs: &[Pair], targets: &[Target], requirements_in: &str, unchecked: Vec<(&str, &Lockfile)>) -> Vec<Finding> {
        let file = crate::requirements::input::parse(requirements_in, Path::new("requirements.in")).unwrap();
        let tree = RequirementsTree { files: vec![file], constraints: Vec::new() };
        compare_all(pairs, &Context { all_targets: targets, tree: &tree, unchecked })
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
        let findings = compare(&pairs, &targets);
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
        let message = compare(&pairs, &targets)[0].message.clone();
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
        let findings = compare(&pairs, &targets);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].extra["suggestion"], "six==1.16.0");
        assert_eq!(findings[1].extra["suggestion"], "six==1.16.0");
    }

    #[test]
    fn one_target_suggestion_uses_requirements_in_marker() {
        let targets = targets();
        let requirements_in = "six==1.14.0\ntorch==1.13.1; platform_machine == \"arm64\" or platform_machine == \"aarch64\"\n";
        let committed = lock("certifi==2024.8.30\n    # via requests\n");
        let fresh = lock("certifi==2025.1.31\n    # via requests\n");
        let pairs = [Pair { target: &targets[1], file: "arm64.txt".into(), committed: &committed, fresh: &fresh }];
        let findings = compare_with(&pairs, &targets, requirements_in, Vec::new());

        let marker = "platform_machine == \"arm64\" or platform_machine == \"aarch64\"";
        assert_eq!(findings[0].extra["suggestion"], format!("certifi==2025.1.31 ; {marker}"));
        let message = &findings[0].message;
        assert!(message.contains(&format!("pin `certifi==2024.8.30 ; {marker}` to keep the image unchanged")), "{message}");
    }

    #[test]
    fn unchecked_target_decides_marker() {
        let targets = targets();
        let committed = lock("six==1.14.0\n    # via a\n");
        let fresh = lock("six==1.16.0\n    # via a\n");
        let pairs = [Pair { target: &targets[1], file: "arm64.txt".into(), committed: &committed, fresh: &fresh }];
        let cases = [
            ("amd64 locks the new version", Some("six==1.16.0\n    # via a\n"), "six==1.16.0"),
            ("amd64 locks the old version", Some("six==1.14.0\n    # via a\n"), "six==1.16.0 ; platform_machine == \"aarch64\""),
            ("amd64 lacks six", Some("a==1\n"), "six==1.16.0 ; platform_machine == \"aarch64\""),
            ("amd64 lockfile unknown", None, "six==1.16.0 ; platform_machine == \"aarch64\""),
        ];
        for (name, amd64, expected) in cases {
            let amd64 = amd64.map(lock);
            let unchecked: Vec<(&str, &Lockfile)> = amd64.iter().map(|lockfile| ("amd64-gpu", lockfile)).collect();
            let findings = compare_with(&pairs, &targets, "", unchecked);
            assert_eq!(findings[0].extra["suggestion"], expected, "{name}");
        }
    }

    #[test]
    fn spelling_only_difference_is_not_drift() {
        let targets = targets();
        let committed = lock("Msgpack_Numpy==0.4.8\n    # via -r requirements.in\n");
        let fresh = lock("msgpack-numpy==0.4.8\n    # via -r requirements.in\n");
        let pairs = [Pair { target: &targets[0], file: "amd64.txt".into(), committed: &committed, fresh: &fresh }];
        assert!(compare(&pairs, &targets).is_empty());
    }

    #[test]
    fn removed_names_committed_line() {
        let targets = targets();
        let committed = lock("a==1\n    # via -r requirements.in\nold==3\n    # via a\n");
        let fresh = lock("a==1\n    # via -r requirements.in\n");
        let pairs = [Pair { target: &targets[0], file: "amd64.txt".into(), committed: &committed, fresh: &fresh }];
        let findings = compare(&pairs, &targets);
        assert_eq!(kinds(&findings), ["removed:old"]);
        assert_eq!(findings[0].line, Some(3));
        assert_eq!(findings[0].extra["old_version"], "3");
    }
}
