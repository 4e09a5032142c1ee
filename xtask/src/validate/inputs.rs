//! The files `validate` reads, parsed once: requirements.in with its includes, each target's
//! lockfile with its marker environment, and the Dockerfile.

use std::path::{Path, PathBuf};

use anyhow::Result;
use pep508_rs::MarkerEnvironment;

use crate::exit::invalid;
use crate::project::{display_path, Project};
use crate::requirements::input::{self, Pin, RequirementsTree};
use crate::requirements::lockfile::{self, Lockfile};
use crate::requirements::PackageName;
use crate::targets::Target;

/// Everything the rules look at.
#[derive(Debug)]
pub struct Inputs {
    /// Every target of the table, in table order.
    pub targets: Vec<TargetInputs>,
    pub tree: RequirementsTree,
    /// requirements.in's file name as the table spells it (`requirements.in`).
    pub requirements_in_name: String,
    /// The workspace manifest holding the target table, for findings about the table.
    pub manifest: String,
    pub dockerfile: Option<DockerfileInput>,
}

/// One target with its lockfile.
#[derive(Debug)]
pub struct TargetInputs {
    pub target: Target,
    /// The lockfile's path for reports.
    pub file: String,
    pub text: String,
    pub lockfile: Lockfile,
    /// The Python version markers are evaluated with: the header's, else the table's.
    pub python_version: String,
    pub env: MarkerEnvironment,
}

/// The Dockerfile to check.
#[derive(Debug)]
pub struct DockerfileInput {
    pub file: String,
    /// `None` when the file does not exist.
    pub text: Option<String>,
}

impl Inputs {
    /// Reads and parses every input of `project`.
    pub fn load(project: &Project, dockerfile: Option<&Path>) -> Result<Inputs> {
        let requirements_in = project.requirements_in();
        if !requirements_in.is_file() {
            return Err(invalid(format!(
                "{} not found; the requirements folder must hold {}",
                display_path(&requirements_in),
                project.table.requirements_in
            )));
        }
        let tree = input::load_tree(&display_relative(&requirements_in), &|path| std::fs::read_to_string(path))?;

        let mut lockfiles = Vec::new();
        for target in &project.table.targets {
            let path = project.lockfile(target);
            let text = std::fs::read_to_string(&path).map_err(|err| {
                invalid(format!(
                    "cannot read the {} lockfile {}: {err}; create it with `cargo xtask compile --arch {}`",
                    target.name,
                    display_path(&path),
                    target.name
                ))
            })?;
            lockfiles.push((target.clone(), display_path(&path), text));
        }

        let dockerfile = dockerfile.map(|path| DockerfileInput {
            file: display_path(path),
            text: std::fs::read_to_string(path).ok(),
        });
        let manifest = display_path(&project.root.join("Cargo.toml"));
        Inputs::from_parts(tree, &project.table.requirements_in, lockfiles, dockerfile, manifest)
    }

    /// Builds the inputs from texts already read; `lockfiles` holds each target with its
    /// lockfile's display path and text.
    pub fn from_parts(
        tree: RequirementsTree,
        requirements_in_name: &str,
        lockfiles: Vec<(Target, String, String)>,
        dockerfile: Option<DockerfileInput>,
        manifest: String,
    ) -> Result<Inputs> {
        let mut targets = Vec::new();
        for (target, file, text) in lockfiles {
            let lockfile = lockfile::parse(&text, Path::new(&file))?;
            let python_version = lockfile
                .header
                .as_ref()
                .and_then(|header| header.python_version.clone())
                .filter(|version| crate::targets::parse_python_version(version).is_ok())
                .unwrap_or_else(|| target.python_version.clone());
            let env = target.marker_environment(&python_version)?;
            targets.push(TargetInputs { target, file, text, lockfile, python_version, env });
        }
        Ok(Inputs {
            targets,
            tree,
            requirements_in_name: requirements_in_name.to_string(),
            manifest,
            dockerfile,
        })
    }

    /// Requirement and constraint pins of a package, in file order.
    pub fn pins_named<'a>(&'a self, name: &'a PackageName) -> impl Iterator<Item = &'a Pin> + 'a {
        self.tree
            .files
            .iter()
            .chain(&self.tree.constraints)
            .flat_map(|file| file.pins.iter())
            .filter(move |pin| &pin.name == name)
    }

    /// The marker environments a pin may be meant for: every target under its lockfile's
    /// Python version and under the table's.
    pub fn all_environments(&self) -> Vec<MarkerEnvironment> {
        let mut envs: Vec<MarkerEnvironment> = self.targets.iter().map(|t| t.env.clone()).collect();
        for target in &self.targets {
            if let Ok(env) = target.target.marker_environment(&target.target.python_version) {
                envs.push(env);
            }
        }
        envs
    }

    pub fn all_targets(&self) -> Vec<Target> {
        self.targets.iter().map(|t| t.target.clone()).collect()
    }
}

/// Shows requirements.in relative to the current directory, so that pins carry the path that
/// reports print.
fn display_relative(path: &Path) -> PathBuf {
    PathBuf::from(display_path(path))
}

/// Shows a pin's location as `file:line`.
pub fn pin_location(pin: &Pin) -> String {
    format!("{}:{}", pin.file.display(), pin.line)
}
