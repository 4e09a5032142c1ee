//! Resolution backends: pip-compile and uv, each run in a temporary folder so that nothing in
//! the requirements folder changes, each returning a lockfile in pip-compile's format.
//!
//! The backends run with a sanitized environment (see [`tools::sanitize_resolver_env`]):
//! index URLs, find-links and build constraints come from requirements.in and the target
//! table only. Index URLs with credentials reach the resolver through environment variables,
//! never argv, and the lockfile keeps them without user information.

mod pip_compile;
mod uv;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::exit::{external, invalid};
use crate::files;
use crate::progress::Spinner;
use crate::project::Project;
use crate::requirements::input::{self, RequirementsTree};
use crate::requirements::header::Header;
use crate::requirements::lockfile::{self, Lockfile};
use crate::requirements::{redact_url, ParseError};
use crate::targets::Target;
use crate::tools;

/// Resolver backend that produces a lockfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Resolver {
    /// pip-tools' pip-compile: resolves only for the host's platform and Python.
    PipCompile,
    /// uv pip compile: cross-resolves for any target from any host.
    Uv,
}

impl Resolver {
    /// Maps a lockfile header's tool (`pip-compile` or `uv`) to its backend.
    pub fn from_header_tool(tool: &str) -> Option<Resolver> {
        match tool {
            "pip-compile" => Some(Resolver::PipCompile),
            "uv" => Some(Resolver::Uv),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Resolver::PipCompile => "pip-compile",
            Resolver::Uv => "uv",
        }
    }
}

/// Preferred pins to drop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Upgrade {
    /// Keep every pin of the existing lockfile as a preference.
    #[default]
    None,
    /// Drop all preferences.
    All,
    /// Drop the preferences of these packages.
    Packages(Vec<String>),
}

/// One resolution to run.
#[derive(Debug, Clone)]
pub struct ResolveRequest<'a> {
    pub project: &'a Project,
    pub target: &'a Target,
    pub resolver: Resolver,
    /// Python version `X.Y` to resolve for.
    pub python_version: String,
    /// Folder holding requirements.in and any files it includes; it is copied, never written.
    pub source_dir: PathBuf,
    /// Text of the existing lockfile whose pins are preferred; `None` resolves afresh.
    pub preferences: Option<String>,
    pub upgrade: Upgrade,
}

/// A finished resolution.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The lockfile text, canonical header included, ready to be written.
    pub text: String,
    /// The same text parsed.
    pub lockfile: Lockfile,
}

/// A prepared working folder: a copy of the source folder, with the target's lockfile
/// present only when preferences are requested.
struct Workspace {
    dir: tempfile::TempDir,
    tree: RequirementsTree,
    build_constraints: Option<PathBuf>,
}

/// Runs one resolution. A resolver failure is an external error (exit 3) whose message ends
/// with the resolver's last lines of output.
pub fn resolve(request: &ResolveRequest) -> Result<Resolution> {
    let started = Instant::now();
    let spinner = Spinner::start(format!(
        "resolving {} with {} for Python {}",
        request.target.name,
        request.resolver.name(),
        request.python_version
    ));

    let workspace = prepare(request)?;
    let result = match request.resolver {
        Resolver::PipCompile => pip_compile::run(request, &workspace),
        Resolver::Uv => uv::run(request, &workspace),
    };
    spinner.finish();

    let text = result?;
    let lockfile = lockfile::parse(&text, &request.project.lockfile(request.target))
        .map_err(|err| external(format!("the resolver wrote a lockfile this xtask cannot read: {err}")))?;
    eprintln!(
        "resolved {} with {} in {:.1}s ({} packages)",
        request.target.name,
        request.resolver.name(),
        started.elapsed().as_secs_f64(),
        lockfile.packages.len()
    );
    Ok(Resolution { text, lockfile })
}

/// Builds a fresh resolution (no preferences) for a committed lockfile: with the backend and
/// Python version its header records unless overridden, else uv and the table's version.
pub fn fresh_request<'a>(
    project: &'a Project,
    target: &'a Target,
    header: Option<&Header>,
    resolver: Option<Resolver>,
    python_version: Option<String>,
) -> ResolveRequest<'a> {
    let resolver = resolver
        .or_else(|| header.and_then(|header| Resolver::from_header_tool(&header.tool)))
        .unwrap_or(Resolver::Uv);
    let python_version = python_version
        .or_else(|| header.and_then(|header| header.python_version.clone()))
        .filter(|version| crate::targets::parse_python_version(version).is_ok())
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

