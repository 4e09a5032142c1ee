//! `cargo xtask validate`: static, marker-aware checks of requirements.in against every
//! target's lockfile and the Dockerfile, with no network.
//!
//! Each target's markers are evaluated with the Python version its lockfile's header records
//! (pip-compile writes "with Python 3.9"), else the table's, so that a lockfile is judged under
//! the interpreter it was compiled for.

mod cross_target;
mod dockerfile;
mod inputs;
mod lockfile_rules;
mod pins;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::exit::{invalid, Outcome};
use crate::project::{display_path, Project};
use crate::report::{Finding, Format, Report};

pub use inputs::Inputs;

#[derive(clap::Args)]
pub struct Args {
    /// Report format on stdout
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Treat warnings about unpinned transitive packages as errors
    #[arg(long)]
    strict: bool,

    /// Dockerfile to check [default: the repository's Dockerfile when validating the
    /// repository's own requirements folder, else none]
    #[arg(long, value_name = "PATH")]
    dockerfile: Option<PathBuf>,
}

pub fn run(project: &Project, args: Args) -> Result<Outcome> {
    crate::report::run_reporting_errors(args.format, || {
        if let Some(path) = &args.dockerfile {
            if !path.is_file() {
                return Err(invalid(format!(
                    "--dockerfile {}: no such file; pass the path of the Dockerfile to check",
                    display_path(path)
                )));
            }
        }
        let dockerfile = dockerfile_to_check(project, args.dockerfile.as_deref());
        let report = check(project, dockerfile.as_deref(), args.strict)?;
        Ok(report.print(args.format))
    })
}

/// Runs every static check and returns whether no finding is an error, after printing the
/// findings as text on stderr. `build` calls this before building.
pub fn check_before_build(project: &Project, dockerfile: &Path) -> Result<bool> {
    let report = check(project, Some(dockerfile), false)?;
    eprint!("{}", report.to_text(false));
    Ok(report.ok())
}

/// Loads requirements.in, every target's lockfile and the Dockerfile (when given), and returns
/// the sorted findings. Parse errors are returned as errors (exit 2), never as findings.
pub fn check(project: &Project, dockerfile: Option<&Path>, strict: bool) -> Result<Report> {
    let inputs = Inputs::load(project, dockerfile)?;
    let mut report = Report::new(check_inputs(&inputs));
    if strict {
        report.apply_strict();
    }
    report.sort();
    Ok(report)
}

/// Runs every rule on loaded inputs.
pub fn check_inputs(inputs: &Inputs) -> Vec<Finding> {
    let mut findings = Vec::new();
    pins::check(inputs, &mut findings);
    lockfile_rules::check(inputs, &mut findings);
    cross_target::check(inputs, &mut findings);
    if let Some(dockerfile) = &inputs.dockerfile {
        dockerfile::check(inputs, dockerfile, &mut findings);
    }
    findings
}

/// The Dockerfile that `validate` checks: the one given, else the repository's own when the
/// requirements folder is the repository's own, else none.
pub fn dockerfile_to_check(project: &Project, explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    is_own_requirements_dir(project).then(|| project.dockerfile())
}

fn is_own_requirements_dir(project: &Project) -> bool {
    if !project.custom_requirements_dir {
        return true;
    }
    let own = project.root.join("requirements");
    match (project.requirements_dir.canonicalize(), own.canonicalize()) {
        (Ok(given), Ok(own)) => given == own,
        _ => false,
    }
}

/// A marker expression that selects `target` and no other target of the table: the first
/// marker variable whose value differs from every other target's, or `None` when no single
/// variable distinguishes the targets.
pub fn target_marker(target: &crate::targets::Target, all: &[crate::targets::Target]) -> Option<String> {
    const KEYS: &[&str] =
        &["platform_machine", "sys_platform", "platform_system", "os_name", "implementation_name"];
    let others: Vec<_> = all.iter().filter(|other| other.name != target.name).collect();
    for key in KEYS {
        let Some(value) = target.markers.get(*key) else { continue };
        if others.iter().all(|other| other.markers.get(*key) != Some(value)) {
            return Some(format!("{key} == \"{value}\""));
        }
    }
    if others.iter().all(|other| other.python_version != target.python_version) {
        return Some(format!("python_version == \"{}\"", target.python_version));
    }
    None
}

