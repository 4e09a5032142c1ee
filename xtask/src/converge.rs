//! `cargo xtask converge`: resolves every selected target afresh, pins each drifted transitive
//! dependency in requirements.in's transitive section, and repeats until a round pins nothing.
//!
//! A transitive dependency has drifted when a fresh resolution locks it at another version
//! than the committed lockfile (or newly adds it), or at different versions for different
//! targets. All rounds run on a temporary copy of the requirements folder. requirements.in and
//! the lockfiles are replaced only when the loop ends with nothing left to pin, so a failed
//! or oscillating run leaves the folder untouched.

mod edit;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};

use crate::exit::{self, Category, Outcome};
use crate::files;
use crate::project::{display_path, Project};
use crate::requirements::input::{self, RequirementsTree};
use crate::requirements::lockfile::{self, Lockfile};
use crate::resolve::{self, ResolveRequest, Resolver};
use crate::targets::{parse_python_version, Target};
use crate::validate::target_marker_in;

pub use edit::{add_transitive_pins, NewPin};

#[derive(clap::Args)]
pub struct Args {
    /// Target to converge, as named in the target table, or `all` (repeatable) [default: all]
    #[arg(long, value_name = "NAME|all")]
    arch: Vec<String>,

    /// Rounds of resolving and pinning before giving up
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_rounds: usize,

    /// Resolver backend [default: the one named in each lockfile's header, else uv]
    #[arg(long, value_enum)]
    resolver: Option<Resolver>,

    /// Python version X.Y to resolve for [default: the one each lockfile's header records,
    /// else the target table's]
    #[arg(long, value_name = "X.Y", value_parser = parse_python_version)]
    python_version: Option<String>,
}

/// The pins one round added.
#[derive(Debug, Clone)]
struct Round {
    pins: Vec<NewPin>,
}

pub fn run(project: &Project, args: Args) -> Result<Outcome> {
    if args.max_rounds == 0 {
        return Err(exit::invalid("--max-rounds must be at least 1"));
    }
    let targets = project.table.select_many(&args.arch)?;
    let committed: Vec<Option<Lockfile>> = targets.iter().map(|target| read_committed(project, target)).collect::<Result<_>>()?;

    let unselected: Vec<(&Target, Lockfile)> = project
        .table
        .targets
        .iter()
        .filter(|target| !targets.iter().any(|selected| selected.name == target.name))
        .filter_map(|target| Some((target, read_committed(project, target).ok()??)))
        .collect();

    let stage = tempfile::Builder::new().prefix("xtask-converge-").tempdir().context("creating a staging folder")?;
    files::copy_folder(&project.requirements_dir, stage.path())?;
    let staged = Project { requirements_dir: stage.path().to_path_buf(), ..project.clone() };
    let requirements_in = staged.requirements_in();

    for (target, committed) in targets.iter().zip(&committed) {
        resolve::preflight(&request_for(&staged, target, committed.as_ref(), &args))?;
    }

    let mut history: Vec<Round> = Vec::new();
    let mut pinned: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    for number in 1..=args.max_rounds {
        let requests: Vec<ResolveRequest> = targets
            .iter()
            .zip(&committed)
            .map(|(target, committed)| request_for(&staged, target, committed.as_ref(), &args))
            .collect();
        let mut fresh = Vec::new();
        for (request, result) in requests.iter().zip(resolve::resolve_all(&requests)) {
            let resolution = result.with_context(|| {
                format!("round {number}: resolving {} failed; nothing was written", request.target.name)
            })?;
            fresh.push(resolution);
        }

        let tree = input::load_tree(&requirements_in, &|path| std::fs::read_to_string(path))?;
        let fresh_lockfiles: Vec<&Lockfile> = fresh.iter().map(|resolution| &resolution.lockfile).collect();
        let pins = drifted_pins(&tree, &targets, &requests, &committed, &fresh_lockfiles, &unselected, &project.table.targets)?;

        let repeated: Vec<&NewPin> =
            pins.iter().filter(|pin| pinned.contains(&(pin.name.clone(), pin.marker.clone()))).collect();
        if !repeated.is_empty() {
            history.push(Round { pins: pins.clone() });
            print_history(&history);
            eprintln!(
                "error: converge oscillates: round {number} would pin {} again after an earlier round \
                 pinned it; nothing was written. Pin these packages by hand and run converge again",
                repeated.iter().map(|pin| pin.line()).collect::<Vec<_>>().join(", ")
            );
            return Ok(Outcome::Failed(Category::Findings));
        }

        history.push(Round { pins: pins.clone() });
        if pins.is_empty() {
            print_history(&history);
            let texts: Vec<&str> = fresh.iter().map(|resolution| resolution.text.as_str()).collect();
            write_results(project, &staged, &targets, &texts)?;
            return Ok(Outcome::Success);
        }

        for pin in &pins {
            pinned.insert((pin.name.clone(), pin.marker.clone()));
        }
        let text = std::fs::read_to_string(&requirements_in).context("reading the staged requirements.in")?;
        std::fs::write(&requirements_in, add_transitive_pins(&text, &pins)).context("writing the staged requirements.in")?;
    }

    print_history(&history);
    eprintln!(
        "error: converge did not settle within {}; nothing was written. Raise --max-rounds or pin \
         the packages listed above by hand",
        rounds_text(args.max_rounds)
    );
    Ok(Outcome::Failed(Category::Findings))
}

/// "1 round", "5 rounds".
fn rounds_text(count: usize) -> String {
    if count == 1 {
        "1 round".to_string()
    } else {
        format!("{count} rounds")
    }
}

fn read_committed(project: &Project, target: &Target) -> Result<Option<Lockfile>> {
    let path = project.lockfile(target);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(lockfile::parse(&text, &path)?)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(exit::external(format!("cannot read {}: {err}", display_path(&path)))),
    }
}

