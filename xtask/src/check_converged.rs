//! `cargo xtask check-converged`: re-resolves each target afresh and compares the result with
//! the committed lockfile, then checks that every locked version has a wheel for its target.
//!
//! The fresh resolution runs in a temporary folder without the committed lockfile, because
//! pip-compile and uv both prefer the pins of an existing output file, which would hide the
//! drift this command exists to find. It uses the backend named in the lockfile's header and
//! the Python version the header records, unless `--resolver` or `--python-version`
//! overrides them. Nothing in the requirements folder is written. With `--offline` it runs
//! `validate`'s checks instead.

mod compare;
mod wheels;

use anyhow::Result;

use crate::exit::{self, invalid, Outcome};
use crate::project::{display_path, Project};
use crate::report::{Finding, Format, Report};
use crate::requirements::lockfile::{self, Lockfile};
use crate::resolve::{self, ResolveRequest, Resolver};
use crate::targets::{parse_python_version, Target};

pub use compare::{compare_all, Context, Pair};

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
    crate::report::run_reporting_errors(args.format, || check(project, &args))
}

fn check(project: &Project, args: &Args) -> Result<Outcome> {
    let targets = project.table.select_many(&args.arch)?;
    if args.offline {
        return run_offline(project, args, &targets);
    }

    let mut committed = Vec::new();
    for target in &targets {
        committed.push(read_committed(project, target)?);
    }
    let requests: Vec<ResolveRequest> = targets
        .iter()
        .zip(&committed)
        .map(|(target, (_, lockfile))| request_for(project, target, lockfile, args))
        .collect();
    // The wheel check reads only the committed lockfiles, so it runs beside the resolutions;
    // its findings count only for the targets whose resolution succeeds.
    let all_checked: Vec<(&ResolveRequest, &(String, Lockfile))> = requests.iter().zip(&committed).collect();
    let (results, wheel_result) = std::thread::scope(|scope| {
        let wheel_check = (!args.no_wheel_check).then(|| scope.spawn(|| wheel_findings(project, &all_checked)));
        let results = preflight_and_resolve(&requests);
        let wheel_result = wheel_check.map(|handle| {
            handle.join().unwrap_or_else(|_| Err(exit::external("the wheel check thread panicked")))
        });
        (results, wheel_result)
    });

    // A target that could not be resolved is an error finding of its own, so that the report
    // is never ok about an unchecked target. The exit code keeps the failure's category.
    let mut findings = Vec::new();
    let mut failure = Outcome::Success;
    let mut resolved = Vec::new();
    for ((request, (file, lockfile)), result) in requests.iter().zip(&committed).zip(results) {
        match result {
            Ok(resolution) => resolved.push((request, file.clone(), lockfile, resolution.lockfile)),
            Err(err) => {
                exit::report_error(&err);
                failure = failure.max(Outcome::Failed(exit::category_of(&err)));
                findings.push(
                    failure_finding(
                        "resolution-failed",
                        &format!("{} was not checked because its fresh resolution failed", request.target.name),
                        &err,
                    )
                    .target(&request.target.name)
                    .at(file, None),
                );
            }
        }
    }
    let pairs: Vec<Pair> = resolved
        .iter()
        .map(|(request, file, committed, fresh)| Pair { target: request.target, file: file.clone(), committed, fresh })
        .collect();
    let tree = resolve::load_requirements(project, &project.requirements_dir)?;
    let unselected = read_unselected(project, &targets);
    let mut unchecked: Vec<(&str, &Lockfile)> =
        unselected.iter().map(|(target, lockfile)| (target.name.as_str(), lockfile)).collect();
    for (request, (_, lockfile)) in requests.iter().zip(&committed) {
        if !resolved.iter().any(|(done, ..)| done.target.name == request.target.name) {
            unchecked.push((request.target.name.as_str(), lockfile));
        }
    }
    let context = Context { all_targets: &project.table.targets, tree: &tree, unchecked };
    findings.extend(compare_all(&pairs, &context));

    if let Some(wheel_result) = wheel_result.filter(|_| !resolved.is_empty()) {
        let was_resolved = |finding: &Finding| {
            finding.target.as_ref().is_none_or(|name| resolved.iter().any(|(done, ..)| &done.target.name == name))
        };
        match wheel_result {
            Ok(found) => findings.extend(found.into_iter().filter(was_resolved)),
            Err(err) => {
                exit::report_error(&err);
                failure = failure.max(Outcome::Failed(exit::category_of(&err)));
                findings.push(failure_finding("wheel-check-failed", "the wheel check failed", &err));
            }
        }
    }

    let mut report = Report::new(findings);
    if args.strict {
        report.apply_strict();
    }
    report.sort();
    Ok(report.print(args.format).max(failure))
}

