//! Finding and provisioning the external programs: pip-compile, uv and docker.
//!
//! pip-compile and uv are looked up on `PATH` with `which`. When one is missing or its version
//! differs from the target table's pin (their `# via` annotations and choices change between
//! releases), the pinned version is installed into a virtual environment under
//! `target/xtask/tools/` and used from there.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::exit::{external, invalid};
use crate::project::Project;

/// Transport settings that may pass through to resolvers: certificates, timeouts, proxies and
/// caches. Every other `PIP_*` and `UV_*` variable is removed, so that the host's pip and uv
/// settings (such as a `PIP_FIND_LINKS` of the build machine) do not change a resolution.
const PASSED_SETTINGS: &[&str] = &[
    "PIP_CERT",
    "PIP_CLIENT_CERT",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_RETRIES",
    "PIP_PROXY",
    "PIP_CACHE_DIR",
    "UV_CACHE_DIR",
    "UV_HTTP_TIMEOUT",
    "UV_NATIVE_TLS",
];

/// A located pip-compile with the interpreter it runs on.
#[derive(Debug, Clone)]
pub struct PipCompile {
    pub program: PathBuf,
    /// The interpreter pip-compile runs on, and so resolves for.
    pub python: PathBuf,
    /// That interpreter's version as `X.Y`.
    pub python_version: String,
    pub version: String,
}

/// A located uv.
#[derive(Debug, Clone)]
pub struct Uv {
    pub program: PathBuf,
    pub version: String,
}

/// Applies the sanitized resolver environment to a command.
pub fn sanitize_resolver_env(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let resolver_setting = key.starts_with("PIP_") || key.starts_with("UV_");
        if (resolver_setting && !PASSED_SETTINGS.contains(&key))
            || key == "CUSTOM_COMPILE_COMMAND"
            || key == "PYTHONPATH"
            || key == "VIRTUAL_ENV"
        {
            command.env_remove(key);
        }
    }
    command.env("PIP_CONFIG_FILE", "/dev/null");
    command.env("PIP_NO_INPUT", "1");
    command.env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
}

/// Finds pip-compile for Python `python_version`, provisioning the pinned pip-tools when the
/// one on `PATH` is missing, of another version, or runs on another Python.
pub fn pip_compile(project: &Project, python_version: &str) -> Result<PipCompile> {
    let pinned_tools = &project.table.tools.pip_tools;
    let pinned_pip = &project.table.tools.pip;

    if let Ok(program) = which::which("pip-compile") {
        if let Some(found) = inspect_pip_compile(&program) {
            let matches = found.version == *pinned_tools
                && found.python_version == python_version
                && pip_version(&found.python).as_deref() == Some(pinned_pip.as_str());
            if matches {
                return Ok(found);
            }
            if project.verbose {
                eprintln!(
                    "pip-compile {} on PATH runs on Python {}; provisioning pip-tools {pinned_tools} with pip {pinned_pip} for Python {python_version}",
                    found.version, found.python_version
                );
            }
        }
    }

    let interpreter = find_python(python_version)?;
    let venv = project
        .work_dir()
        .join("tools")
        .join(format!("pip-tools-{pinned_tools}-pip-{pinned_pip}-py{python_version}"));
    let requirements = [format!("pip=={pinned_pip}"), format!("pip-tools=={pinned_tools}")];
    provision(project, &venv, &interpreter, &requirements)?;

    let program = venv.join("bin").join("pip-compile");
    inspect_pip_compile(&program).ok_or_else(|| {
        external(format!(
            "pip-compile provisioned in {} does not run; delete that folder and retry",
            venv.display()
        ))
    })
}

/// Finds uv, provisioning the pinned version when the one on `PATH` is missing or differs.
pub fn uv(project: &Project) -> Result<Uv> {
    let pinned = &project.table.tools.uv;
    if let Ok(program) = which::which("uv") {
        if let Some(version) = uv_version(&program) {
            if version == *pinned {
                return Ok(Uv { program, version });
            }
            if project.verbose {
                eprintln!("uv {version} on PATH differs from the pinned {pinned}; provisioning uv {pinned}");
            }
        }
    }

    let interpreter = find_python("3")?;
    let venv = project.work_dir().join("tools").join(format!("uv-{pinned}"));
    provision(project, &venv, &interpreter, &[format!("uv=={pinned}")])?;

    let program = venv.join("bin").join("uv");
    let version = uv_version(&program).ok_or_else(|| {
        external(format!("uv provisioned in {} does not run; delete that folder and retry", venv.display()))
    })?;
    Ok(Uv { program, version })
}

