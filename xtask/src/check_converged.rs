//! `cargo xtask check-converged`: re-resolves each target afresh and compares the result with
//! the committed lockfile, then checks that every locked version has a wheel for its target.
//!
//! The fresh resolution runs in a temporary folder without the committed lockfile, because
//! pip-compile and uv both prefer the pins of an existing output file, which would hide the
//! drift this command exists to find. It uses the backend named in the lockfile's header and
//! the Python version the header records, unless `--resolver` or `--python-version` override
//! them. Nothing in the requirements folder is written. With `--offline` it runs
//! `validate`'s checks instead.

mod compare;
mod wheels;

use anyhow::Result;

use crate::exit::{self, invalid, Outcome};
use crate::project::{display_path, Project};
use crate::report::{Format, Report};
use crate::requirements::lockfile::{self, Lockfile};
use crate::resolve::{self, ResolveRequest, Resolver, Upgrade};
use crate::targets::{parse_python_version, Target};

pub use compare::{compare_all, Pair};

#[derive(clap::Args)]
pub struct Args {
    /// Target to check, as named in the target table, or `all` (repeatable) [default: all]
    #[arg(long, value_name = "NAME|all")]
    arch: Vec<String>,

    /// Run only validate's static checks, with no network
    #[arg(long)]
    offline: bool,

    /// Resolver backend [default: the one named in each lockfile's header]
    #[arg(long, value_enum)]
    resolver: Option<Resolver>,

    /// Python version X.Y to resolve for [default: the one each lockfile's header records]
    #[arg(long, value_name = "X.Y", value_parser = parse_python_version)]
    python_version: Option<String>,

    /// Treat annotation-only differences and unpinned transitive packages as errors
    #[arg(long)]
    strict: bool,

    /// Skip the wheel availability check
    #[arg(long)]
    no_wheel_check: bool,

    /// Report format on stdout
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(project: &Project, args: Args) -> Result<Outcome> {
    let targets = project.table.select_many(&args.arch)?;
    if args.offline {
        return run_offline(project, &args, &targets);
    }

    let mut committed = Vec::new();
    for target in &targets {
        committed.push(read_committed(project, target)?);
    }
    let requests: Vec<ResolveRequest> = targets
        .iter()
        .zip(&committed)
        .map(|(target, (_, lockfile))| request_for(project, target, lockfile, &args))
        .collect();
    // The wheel check reads only the committed lockfiles, so it runs beside the resolutions.
    let (results, wheel_result) = std::thread::scope(|scope| {
        let wheel_check = (!args.no_wheel_check)
            .then(|| scope.spawn(|| wheel_findings(project, &targets, &committed, &requests)));
        let results = resolve::resolve_all(&requests);
        let wheel_result = wheel_check.map(|handle| {
            handle.join().unwrap_or_else(|_| Err(exit::external("the wheel check thread panicked")))
        });
        (results, wheel_result)
    });

    let mut failures = Vec::new();
    let mut resolved = Vec::new();
    for ((request, (file, lockfile)), result) in requests.iter().zip(&committed).zip(results) {
        match result {
            Ok(resolution) => resolved.push((request.target, file.clone(), lockfile, resolution.lockfile)),
            Err(err) => failures.push((request.target.name.clone(), err)),
        }
    }
    let pairs: Vec<Pair> = resolved
        .iter()
        .map(|(target, file, committed, fresh)| Pair { target, file: file.clone(), committed, fresh })
        .collect();
    let mut findings = compare_all(&pairs, &project.table.targets);
    match wheel_result {
        Some(Ok(found)) => findings.extend(found),
        Some(Err(err)) => failures.push(("wheel check".to_string(), err)),
        None => {}
    }

    let mut report = Report::new(findings);
    if args.strict {
        report.apply_strict();
    }
    report.sort();
    let mut outcome = report.print(args.format);
    for (name, err) in &failures {
        eprintln!("error: {name} could not be checked");
        exit::report_error(err);
        outcome = outcome.max(Outcome::Failed(exit::category_of(err)));
    }
    Ok(outcome)
}

fn run_offline(project: &Project, args: &Args, targets: &[&Target]) -> Result<Outcome> {
    let dockerfile = crate::validate::dockerfile_to_check(project, None);
    let mut report = crate::validate::check(project, dockerfile.as_deref(), args.strict)?;
    report.findings.retain(|finding| {
        finding.target.as_ref().is_none_or(|name| targets.iter().any(|target| &target.name == name))
    });
    Ok(report.print(args.format))
}

/// Reads and parses a target's committed lockfile; a missing one is invalid input.
fn read_committed(project: &Project, target: &Target) -> Result<(String, Lockfile)> {
    let path = project.lockfile(target);
    let shown = display_path(&path);
    let text = std::fs::read_to_string(&path).map_err(|err| {
        invalid(format!(
            "cannot read the {} lockfile {shown}: {err}; create it with `cargo xtask compile --arch {}`",
            target.name, target.name
        ))
    })?;
    let lockfile = lockfile::parse(&text, &path)?;
    Ok((shown, lockfile))
}

/// Builds the fresh resolution for a target: no preferences, with the lockfile header's
/// backend and Python version unless the arguments override them.
fn request_for<'a>(project: &'a Project, target: &'a Target, committed: &Lockfile, args: &Args) -> ResolveRequest<'a> {
    let header = committed.header.as_ref();
    let resolver = args
        .resolver
        .or_else(|| header.and_then(|header| Resolver::from_header_tool(&header.tool)))
        .unwrap_or(Resolver::Uv);
    let python_version = args
        .python_version
        .clone()
        .or_else(|| header.and_then(|header| header.python_version.clone()))
        .filter(|version| parse_python_version(version).is_ok())
        .unwrap_or_else(|| target.python_version.clone());
    ResolveRequest {
        project,
        target,
        resolver,
        python_version,
        source_dir: project.requirements_dir.clone(),
        preferences: None,
        upgrade: Upgrade::None,
    }
}

fn wheel_findings(
    project: &Project,
    targets: &[&Target],
    committed: &[(String, Lockfile)],
    requests: &[ResolveRequest],
) -> Result<Vec<crate::report::Finding>> {
    let tree = resolve::load_requirements(project, &project.requirements_dir)?;
    let checks: Vec<wheels::TargetCheck> = targets
        .iter()
        .zip(committed)
        .zip(requests)
        .map(|((target, (file, lockfile)), request)| wheels::TargetCheck {
            target,
            file: file.clone(),
            lockfile,
            python_version: request.python_version.clone(),
            sources: wheels::sources(&tree, target, &project.requirements_dir),
        })
        .collect();
    wheels::check(&checks)
}