/// Builds the fresh resolution for a target, with the arguments' overrides.
fn request_for<'a>(project: &'a Project, target: &'a Target, committed: Option<&Lockfile>, args: &Args) -> ResolveRequest<'a> {
    let header = committed.and_then(|lockfile| lockfile.header.as_ref());
    resolve::fresh_request(project, target, header, args.resolver, args.python_version.clone())
}

/// The pins to add: every unpinned package of a fresh resolution whose version differs from
/// the committed lockfile's (or that it lacks), or from another target's fresh resolution.
///
/// A pin carries its target's marker (spelled as requirements.in spells it) unless every
/// target of the table locks the package at the same version, counting the fresh resolutions
/// of the selected targets and the committed lockfiles of the others. An unconditional pin
/// supersedes the existing pins of that version in requirements.in, which can only be marker
/// pins for other targets, so that converging one target at a time ends with one line.
fn drifted_pins(
    tree: &RequirementsTree,
    targets: &[&Target],
    requests: &[ResolveRequest],
    committed: &[Option<Lockfile>],
    fresh: &[&Lockfile],
    unselected: &[(&Target, Lockfile)],
    all_targets: &[Target],
) -> Result<Vec<NewPin>> {
    let mut drifted: BTreeSet<String> = BTreeSet::new();
    let mut versions: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();

    for (index, target) in targets.iter().enumerate() {
        let env = target.marker_environment(&requests[index].python_version)?;
        for package in &fresh[index].packages {
            let name = package.name.to_string();
            versions.entry(name.clone()).or_default().insert(target.name.clone(), package.version_string());
            let pinned = tree
                .pins()
                .chain(tree.constraints.iter().flat_map(|file| file.pins.iter()))
                .any(|pin| pin.name == package.name && pin.applies_to(&env));
            if pinned {
                continue;
            }
            let changed = committed[index].as_ref().is_some_and(|lockfile| {
                lockfile.get(&package.name).is_none_or(|old| old.version != package.version || old.url != package.url)
            });
            let public = |version: &Option<pep440_rs::Version>| version.clone().map(pep440_rs::Version::without_local);
            let differs_across = fresh.iter().enumerate().any(|(other, lockfile)| {
                other != index && lockfile.get(&package.name).is_some_and(|entry| public(&entry.version) != public(&package.version))
            });
            if changed || differs_across {
                drifted.insert(name);
            }
        }
    }

    let mut pins = Vec::new();
    for name in drifted {
        let per_target = &versions[&name];
        if let Some(version) = shared_version(&name, per_target, unselected, all_targets) {
            let replaces = tree
                .files
                .first()
                .into_iter()
                .flat_map(|file| file.pins.iter())
                .filter(|pin| pin.name.as_ref() == name && pin.exact_version().is_some_and(|pinned| pinned.to_string() == version))
                .map(|pin| pin.line)
                .collect();
            pins.push(NewPin { name, version, marker: None, replaces });
            continue;
        }
        for target in targets {
            let Some(version) = per_target.get(&target.name) else { continue };
            let marker = target_marker_in(tree, target, all_targets);
            pins.push(NewPin { name: name.clone(), version: version.clone(), marker, replaces: Vec::new() });
        }
    }
    Ok(pins)
}

/// The version at which every target of the table locks a package: the fresh version for a
/// selected target, the committed lockfile's for the others. `None` when a target lacks the
/// package or its lockfile, or when two versions differ.
fn shared_version(
    name: &str,
    fresh_versions: &BTreeMap<String, String>,
    unselected: &[(&Target, Lockfile)],
    all_targets: &[Target],
) -> Option<String> {
    let package = crate::requirements::PackageName::new(name.to_string()).ok()?;
    let mut versions = BTreeSet::new();
    for target in all_targets {
        let version = match fresh_versions.get(&target.name) {
            Some(version) => version.clone(),
            None => {
                let (_, lockfile) = unselected.iter().find(|(other, _)| other.name == target.name)?;
                lockfile.get(&package)?.version_string()
            }
        };
        versions.insert(version);
    }
    (versions.len() == 1).then(|| versions.into_iter().next().expect("one version"))
}

fn print_history(history: &[Round]) {
    for (index, round) in history.iter().enumerate() {
        if round.pins.is_empty() {
            eprintln!("round {}: nothing drifted", index + 1);
        } else {
            let lines: Vec<String> = round.pins.iter().map(NewPin::line).collect();
            eprintln!("round {}: pinned {}", index + 1, lines.join(", "));
        }
    }
}

/// Replaces requirements.in (when the rounds changed it) and each target's lockfile, each
/// atomically.
fn write_results(project: &Project, staged: &Project, targets: &[&Target], texts: &[&str]) -> Result<()> {
    let staged_in = std::fs::read_to_string(staged.requirements_in()).context("reading the staged requirements.in")?;
    let original_in = std::fs::read_to_string(project.requirements_in()).unwrap_or_default();
    if staged_in != original_in {
        let path = project.requirements_in();
        files::write_atomically(&path, staged_in.as_bytes()).with_context(|| format!("writing {}", display_path(&path)))?;
        eprintln!("wrote {}", display_path(&path));
    }
    for (target, text) in targets.iter().zip(texts) {
        let path = project.lockfile(target);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == *text) {
            continue;
        }
        files::write_atomically(&path, text.as_bytes()).with_context(|| format!("writing {}", display_path(&path)))?;
        eprintln!("wrote {}", display_path(&path));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_count_plural() {
        assert_eq!(rounds_text(1), "1 round");
        assert_eq!(rounds_text(2), "2 rounds");
        assert_eq!(rounds_text(5), "5 rounds");
    }
}
