//! `cargo xtask compile`: resolves requirements.in into each target's lockfile.
//!
//! Existing pins are kept as preferences unless `--upgrade` or `--upgrade-package` drops them.
//! With several targets the resolutions run in parallel, and each lockfile is replaced only
//! when its own resolution succeeded.

use std::path::Path;

use anyhow::Result;

use pep508_rs::PackageName;

use crate::exit::{self, Outcome};
use crate::files;
use crate::project::{display_path, Project};
use crate::requirements::{diff, lockfile};
use crate::resolve::{self, ResolveRequest, Resolver, Upgrade};
use crate::targets::{parse_python_version, Target};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Target to compile, as named in the target table, or `all`
    #[arg(long, value_name = "NAME|all")]
    pub arch: String,

    /// Resolver backend [default: the one named in the existing lockfile's header, else
    /// pip-compile when the host matches the target, else uv]
    #[arg(long, value_enum)]
    pub resolver: Option<Resolver>,

    /// Drop every existing pin and resolve the newest allowed versions
    #[arg(long, conflicts_with = "upgrade_package")]
    pub upgrade: bool,

    /// Drop the existing pin of this package (repeatable)
    #[arg(long, value_name = "PKG", value_parser = parse_package_name)]
    pub upgrade_package: Vec<String>,

    /// Python version X.Y to resolve for, instead of the target table's
    #[arg(long, value_name = "X.Y", value_parser = parse_python_version)]
    pub python_version: Option<String>,
}

pub fn run(project: &Project, args: Args) -> Result<Outcome> {
    let targets = project.table.select(&args.arch)?;
    let upgrade = if args.upgrade {
        Upgrade::All
    } else if args.upgrade_package.is_empty() {
        Upgrade::None
    } else {
        Upgrade::Packages(args.upgrade_package.clone())
    };

    let mut requests = Vec::new();
    for target in &targets {
        let existing = read_existing(&project.lockfile(target))?;
        let resolver = args.resolver.unwrap_or_else(|| default_resolver(target, existing.as_deref()));
        requests.push(ResolveRequest {
            project,
            target,
            resolver,
            python_version: target.python_version(args.python_version.as_deref()).to_string(),
            source_dir: project.requirements_dir.clone(),
            preferences: existing,
            upgrade: upgrade.clone(),
        });
    }

    for request in &requests {
        resolve::preflight(request)?;
    }
    warn_unknown_upgrade_packages(project, &requests, &args.upgrade_package);

    let results = resolve::resolve_all(&requests);

    let mut outcome = Outcome::Success;
    let mut failures = Vec::new();
    for (request, result) in requests.iter().zip(results) {
        // A failed write is that target's failure: the other targets are still written.
        let written = result.and_then(|resolution| {
            write_lockfile(project, request.target, request.preferences.as_deref(), &resolution.text)
        });
        match written {
            Ok(()) => {}
            Err(err) => {
                let category = exit::category_of(&err);
                outcome = outcome.max(Outcome::Failed(category));
                failures.push((request.target.name.clone(), err));
            }
        }
    }

    if targets.len() == 1 {
        if let Some((_, err)) = failures.pop() {
            return Err(err);
        }
    }
    for (name, err) in &failures {
        exit::report_error(err);
        eprintln!("target `{name}` failed, so its lockfile is unchanged");
    }
    Ok(outcome)
}

/// Warns about `--upgrade-package` names that neither requirements.in nor any selected
/// lockfile mentions, which are most often typos.
fn warn_unknown_upgrade_packages(project: &Project, requests: &[ResolveRequest], packages: &[String]) {
    let Ok(tree) = resolve::load_requirements(project, &project.requirements_dir) else { return };
    for package in packages {
        let Ok(name) = PackageName::new(package.clone()) else { continue };
        let pinned = tree.pins().any(|pin| pin.name == name);
        let locked = requests.iter().any(|request| {
            request.preferences.as_deref().is_some_and(|text| {
                lockfile::parse(text, Path::new(&request.target.lockfile))
                    .is_ok_and(|lock| lock.get(&name).is_some())
            })
        });
        if !pinned && !locked {
            eprintln!("warning: --upgrade-package {package} names a package that is neither in requirements.in nor locked");
        }
    }
}

/// Parses `--upgrade-package` values: a bare, valid distribution name.
fn parse_package_name(value: &str) -> std::result::Result<String, String> {
    PackageName::new(value.to_string())
        .map(|_| value.to_string())
        .map_err(|err| format!("`{value}` is not a package name ({err}); pass the name alone, without a version"))
}

/// Picks the backend when `--resolver` is not given.
fn default_resolver(target: &Target, existing: Option<&str>) -> Resolver {
    let recorded = existing
        .and_then(crate::requirements::header::parse)
        .and_then(|header| Resolver::from_header_tool(&header.tool));
    if let Some(resolver) = recorded {
        return resolver;
    }
    let host_matches = target.markers.get("platform_machine").map(String::as_str)
        == Some(std::env::consts::ARCH)
        && target.markers.get("sys_platform").map(String::as_str) == Some(std::env::consts::OS);
    if host_matches {
        Resolver::PipCompile
    } else {
        Resolver::Uv
    }
}

fn read_existing(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(exit::external(format!("cannot read {}: {err}", display_path(path)))),
    }
}

/// Replaces the lockfile atomically and reports what changed.
fn write_lockfile(project: &Project, target: &Target, previous: Option<&str>, text: &str) -> Result<()> {
    let path = project.lockfile(target);
    let shown_path = display_path(&path);

    let summary = match previous {
        Some(previous) if previous == text => {
            eprintln!("kept {shown_path} (unchanged)");
            return Ok(());
        }
        Some(previous) => summarize_changes(&path, previous, text),
        None => "new".to_string(),
    };
    files::write_atomically(&path, text.as_bytes()).map_err(|err| {
        exit::external(format!(
            "cannot write {shown_path}: {err:#}; check that its folder is writable and has free space"
        ))
    })?;
    eprintln!("wrote {shown_path} ({summary})");
    Ok(())
}

fn summarize_changes(path: &Path, previous: &str, text: &str) -> String {
    let (Ok(old), Ok(new)) = (lockfile::parse(previous, path), lockfile::parse(text, path)) else {
        return "rewritten".to_string();
    };
    let changes = diff::diff(&old, &new);
    let versions = changes.iter().filter(|change| !matches!(change, diff::Change::AnnotationChanged { .. })).count();
    match (versions, changes.len()) {
        (0, 0) => "same pins, layout changed".to_string(),
        (0, _) => "annotations changed".to_string(),
        (count, _) => format!("{count} package changes"),
    }
}

