//! The uv backend. uv cross-resolves for the target's platform and Python version from any
//! host; its output is rewritten into the lockfile pip-compile would write for that target.
//!
//! uv differs from pip-compile in ways that matter here, and each is configured away:
//! - it stops at the first index that has a package, while pip merges all indexes
//!   (`--index-strategy unsafe-best-match`);
//! - `--universal` merges platforms (never passed: each target resolves on its own);
//! - with `--no-strip-markers` it writes markers unlike pip-compile, so markers are stripped
//!   and each direct pin gets its requirements.in marker back, as pip-compile writes it;
//! - it pins setuptools and pip, which pip-compile lists commented out as unsafe.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::{run_and_read_output, strip_userinfo, table_index_urls, ResolveRequest, Upgrade, Workspace};
use crate::requirements::header;
use crate::requirements::input::RequirementsOption;
use crate::requirements::lockfile::{self, normalize_marker_text, RenderEntry, UNSAFE_PACKAGES};
use crate::tools;

/// pip's default index, which pip-compile leaves out of lockfiles.
const DEFAULT_INDEX: &str = "https://pypi.org/simple";

pub(super) fn run(request: &ResolveRequest, workspace: &Workspace) -> Result<String> {
    let tool = tools::uv(request.project)?;

    let command = command(&tool.program, request, workspace);
    let text = run_and_read_output(command, request, workspace)?;
    to_pip_compile_form(&text, request, workspace, &tool.version)
}

/// Builds the `uv pip compile` invocation without running it.
fn command(program: &Path, request: &ResolveRequest, workspace: &Workspace) -> Command {
    let mut command = Command::new(program);
    command.current_dir(workspace.dir.path());
    tools::sanitize_resolver_env(&mut command);
    command.args(arguments(request, workspace.build_constraints.as_deref()));

    let urls = table_index_urls(request.target);
    if !urls.is_empty() {
        command.env("UV_EXTRA_INDEX_URL", urls.join(" "));
    }
    command
}

fn arguments(request: &ResolveRequest, build_constraints: Option<&Path>) -> Vec<String> {
    // The full version (3.11.14), so that `python_full_version` markers evaluate as in the image.
    let full_version = request.target.python_full_version(&request.python_version);
    let mut args: Vec<String> = [
        "pip",
        "compile",
        &request.project.table.requirements_in,
        "--output-file",
        &request.target.lockfile,
        "--python-version",
        &full_version,
        "--python-platform",
        &request.target.uv_platform,
        "--index-strategy",
        "unsafe-best-match",
        "--annotation-style",
        "split",
        "--no-header",
        "--no-config",
        "--no-python-downloads",
        "--python-preference",
        "only-system",
        "--quiet",
    ]
    .iter()
    .map(|arg| arg.to_string())
    .collect();
    if request.project.table.generate_hashes {
        args.push("--generate-hashes".into());
    }
    match &request.upgrade {
        Upgrade::None => {}
        Upgrade::All => args.push("--upgrade".into()),
        Upgrade::Packages(packages) => {
            for package in packages {
                args.push("--upgrade-package".into());
                args.push(package.clone());
            }
        }
    }
    if let Some(path) = build_constraints {
        args.push("--build-constraints".into());
        args.push(path.display().to_string());
    }
    args
}

/// Builds the command for the header of a uv-produced lockfile.
fn header_command(request: &ResolveRequest) -> String {
    let mut command = format!("cargo xtask compile --arch {} --resolver uv", request.target.name);
    if request.python_version != request.target.python_version {
        command.push_str(&format!(" --python-version {}", request.python_version));
    }
    command
}

/// Rewrites uv's output as pip-compile writes it: canonical header, pip-compile's option
/// lines, requirements.in markers on direct pins and unsafe packages commented out.
fn to_pip_compile_form(text: &str, request: &ResolveRequest, workspace: &Workspace, version: &str) -> Result<String> {
    let path = Path::new(&request.target.lockfile);
    let parsed = lockfile::parse(text, path).map_err(|err| {
        crate::exit::external(format!("uv wrote a lockfile this xtask cannot read: {err}"))
    })?;
    let env = request.target.marker_environment(&request.python_version)?;

    let mut entries = Vec::new();
    let mut unsafe_names = Vec::new();
    for package in &parsed.packages {
        if UNSAFE_PACKAGES.contains(&package.name.as_ref()) {
            unsafe_names.push(package.name.to_string());
            continue;
        }
        // pip-compile 7.7 keeps the marker of the last input line (requirements or
        // constraints) that names the package and applies to the target.
        let mut entry = RenderEntry::from_locked(package);
        entry.marker_text = workspace
            .tree
            .files
            .iter()
            .chain(&workspace.tree.constraints)
            .flat_map(|file| &file.pins)
            .filter(|pin| pin.name == package.name && pin.applies_to(&env))
            .filter_map(|pin| pin.marker_text.as_deref())
            .last()
            .map(normalize_marker_text);
        entries.push(entry);
    }

    let header = header::render(
        &format!("uv {version} with Python {} for {}", request.python_version, request.target.uv_platform),
        &header_command(request),
    );
    Ok(lockfile::render(&header, &option_lines(request, workspace), &entries, &unsafe_names))
}