/// Chooses the marker for a pin meant only for `target`, spelled as requirements.in already
/// spells it. That is the marker of the first pin that holds for `target` and for no other
/// target and that tests only variables which distinguish platforms. Without such a pin it is
/// [`target_marker`]. Each target is evaluated under the table's Python version.
pub fn target_marker_in(
    tree: &crate::requirements::input::RequirementsTree,
    target: &crate::targets::Target,
    all: &[crate::targets::Target],
) -> Option<String> {
    const PLATFORM_VARIABLES: &[&str] =
        &["platform_machine", "sys_platform", "platform_system", "os_name", "implementation_name"];
    let environments: Vec<(&str, pep508_rs::MarkerEnvironment)> = all
        .iter()
        .filter_map(|candidate| Some((candidate.name.as_str(), candidate.marker_environment(&candidate.python_version).ok()?)))
        .collect();
    let selects_only_target = |pin: &crate::requirements::input::Pin| {
        environments.iter().all(|(name, env)| pin.applies_to(env) == (*name == target.name))
    };
    let platform_only = |marker: &str| {
        marker
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|word| is_marker_variable(word))
            .all(|word| PLATFORM_VARIABLES.contains(&word))
    };
    tree.pins()
        .filter(|pin| pin.marker_text.as_deref().is_some_and(platform_only))
        .find(|pin| selects_only_target(pin))
        .and_then(|pin| pin.marker_text.clone())
        .or_else(|| target_marker(target, all))
}

/// Checks whether a word of a marker expression is a PEP 508 environment marker variable.
fn is_marker_variable(word: &str) -> bool {
    const VARIABLES: &[&str] = &[
        "os_name",
        "sys_platform",
        "platform_machine",
        "platform_python_implementation",
        "platform_release",
        "platform_system",
        "platform_version",
        "python_version",
        "python_full_version",
        "implementation_name",
        "implementation_version",
        "extra",
    ];
    VARIABLES.contains(&word)
}

/// A requirements.in line pinning `name` at `version`, restricted to `target` when `marker`
/// is given.
pub fn suggested_pin(name: &str, version: &str, marker: Option<&str>) -> String {
    match marker {
        Some(marker) => format!("{name}=={version} ; {marker}"),
        None => format!("{name}=={version}"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::requirements::input::{self, RequirementsTree};

    fn tree(text: &str) -> RequirementsTree {
        let file = input::parse(text, Path::new("requirements.in")).unwrap();
        RequirementsTree { files: vec![file], constraints: Vec::new() }
    }

    #[test]
    fn target_marker_spelled_as_requirements_in() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let targets = crate::targets::TargetTable::load(&manifest).unwrap().targets;
        let (amd64, arm64) = (&targets[0], &targets[1]);
        let both_spellings = "platform_machine == \"arm64\" or platform_machine == \"aarch64\"";
        let cases = [
            ("no pins", "", amd64, "platform_machine == \"x86_64\""),
            ("no pins", "", arm64, "platform_machine == \"aarch64\""),
            ("real data", "torch==1.13.1; platform_machine == \"arm64\" or platform_machine == \"aarch64\"\n", arm64, both_spellings),
            ("other target's pin", "torch==1.13.1; platform_machine == \"arm64\" or platform_machine == \"aarch64\"\n", amd64, "platform_machine == \"x86_64\""),
            ("single quotes", "decord==0.6.0; platform_machine=='x86_64'\n", amd64, "platform_machine=='x86_64'"),
            ("python condition", "a==1; platform_machine == 'x86_64' and python_version < '3.12'\n", amd64, "platform_machine == \"x86_64\""),
            ("holds for both", "a==1; sys_platform == 'linux'\n", arm64, "platform_machine == \"aarch64\""),
            ("macOS only", "a==1; platform_machine == 'arm64'\n", arm64, "platform_machine == \"aarch64\""),
        ];
        for (name, text, target, expected) in cases {
            let marker = target_marker_in(&tree(text), target, &targets);
            assert_eq!(marker.as_deref(), Some(expected), "{name} for {}", target.name);
        }
    }
}
