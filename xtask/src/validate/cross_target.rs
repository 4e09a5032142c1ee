//! `cross-target-drift`: a package locked at different versions for two targets although
//! requirements.in gives both targets the same pins for it. Versions that differ only in their
//! local label (`+cu116`) are one release and do not count.

use std::collections::{BTreeMap, BTreeSet};

use super::inputs::{Inputs, TargetInputs};
use super::suggested_pin;
use crate::report::Finding;
use crate::requirements::lockfile::LockedPackage;
use crate::requirements::PackageName;

pub fn check(inputs: &Inputs, findings: &mut Vec<Finding>) {
    let all_targets = inputs.all_targets();
    let active: Vec<BTreeMap<&PackageName, &LockedPackage>> = inputs.targets.iter().map(active_entries).collect();
    for (index, target) in inputs.targets.iter().enumerate() {
        for entry in active[index].values() {
            let mut own_pins = None;
            let mut others = Vec::new();
            let mut versions: Vec<&LockedPackage> = vec![*entry];
            for (other_index, other) in inputs.targets.iter().enumerate() {
                if other_index == index {
                    continue;
                }
                let Some(other_entry) = active[other_index].get(&entry.name) else { continue };
                let same_version = public_version(other_entry) == public_version(entry) && other_entry.url == entry.url;
                if same_version {
                    continue;
                }
                let own_pins = own_pins.get_or_insert_with(|| pin_set(inputs, target, &entry.name));
                if pin_set(inputs, other, &entry.name) != *own_pins {
                    continue;
                }
                if !satisfies_pins(inputs, target, entry) || !satisfies_pins(inputs, other, other_entry) {
                    // version-mismatch already reports a locked version outside its pin.
                    continue;
                }
                others.push(format!(
                    "{} in {} ({})",
                    other_entry.version_string(),
                    other.target.lockfile,
                    other.target.name
                ));
                versions.push(other_entry);
            }
            let own_pins = own_pins.unwrap_or_default();
            if others.is_empty() {
                continue;
            }

            let marker = super::target_marker_in(&inputs.tree, &target.target, &all_targets);
            let per_target = suggested_pin(entry.name.as_ref(), &entry.version_string(), marker.as_deref());
            let explanation = if own_pins.is_empty() {
                format!("{} does not pin it", inputs.requirements_in_name)
            } else {
                format!("the same pins in {} apply to both", inputs.requirements_in_name)
            };
            let (suggestion, advice) = match shared_pin(inputs, &versions) {
                Some(shared) => (
                    shared.clone(),
                    format!("add one pin for every target, `{shared}`, or `{per_target}` and the matching line for the other target"),
                ),
                None => (per_target.clone(), format!("add `{per_target}` and the matching line for the other target")),
            };
            findings.push(
                Finding::error(
                    "cross-target-drift",
                    format!(
                        "{} is {} here but {}, and {explanation}; {advice}",
                        entry.name,
                        entry.version_string(),
                        others.join(", ")
                    ),
                )
                .target(&target.target.name)
                .package(&entry.name)
                .at(&target.file, Some(entry.line))
                .with("suggestion", suggestion),
            );
        }
    }
}

/// One unconditional pin for every target: the highest of the locked versions, when none of
/// them carries a local label (`+cu116` names a build for one platform) and that version
/// satisfies each target's pins.
fn shared_pin(inputs: &Inputs, entries: &[&LockedPackage]) -> Option<String> {
    if entries.iter().any(|entry| entry.url.is_some()) {
        return None;
    }
    let versions: Vec<&pep440_rs::Version> = entries.iter().map(|entry| entry.version.as_ref()).collect::<Option<_>>()?;
    if versions.iter().any(|version| !version.local().is_empty()) {
        return None;
    }
    let highest = versions.iter().max()?;
    let name = &entries[0].name;
    let accepted = inputs.targets.iter().all(|target| {
        inputs
            .pins_named(name)
            .filter(|pin| pin.applies_to(&target.env))
            .all(|pin| pin.specifiers().is_none_or(|specifiers| specifiers.contains(highest)))
    });
    accepted.then(|| suggested_pin(name.as_ref(), &highest.to_string(), None))
}

/// The version without its local label: `1.13.1+cu116` and `1.13.1` are builds of one release
/// for different platforms, which is not drift.
fn public_version(entry: &LockedPackage) -> Option<pep440_rs::Version> {
    entry.version.clone().map(pep440_rs::Version::without_local)
}

/// The lockfile's entries that install on its target, the first one per name.
fn active_entries(target: &TargetInputs) -> BTreeMap<&PackageName, &LockedPackage> {
    let mut entries = BTreeMap::new();
    for entry in target.lockfile.packages.iter().filter(|entry| entry.applies_to(&target.env)) {
        entries.entry(&entry.name).or_insert(entry);
    }
    entries
}

fn satisfies_pins(inputs: &Inputs, target: &TargetInputs, entry: &LockedPackage) -> bool {
    let Some(version) = &entry.version else { return true };
    inputs
        .pins_named(&entry.name)
        .filter(|pin| pin.applies_to(&target.env))
        .all(|pin| pin.specifiers().is_none_or(|specifiers| specifiers.contains(version)))
}

/// The pins of a package that apply to a target, identified by file and line.
fn pin_set(inputs: &Inputs, target: &TargetInputs, name: &PackageName) -> BTreeSet<(String, usize)> {
    inputs
        .pins_named(name)
        .filter(|pin| pin.applies_to(&target.env))
        .map(|pin| (pin.file.display().to_string(), pin.line))
        .collect()
}