/// Builds the option lines pip-compile 7.7 writes: index URLs (the default index left out), then
/// find-links, trusted hosts and binary format controls, each without repeats.
fn option_lines(request: &ResolveRequest, workspace: &Workspace) -> Vec<String> {
    let mut index_urls: Vec<String> = Vec::new();
    let mut extra_urls: Vec<String> = Vec::new();
    let mut find_links = Vec::new();
    let mut trusted_hosts = Vec::new();
    let mut formats = FormatControl::default();
    for (_, option) in workspace.tree.options() {
        match &option.option {
            RequirementsOption::IndexUrl(url) => index_urls.push(strip_userinfo(url)),
            RequirementsOption::ExtraIndexUrl(url) => extra_urls.push(strip_userinfo(url)),
            RequirementsOption::FindLinks(url) => find_links.push(format!("--find-links {}", strip_userinfo(url))),
            RequirementsOption::TrustedHost(host) => trusted_hosts.push(format!("--trusted-host {host}")),
            RequirementsOption::NoBinary(value) => formats.no_binary(value),
            RequirementsOption::OnlyBinary(value) => formats.only_binary(value),
            _ => {}
        }
    }
    extra_urls.extend(table_index_urls(request.target).iter().map(|url| strip_userinfo(url)));

    let first = index_urls.last().cloned().unwrap_or_else(|| DEFAULT_INDEX.to_string());
    let mut all_indexes = vec![first];
    all_indexes.extend(extra_urls);

    let mut lines = Vec::new();
    for (position, url) in dedup(all_indexes).into_iter().enumerate() {
        if position == 0 && url.trim_end_matches('/') == DEFAULT_INDEX {
            continue;
        }
        let flag = if position == 0 { "--index-url" } else { "--extra-index-url" };
        lines.push(format!("{flag} {url}"));
    }
    lines.extend(dedup(find_links));
    lines.extend(dedup(trusted_hosts));
    lines.extend(formats.lines());
    lines
}

/// pip's `--no-binary`/`--only-binary` sets: values are comma-separated names, `:all:` or
/// `:none:`, and a name given to one option leaves the other.
#[derive(Default)]
struct FormatControl {
    no_binary: BTreeSet<String>,
    only_binary: BTreeSet<String>,
}

impl FormatControl {
    fn no_binary(&mut self, value: &str) {
        apply_format_option(value, &mut self.no_binary, &mut self.only_binary);
    }

    fn only_binary(&mut self, value: &str) {
        apply_format_option(value, &mut self.only_binary, &mut self.no_binary);
    }

    /// Builds the lines pip-tools 7.7 writes: `:all:` first, then sorted names, `--no-binary` before
    /// `--only-binary`.
    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (flag, names) in [("--no-binary", &self.no_binary), ("--only-binary", &self.only_binary)] {
            if names.contains(":all:") {
                lines.push(format!("{flag} :all:"));
            }
        }
        for (flag, names) in [("--no-binary", &self.no_binary), ("--only-binary", &self.only_binary)] {
            lines.extend(names.iter().filter(|name| *name != ":all:").map(|name| format!("{flag} {name}")));
        }
        lines
    }
}

/// Applies one option value as pip's `FormatControl.handle_mutual_excludes` does.
fn apply_format_option(value: &str, target: &mut BTreeSet<String>, other: &mut BTreeSet<String>) {
    let mut names: Vec<&str> = value.split(',').collect();
    while let Some(all) = names.iter().position(|name| *name == ":all:") {
        other.clear();
        target.clear();
        target.insert(":all:".to_string());
        names.drain(..=all);
        if !names.contains(&":none:") {
            return;
        }
    }
    for name in names {
        if name == ":none:" {
            target.clear();
            continue;
        }
        let name = crate::requirements::normalize_name(name);
        other.remove(&name);
        target.insert(name);
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Resolver;
    use crate::project::Project;

    #[test]
    fn format_controls_ordered_like_pip_tools() {
        let mut formats = FormatControl::default();
        formats.only_binary("zzz");
        formats.no_binary("Aaa_B,zzz");
        formats.only_binary("ccc");
        assert_eq!(formats.lines(), ["--no-binary aaa-b", "--no-binary zzz", "--only-binary ccc"]);

        let mut formats = FormatControl::default();
        formats.no_binary("six");
        formats.only_binary(":all:");
        assert_eq!(formats.lines(), ["--only-binary :all:"]);
    }

    #[test]
    fn arguments_cross_resolve_without_merging() {
        let project = Project::for_tests();
        let arm = project.table.targets.iter().find(|t| t.name == "arm64").unwrap();
        let request = ResolveRequest {
            project: &project,
            target: arm,
            resolver: Resolver::Uv,
            python_version: "3.9".into(),
            source_dir: project.requirements_dir.clone(),
            preferences: None,
            upgrade: Upgrade::All,
        };
        let args = arguments(&request, Some(Path::new("c.txt")));
        let joined = args.join(" ");
        assert!(joined.starts_with("pip compile requirements.in --output-file arm64-requirements.txt --python-version 3.9.0 --python-platform aarch64-manylinux_2_36 --index-strategy unsafe-best-match"), "{joined}");
        assert!(joined.ends_with("--upgrade --build-constraints c.txt"), "{joined}");
        assert!(!args.iter().any(|arg| arg == "--universal" || arg == "--no-strip-markers"));
        assert_eq!(header_command(&request), "cargo xtask compile --arch arm64 --resolver uv --python-version 3.9");
    }
}
