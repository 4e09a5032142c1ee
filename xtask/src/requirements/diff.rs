//! Semantic differences between a committed lockfile and a fresh resolution.
//!
//! Names compare after PEP 503 normalization, versions under PEP 440 equality and markers as
//! boolean expressions, so that spelling and ordering differences are not drift.

use pep508_rs::PackageName;

use super::lockfile::{LockedPackage, Lockfile};

/// One difference, from the committed lockfile's point of view.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The fresh resolution has a package the committed lockfile lacks.
    Added { name: PackageName, version: String, via: Vec<String> },
    /// The committed lockfile has a package the fresh resolution dropped.
    Removed { name: PackageName, version: String, line: usize },
    /// Same package, another version.
    Changed { name: PackageName, old_version: String, new_version: String, line: usize, via: Vec<String> },
    /// Same package and version, another marker.
    MarkerChanged {
        name: PackageName,
        version: String,
        old_marker: Option<String>,
        new_marker: Option<String>,
        line: usize,
    },
    /// Only the `# via` annotations differ.
    AnnotationChanged { name: PackageName, old_via: Vec<String>, new_via: Vec<String>, line: usize },
}

impl Change {
    pub fn name(&self) -> &PackageName {
        match self {
            Change::Added { name, .. }
            | Change::Removed { name, .. }
            | Change::Changed { name, .. }
            | Change::MarkerChanged { name, .. }
            | Change::AnnotationChanged { name, .. } => name,
        }
    }
}

/// Lists the differences between `committed` and `fresh`, in the committed lockfile's order,
/// then additions in the fresh lockfile's order.
pub fn diff(committed: &Lockfile, fresh: &Lockfile) -> Vec<Change> {
    let mut changes = Vec::new();

    for old in &committed.packages {
        match fresh.get(&old.name) {
            None => changes.push(Change::Removed {
                name: old.name.clone(),
                version: old.version_string(),
                line: old.line,
            }),
            Some(new) => compare(old, new, &mut changes),
        }
    }
    for new in &fresh.packages {
        if committed.get(&new.name).is_none() {
            changes.push(Change::Added {
                name: new.name.clone(),
                version: new.version_string(),
                via: new.via.clone(),
            });
        }
    }
    changes
}

fn compare(old: &LockedPackage, new: &LockedPackage, changes: &mut Vec<Change>) {
    let same_version = old.version == new.version && old.url == new.url;
    if !same_version {
        changes.push(Change::Changed {
            name: old.name.clone(),
            old_version: old.version_string(),
            new_version: new.version_string(),
            line: old.line,
            via: new.via.clone(),
        });
        return;
    }
    if old.marker != new.marker {
        changes.push(Change::MarkerChanged {
            name: old.name.clone(),
            version: old.version_string(),
            old_marker: old.marker_text.clone(),
            new_marker: new.marker_text.clone(),
            line: old.line,
        });
        return;
    }
    let mut old_via = old.via.clone();
    let mut new_via = new.via.clone();
    old_via.sort();
    new_via.sort();
    if old_via != new_via {
        changes.push(Change::AnnotationChanged { name: old.name.clone(), old_via, new_via, line: old.line });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::lockfile::parse;
    use std::path::Path;

    fn lock(text: &str) -> Lockfile {
        parse(text, Path::new("lock.txt")).unwrap()
    }

    #[test]
    fn identical_modulo_spelling_and_order() {
        let old = lock("Msgpack_Numpy==0.4.8\n    # via -r requirements.in\ntorch==1.13.1 ; platform_machine == \"arm64\" or platform_machine == \"aarch64\"\n");
        let new = lock("torch==1.13.1.0 ; platform_machine == 'aarch64' or platform_machine == 'arm64'\nmsgpack-numpy==0.4.8\n    # via -r requirements.in\n");
        assert_eq!(diff(&old, &new), []);
    }

    #[test]
    fn every_kind_reported() {
        let old = lock("a==1\nb==1\nc==1\nd==1\n    # via x\n");
        let new = lock("a==2\nc==1 ; sys_platform == \"linux\"\nd==1\n    # via y\ne==5\n    # via a\n");
        let changes = diff(&old, &new);
        assert_eq!(changes.len(), 5, "{changes:?}");
        let Change::Changed { old_version, new_version, line, .. } = &changes[0] else { panic!("{changes:?}") };
        assert_eq!(old_version, "1");
        assert_eq!(new_version, "2");
        assert_eq!(*line, 1);
        assert!(matches!(&changes[1], Change::Removed { line: 2, .. }));
        assert!(matches!(&changes[2], Change::MarkerChanged { new_marker: Some(_), .. }));
        assert!(matches!(&changes[3], Change::AnnotationChanged { .. }));
        let Change::Added { version, via, .. } = &changes[4] else { panic!("{changes:?}") };
        assert_eq!(version, "5");
        assert_eq!(via, &["a"]);
    }

    #[test]
    fn local_version_change_detected() {
        let old = lock("torch==1.13.1+cu116\n");
        let new = lock("torch==1.13.1\n");
        assert!(matches!(&diff(&old, &new)[0], Change::Changed { .. }));
    }
}