/// Checks what can be checked before any resolver runs: requirements.in parses, some
/// requirement applies to the target, no two pins for it conflict, and pip-compile runs only
/// on a matching host. Running this for every target first means invalid input changes no
/// lockfile at all. It reads requirements.in and its includes and starts no process.
pub fn preflight(request: &ResolveRequest) -> Result<()> {
    let tree = load_requirements(request.project, &request.source_dir)?;
    reject_outside_includes(request, &tree)?;
    reject_inactive_requirements_only(request, &tree)?;
    reject_conflicting_pins(request, &tree)?;
    if request.resolver == Resolver::PipCompile {
        pip_compile::check_host(request)?;
    }
    Ok(())
}

/// Runs several resolutions in parallel, one thread each, returning results in request order.
pub fn resolve_all(requests: &[ResolveRequest]) -> Vec<Result<Resolution>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = requests.iter().map(|request| scope.spawn(move || resolve(request))).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| Err(external("a resolver thread panicked"))))
            .collect()
    })
}

/// Loads requirements.in (and its includes) from a folder; parse errors are invalid input.
pub fn load_requirements(project: &Project, dir: &Path) -> Result<RequirementsTree> {
    let path = dir.join(&project.table.requirements_in);
    if !path.is_file() {
        return Err(invalid(format!(
            "{} not found; create it or pass --requirements-dir DIR with a folder that holds it",
            crate::project::display_path(&path)
        )));
    }
    let tree = input::load_tree(&path, &|path| std::fs::read_to_string(path))?;
    Ok(tree)
}

fn prepare(request: &ResolveRequest) -> Result<Workspace> {
    let tree = load_requirements(request.project, &request.source_dir)?;
    reject_inactive_requirements_only(request, &tree)?;

    let dir = tempfile::Builder::new()
        .prefix("xtask-resolve-")
        .tempdir()
        .context("creating a temporary folder for the resolution")?;
    files::copy_folder(&request.source_dir, dir.path())?;

    let lockfile_path = dir.path().join(&request.target.lockfile);
    let _ = std::fs::remove_file(&lockfile_path);
    if let Some(preferences) = &request.preferences {
        std::fs::write(&lockfile_path, preferences)
            .with_context(|| format!("writing {}", lockfile_path.display()))?;
    }

    let constraints = request.target.all_build_constraints(&request.project.table);
    let build_constraints = if constraints.is_empty() {
        None
    } else {
        let path = dir.path().join(".xtask-build-constraints.txt");
        std::fs::write(&path, constraints.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        Some(path)
    };

    Ok(Workspace { dir, tree, build_constraints })
}

/// Rejects `-r`/`-c` files outside the requirements folder: the resolvers run on a copy of
/// that folder, where such a path would name another file or none.
fn reject_outside_includes(request: &ResolveRequest, tree: &RequirementsTree) -> Result<()> {
    let folder = input::normalize_path(&request.source_dir);
    for file in tree.files.iter().chain(&tree.constraints) {
        if !input::normalize_path(&file.path).starts_with(&folder) {
            return Err(invalid(format!(
                "{} is included from requirements.in but lies outside the requirements folder {}; \
                 move it into that folder and include it by a relative path",
                crate::project::display_path(&file.path),
                crate::project::display_path(&request.source_dir)
            )));
        }
    }
    Ok(())
}

/// Fails early when requirements.in has no requirement at all for this target, which pip-compile
/// would turn into an empty lockfile.
fn reject_inactive_requirements_only(request: &ResolveRequest, tree: &RequirementsTree) -> Result<()> {
    let env = request.target.marker_environment(&request.python_version)?;
    if tree.pins().next().is_some() && !tree.pins().any(|pin| pin.applies_to(&env)) {
        let first = tree.pins().next().expect("checked above");
        return Err(ParseError::new(
            &first.file,
            first.line,
            format!("no requirement applies to target `{}`: every marker is false for it", request.target.name),
        )
        .with_hint("check the markers against the target table's marker values")
        .into());
    }
    Ok(())
}

/// Fails when two pins that apply to the target admit no common version, which every resolver
/// would report only as an unsolvable resolution.
fn reject_conflicting_pins(request: &ResolveRequest, tree: &RequirementsTree) -> Result<()> {
    let env = request.target.marker_environment(&request.python_version)?;
    let conflict = tree.clashing_pins(&env).into_iter().find_map(|clash| match clash {
        input::PinClash::Conflict(first, second) => Some((first, second)),
        input::PinClash::Duplicate(..) => None,
    });
    let Some((first, second)) = conflict else { return Ok(()) };
    Err(ParseError::new(
        &second.file,
        second.line,
        format!(
            "`{}` conflicts with `{}` at {}:{}: both apply to target `{}` and no version satisfies both",
            second.text,
            first.text,
            crate::project::display_path(&first.file),
            first.line,
            request.target.name
        ),
    )
    .with_hint("keep one of the two pins, or give each a marker for its own target")
    .into())
}

/// Index URLs from the target table, with credentials, for the resolver's environment.
fn table_index_urls(target: &Target) -> Vec<String> {
    target.extra_index_urls.clone()
}

/// Removes the user information from every URL in option lines, so that credentials reach
/// no lockfile.
fn strip_credentials(text: &str) -> String {
    text.lines()
        .map(|line| {
            let is_option = line.starts_with("--index-url")
                || line.starts_with("--extra-index-url")
                || line.starts_with("--find-links")
                || line.starts_with("-i ")
                || line.starts_with("-f ");
            if is_option {
                line.split(' ').map(strip_userinfo).collect::<Vec<_>>().join(" ")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// `https://user:secret@host/simple` becomes `https://host/simple`.
pub fn strip_userinfo(url: &str) -> String {
    let redacted = redact_url(url);
    redacted.replacen("***@", "", 1)
}

/// Redacts every URL with user information in free text, such as a resolver's error output.
pub fn redact_text(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.contains("://") {
                let start = trimmed.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
                let (prefix, url) = trimmed.split_at(start);
                format!("{prefix}{}{}", redact_url(url), &word[trimmed.len()..])
            } else {
                word.to_string()
            }
        })
        .collect()
}

/// Shows a command's program and arguments for `--verbose`; the environment is left out
/// because it may carry index credentials.
fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|arg| redact_text(&arg.to_string_lossy())));
    words.join(" ")
}

