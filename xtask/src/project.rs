//! The repository the xtask works on: its root, its target table and its requirements folder.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::exit::invalid;
use crate::targets::TargetTable;

/// Everything a command needs to know about where it runs.
#[derive(Debug, Clone)]
pub struct Project {
    /// Repository root: the folder of the workspace `Cargo.toml` holding the target table.
    pub root: PathBuf,
    pub table: TargetTable,
    /// Folder with requirements.in and the lockfiles, as given or `ROOT/requirements`.
    pub requirements_dir: PathBuf,
    /// Whether `--requirements-dir` pointed somewhere other than the repository's own folder.
    pub custom_requirements_dir: bool,
    pub verbose: bool,
}

impl Project {
    /// Finds the repository root and reads its target table.
    ///
    /// The root is the nearest folder, from the current directory upwards, whose `Cargo.toml`
    /// contains `[workspace.metadata.xtask]`. Outside such a checkout it is the workspace this
    /// binary was built from.
    pub fn discover(requirements_dir: Option<PathBuf>, verbose: bool) -> Result<Project> {
        let cwd = std::env::current_dir()
            .map_err(|err| invalid(format!("cannot read the current directory: {err}")))?;
        let root = match find_root(&cwd) {
            Some(root) => root,
            None => {
                let root = built_root();
                eprintln!(
                    "note: {} is outside a marqo-base checkout; using the repository at {}",
                    cwd.display(),
                    root.display()
                );
                root
            }
        };
        let table = TargetTable::load(&root.join("Cargo.toml"))?;

        let default_dir = root.join("requirements");
        let custom_requirements_dir = requirements_dir.is_some();
        // Commands that read the folder report a missing one themselves; pull-ecr, build
        // --merge-only and doctor do not need it.
        let requirements_dir = requirements_dir.unwrap_or(default_dir);

        Ok(Project { root, table, requirements_dir, custom_requirements_dir, verbose })
    }

    /// Path of requirements.in.
    pub fn requirements_in(&self) -> PathBuf {
        self.requirements_dir.join(&self.table.requirements_in)
    }

    /// Path of a target's lockfile.
    pub fn lockfile(&self, target: &crate::targets::Target) -> PathBuf {
        self.requirements_dir.join(&target.lockfile)
    }

    /// Returns the folder for tool environments and scratch files: `ROOT/target/xtask`.
    pub fn work_dir(&self) -> PathBuf {
        self.root.join("target").join("xtask")
    }

    /// Returns the path of the Dockerfile at the repository root.
    pub fn dockerfile(&self) -> PathBuf {
        self.root.join("Dockerfile")
    }
}

#[cfg(test)]
impl Project {
    /// Builds the project of this checkout, with its own requirements folder, for unit tests.
    pub fn for_tests() -> Project {
        let root = built_root();
        Project {
            table: TargetTable::load(&root.join("Cargo.toml")).expect("the checkout's target table parses"),
            requirements_dir: root.join("requirements"),
            custom_requirements_dir: false,
            verbose: false,
            root,
        }
    }
}

/// Shows a path relative to the current directory when it lies below it, so that reports and
/// GitHub annotations name files the way the user typed them.
pub fn display_path(path: &Path) -> String {
    if path.is_relative() {
        return path.display().to_string();
    }
    let relative = std::env::current_dir().ok().and_then(|cwd| {
        let cwd = cwd.canonicalize().unwrap_or(cwd);
        path.strip_prefix(&cwd).ok().map(Path::to_path_buf)
    });
    relative.unwrap_or_else(|| path.to_path_buf()).display().to_string()
}

fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|text| text.contains("[workspace.metadata.xtask]"))
    }).map(Path::to_path_buf)
}

fn built_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in a workspace").to_path_buf()
}
