//! Rules relating requirements.in pins to each target's lockfile: `pin-missing`,
//! `version-mismatch`, `marker-missing`, `inactive-pin`, `foreign-pin`, `foreign-transitive`
//! and `unpinned-transitive`, and on the pins alone: `conflicting-pins` and `duplicate-pin`.

use pep508_rs::VersionOrUrl;

use super::inputs::{pin_location, Inputs, TargetInputs};
use crate::report::Finding;
use crate::requirements::input::{Pin, PinClash};
use crate::requirements::lockfile::LockedPackage;

pub fn check(inputs: &Inputs, findings: &mut Vec<Finding>) {
    inactive_pins(inputs, findings);
    for target in &inputs.targets {
        clashing_pins(inputs, target, findings);
        pins_in_lockfile(inputs, target, findings);
        lockfile_entries(inputs, target, findings);
    }
}

/// `inactive-pin`: a pin whose marker holds for no target, which is almost always a misspelled
/// marker.
fn inactive_pins(inputs: &Inputs, findings: &mut Vec<Finding>) {
    let envs = inputs.all_environments();
    for pin in inputs.tree.pins() {
        if envs.iter().any(|env| pin.applies_to(env)) {
            continue;
        }
        let names: Vec<&str> = inputs.targets.iter().map(|t| t.target.name.as_str()).collect();
        let marker = pin.marker_text.as_deref().unwrap_or_default();
        findings.push(
            Finding::error(
                "inactive-pin",
                format!(
                    "`{}` applies to no target ({}): its marker `{marker}` is false for all of them; \
                     Linux on arm64 reports platform_machine \"aarch64\", only macOS reports \"arm64\"",
                    pin.text,
                    names.join(", ")
                ),
            )
            .package(&pin.name)
            .at(&pin.file.display().to_string(), Some(pin.line)),
        );
    }
}

/// `conflicting-pins` (an error: no version satisfies both, so every resolution fails) and
/// `duplicate-pin` (a warning: the same version twice) for two pins that apply to the target.
/// The finding sits on the later line and names both.
fn clashing_pins(inputs: &Inputs, target: &TargetInputs, findings: &mut Vec<Finding>) {
    let name = &target.target.name;
    for clash in inputs.tree.clashing_pins(&target.env) {
        let finding = match clash {
            PinClash::Conflict(first, second) => Finding::error(
                "conflicting-pins",
                format!(
                    "`{}` ({}) conflicts with `{}` ({}): both apply to {name} and no version satisfies \
                     both; keep one, or give each a marker for its own target",
                    second.text,
                    pin_location(second),
                    first.text,
                    pin_location(first)
                ),
            ),
            PinClash::Duplicate(first, second) => Finding::warning(
                "duplicate-pin",
                format!(
                    "`{}` ({}) repeats `{}` ({}) for {name}; remove one of them",
                    second.text,
                    pin_location(second),
                    first.text,
                    pin_location(first)
                ),
            ),
        };
        let (PinClash::Conflict(_, second) | PinClash::Duplicate(_, second)) = clash;
        findings.push(finding.target(name).package(&second.name).at(&second.file.display().to_string(), Some(second.line)));
    }
}

/// `pin-missing`, `version-mismatch` and `marker-missing` for every pin that applies to the
/// target. Constraint pins (`-c`) are checked for their version only.
fn pins_in_lockfile(inputs: &Inputs, target: &TargetInputs, findings: &mut Vec<Finding>) {
    let name = &target.target.name;
    for pin in inputs.tree.pins() {
        if !pin.applies_to(&target.env) {
            continue;
        }
        let entries: Vec<&LockedPackage> =
            target.lockfile.packages.iter().filter(|package| package.name == pin.name).collect();
        let active: Vec<&LockedPackage> =
            entries.iter().copied().filter(|package| package.applies_to(&target.env)).collect();

        if active.is_empty() {
            findings.push(missing_pin(target, pin, &entries));
            continue;
        }
        for entry in &active {
            if let Some(finding) = version_mismatch(target, pin, entry) {
                findings.push(finding);
            }
            if pin.marker_text.is_some() && entry.marker_text.is_none() && entry.is_direct() {
                findings.push(
                    Finding::error(
                        "marker-missing",
                        format!(
                            "{} is locked without the marker `{}` that {} gives it; \
                             recompile with a resolver that keeps markers",
                            entry.name,
                            pin.marker_text.as_deref().unwrap_or_default(),
                            pin_location(pin)
                        ),
                    )
                    .target(name)
                    .package(&entry.name)
                    .at(&target.file, Some(entry.line)),
                );
            }
        }
    }

    for pin in inputs.tree.constraints.iter().flat_map(|file| file.pins.iter()) {
        if !pin.applies_to(&target.env) {
            continue;
        }
        let entries = target.lockfile.packages.iter().filter(|package| package.name == pin.name);
        for entry in entries.filter(|package| package.applies_to(&target.env)) {
            if let Some(finding) = version_mismatch(target, pin, entry) {
                findings.push(finding);
            }
        }
    }
}