/// Finds `python{version}` (or `python3` when it has that version) on `PATH`.
fn find_python(version: &str) -> Result<PathBuf> {
    let candidates = [format!("python{version}"), "python3".to_string()];
    for candidate in &candidates {
        if let Ok(path) = which::which(candidate) {
            let found = python_version(&path);
            if version == "3" || found.as_deref() == Some(version) {
                return Ok(path);
            }
        }
    }
    Err(invalid(format!(
        "no Python {version} interpreter found on PATH (looked for {}); install it, or use \
         --resolver uv, which resolves for any Python version",
        candidates.join(" and ")
    )))
}

/// Creates `venv` with `interpreter` and installs `requirements`, once: a marker file records
/// completion, and a file lock serializes concurrent runs.
fn provision(project: &Project, venv: &Path, interpreter: &Path, requirements: &[String]) -> Result<()> {
    let done = venv.join(".provisioned");
    if done.exists() {
        return Ok(());
    }
    let tools_dir = venv.parent().expect("tool folders live under target/xtask/tools");
    std::fs::create_dir_all(tools_dir)
        .with_context(|| format!("creating {}", tools_dir.display()))?;
    let lock_path = tools_dir.join(".lock");
    let lock = File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
    if done.exists() {
        return Ok(());
    }

    eprintln!("provisioning {} into {}", requirements.join(" "), crate::project::display_path(venv));
    if venv.exists() {
        std::fs::remove_dir_all(venv).with_context(|| format!("removing {}", venv.display()))?;
    }
    let mut create = Command::new(interpreter);
    create.arg("-m").arg("venv").arg(venv);
    run_quietly(create, "creating a virtual environment")?;

    let mut install = Command::new(venv.join("bin").join("python"));
    install.args(["-m", "pip", "install", "--quiet"]).args(requirements);
    sanitize_resolver_env(&mut install);
    run_quietly(install, &format!("installing {}", requirements.join(" ")))?;

    File::create(&done).with_context(|| format!("creating {}", done.display()))?;
    if project.verbose {
        eprintln!("provisioned {}", venv.display());
    }
    Ok(())
}

fn run_quietly(mut command: Command, what: &str) -> Result<()> {
    let output = command.output().map_err(|err| {
        external(format!("{what} failed: cannot run {:?}: {err}", command.get_program()))
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(external(format!(
            "{what} failed ({}):\n{}\nCheck that PyPI is reachable, or install the tool yourself.",
            output.status,
            last_lines(&stderr, 15)
        )));
    }
    Ok(())
}

fn inspect_pip_compile(program: &Path) -> Option<PipCompile> {
    let output = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.trim().rsplit(' ').next()?.to_string();
    let python = script_interpreter(program)?;
    let python_version = python_version(&python)?;
    Some(PipCompile { program: program.to_path_buf(), python, python_version, version })
}

/// Reads the interpreter from a console script's `#!` line.
fn script_interpreter(script: &Path) -> Option<PathBuf> {
    let text = std::fs::read(script).ok()?;
    let first = text.split(|&byte| byte == b'\n').next()?;
    let first = std::str::from_utf8(first).ok()?;
    let interpreter = first.strip_prefix("#!")?.split_whitespace().next()?;
    Some(PathBuf::from(interpreter))
}

/// Returns the `X.Y` version of a Python interpreter.
pub fn python_version(python: &Path) -> Option<String> {
    python_output(python, "import sys; print('%d.%d' % sys.version_info[:2])")
}

fn pip_version(python: &Path) -> Option<String> {
    python_output(python, "import pip; print(pip.__version__)")
}

/// Runs a one-line Python program and returns what it printed, or `None` when it failed.
fn python_output(python: &Path, code: &str) -> Option<String> {
    let output = Command::new(python).args(["-c", code]).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn uv_version(program: &Path) -> Option<String> {
    let output = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().nth(1).map(str::to_string)
}

/// Returns the last `count` non-empty lines of a tool's output.
pub fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