/// Runs [`resolve::preflight`] for every request, then resolves those that passed it, in
/// parallel. Results are in request order.
fn preflight_and_resolve(requests: &[ResolveRequest]) -> Vec<Result<resolve::Resolution>> {
    let preflights: Vec<Result<()>> = requests.iter().map(resolve::preflight).collect();
    let ready: Vec<ResolveRequest> = requests
        .iter()
        .zip(&preflights)
        .filter(|(_, preflight)| preflight.is_ok())
        .map(|(request, _)| request.clone())
        .collect();
    let mut resolutions = resolve::resolve_all(&ready).into_iter();
    preflights
        .into_iter()
        .map(|preflight| match preflight {
            Ok(()) => resolutions.next().expect("one resolution per passed preflight"),
            Err(err) => Err(err),
        })
        .collect()
}

/// Builds an error finding for a step that could not run. The message is the error chain
/// with the first line of each cause, so that the text report keeps one line per finding.
/// The `detail` field contains the full text, such as the resolver's last lines of output.
fn failure_finding(kind: &str, what: &str, err: &anyhow::Error) -> Finding {
    let causes: Vec<String> =
        err.chain().map(|cause| cause.to_string().lines().next().unwrap_or_default().to_string()).collect();
    let detail = format!("{err:#}");
    let mut finding = Finding::error(kind, format!("{what}: {}", causes.join(": ")));
    if detail.contains('\n') {
        finding = finding.with("detail", detail);
    }
    finding
}

fn run_offline(project: &Project, args: &Args, targets: &[&Target]) -> Result<Outcome> {
    let dockerfile = crate::validate::dockerfile_to_check(project, None);
    let mut report = crate::validate::check(project, dockerfile.as_deref(), args.strict)?;
    report.findings.retain(|finding| {
        finding.target.as_ref().is_none_or(|name| targets.iter().any(|target| &target.name == name))
    });
    Ok(report.print(args.format))
}

/// Reads the committed lockfiles of the targets that are not selected, for suggestions that
/// have to know what those targets lock. A lockfile that cannot be read or parsed is left out.
fn read_unselected<'a>(project: &'a Project, selected: &[&Target]) -> Vec<(&'a Target, Lockfile)> {
    project
        .table
        .targets
        .iter()
        .filter(|target| !selected.iter().any(|chosen| chosen.name == target.name))
        .filter_map(|target| Some((target, read_committed(project, target).ok()?.1)))
        .collect()
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

/// Builds the fresh resolution for a target, with the arguments' overrides.
fn request_for<'a>(project: &'a Project, target: &'a Target, committed: &Lockfile, args: &Args) -> ResolveRequest<'a> {
    resolve::fresh_request(project, target, committed.header.as_ref(), args.resolver, args.python_version.clone())
}

/// Checks the wheels of the committed lockfiles of `checked`.
fn wheel_findings(project: &Project, checked: &[(&ResolveRequest, &(String, Lockfile))]) -> Result<Vec<Finding>> {
    let tree = resolve::load_requirements(project, &project.requirements_dir)?;
    let checks: Vec<wheels::TargetCheck> = checked
        .iter()
        .map(|(request, (file, lockfile))| wheels::TargetCheck {
            target: request.target,
            file: file.clone(),
            lockfile,
            python_version: request.python_version.clone(),
            sources: wheels::sources(&tree, request.target, &project.requirements_dir),
        })
        .collect();
    wheels::check(&checks)
}