fn missing_pin(target: &TargetInputs, pin: &Pin, entries: &[&LockedPackage]) -> Finding {
    let name = &target.target.name;
    let lockfile_name = &target.target.lockfile;
    let message = if let Some(entry) = entries.first() {
        format!(
            "`{}` applies to {name}, but {lockfile_name} locks {} only with a marker that is \
             false for it (line {}); recompile with `cargo xtask compile --arch {name}`",
            pin.text, entry.name, entry.line
        )
    } else if target.lockfile.unsafe_packages.iter().any(|(unsafe_name, _)| {
        crate::requirements::normalize_name(unsafe_name) == pin.name.as_ref()
    }) {
        format!(
            "`{}` applies to {name}, but {lockfile_name} leaves {} out as unsafe, so the image \
             does not get this version; compile with --allow-unsafe",
            pin.text, pin.name
        )
    } else {
        format!(
            "`{}` applies to {name}, but {lockfile_name} does not lock {}; recompile with \
             `cargo xtask compile --arch {name}`",
            pin.text, pin.name
        )
    };
    Finding::error("pin-missing", message)
        .target(name)
        .package(&pin.name)
        .at(&pin.file.display().to_string(), Some(pin.line))
}

/// `version-mismatch` under PEP 440: a pin without a local version accepts any local version
/// of its release, while a pin with one requires exactly that local version.
fn version_mismatch(target: &TargetInputs, pin: &Pin, entry: &LockedPackage) -> Option<Finding> {
    let satisfied = match (&pin.requirement.version_or_url, &entry.version, &entry.url) {
        (None, _, _) => true,
        (Some(VersionOrUrl::VersionSpecifier(specifiers)), Some(version), _) => specifiers.contains(version),
        (Some(VersionOrUrl::Url(url)), _, Some(locked_url)) => {
            url.to_string().trim_end_matches('/') == locked_url.trim_end_matches('/')
        }
        _ => false,
    };
    if satisfied {
        return None;
    }
    Some(
        Finding::error(
            "version-mismatch",
            format!(
                "{} {} does not satisfy `{}` ({}); recompile with `cargo xtask compile --arch {}`",
                entry.name,
                entry.version_string(),
                pin.text,
                pin_location(pin),
                target.target.name
            ),
        )
        .target(&target.target.name)
        .package(&entry.name)
        .at(&target.file, Some(entry.line)),
    )
}

/// `foreign-pin`, `foreign-transitive` and `unpinned-transitive` for every lockfile entry.
///
/// A repeated entry of a name gets no warning: `duplicate-package` already reports its line,
/// and in a merged lockfile the repeats would double every warning.
fn lockfile_entries(inputs: &Inputs, target: &TargetInputs, findings: &mut Vec<Finding>) {
    let name = &target.target.name;
    let mut seen = std::collections::BTreeSet::new();
    for entry in &target.lockfile.packages {
        let at = |finding: Finding| finding.target(name).package(&entry.name).at(&target.file, Some(entry.line));

        if !entry.applies_to(&target.env) {
            findings.push(at(Finding::error(
                "foreign-pin",
                format!(
                    "{}'s marker `{}` is false for {name} (platform_machine {:?}, Python {}), so \
                     this line belongs to another target's lockfile",
                    entry.name,
                    entry.marker_text.as_deref().unwrap_or_default(),
                    target.target.markers.get("platform_machine").map_or("", String::as_str),
                    target.python_version
                ),
            )));
            continue;
        }
        let repeated = !seen.insert(&entry.name);

        let pins: Vec<&Pin> = inputs.pins_named(&entry.name).collect();
        if pins.iter().any(|pin| pin.applies_to(&target.env)) {
            continue;
        }
        let parents: Vec<&str> = entry.parents().collect();
        let via = parents.join(", ");

        if pins.is_empty() {
            if entry.is_direct() {
                findings.push(at(Finding::error(
                    "foreign-pin",
                    format!(
                        "{} is marked as required by {}, which has no pin for it: the lockfile is \
                         stale; recompile with `cargo xtask compile --arch {name}`",
                        entry.name, inputs.requirements_in_name
                    ),
                )));
            } else if !repeated {
                let suggestion = super::suggested_pin(entry.name.as_ref(), &entry.version_string(), None);
                findings.push(
                    at(Finding::warning(
                        "unpinned-transitive",
                        format!(
                            "{} {} is locked but not pinned in {} (via {via}), so it can drift; \
                             pin it with `{suggestion}`",
                            entry.name,
                            entry.version_string(),
                            inputs.requirements_in_name
                        ),
                    ))
                    .with("suggestion", suggestion)
                    .with("via", via.clone()),
                );
            }
            continue;
        }

        let locations: Vec<String> = pins.iter().map(|pin| format!("`{}` ({})", pin.text, pin_location(pin))).collect();
        if entry.is_direct() {
            findings.push(at(Finding::error(
                "foreign-pin",
                format!(
                    "{} is required directly here, but it is pinned only for other targets: {}",
                    entry.name,
                    locations.join(", ")
                ),
            )));
        } else if !repeated {
            findings.push(
                at(Finding::warning(
                    "foreign-transitive",
                    format!(
                        "{} is pinned only for other targets ({}), but {via} pulls it into {name}",
                        entry.name,
                        locations.join(", ")
                    ),
                ))
                .with("via", via.clone()),
            );
        }
    }
}