/// Runs a backend's command, echoing it under `--verbose`, and reads the lockfile it wrote
/// into the workspace.
fn run_and_read_output(command: Command, request: &ResolveRequest, workspace: &Workspace) -> Result<String> {
    if request.project.verbose {
        // Only the program and arguments: the environment may carry index credentials.
        eprintln!("running {}", describe(&command));
    }
    run_resolver(command, request.resolver, request.target)?;

    let output = workspace.dir.path().join(&request.target.lockfile);
    std::fs::read_to_string(&output)
        .with_context(|| format!("reading {}'s output {}", request.resolver.name(), output.display()))
}

/// Runs a resolver command and returns its stdout; failures carry the resolver's last lines.
fn run_resolver(mut command: Command, resolver: Resolver, target: &Target) -> Result<String> {
    let program = command.get_program().to_string_lossy().to_string();
    let output = command
        .output()
        .map_err(|err| external(format!("cannot run {program}: {err}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let stderr = redact_text(&String::from_utf8_lossy(&output.stderr));
    let mut message = format!(
        "{} failed to resolve target `{}` ({}); its last lines:\n{}",
        resolver.name(),
        target.name,
        output.status,
        tools::last_lines(&stderr, 20)
    );
    if looks_unreachable(&stderr) {
        message.push_str(
            "\n\nhint: a package index could not be reached; check the network and proxy settings, \
             and the index URLs in requirements.in and the target table",
        );
    }
    Err(external(message))
}

/// Checks whether resolver output reports a network failure rather than a resolution conflict.
fn looks_unreachable(stderr: &str) -> bool {
    const SIGNS: &[&str] = &[
        "dns error",
        "error sending request",
        "Connection refused",
        "NewConnectionError",
        "Could not fetch URL",
        "Max retries exceeded",
        "timed out",
    ];
    SIGNS.iter().any(|sign| stderr.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_credentials_only_touches_options() {
        let text = "--extra-index-url https://u:p@host/simple\nsix==1\n    # via https://a:b@c\n";
        assert_eq!(
            strip_credentials(text),
            "--extra-index-url https://host/simple\nsix==1\n    # via https://a:b@c\n"
        );
    }

    #[test]
    fn unreachable_index_recognized() {
        assert!(looks_unreachable("cause: dns error\ncause: failed to lookup address"));
        assert!(!looks_unreachable("Because there is no version of six==9 we can conclude"));
    }

    #[test]
    fn redact_text_hides_userinfo_in_messages() {
        let text = "ERROR: could not fetch (https://u:secret@host/simple/six/)\nnext line";
        let redacted = redact_text(text);
        assert!(!redacted.contains("secret"), "{redacted}");
        assert!(redacted.contains("(https://***@host/simple/six/)"), "{redacted}");
        assert!(redacted.ends_with("next line"));
    }
}
