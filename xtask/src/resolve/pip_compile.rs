//! The pip-compile backend. pip-compile resolves for the interpreter it runs on, so it runs
//! only where the host's OS, machine and Python version match the target.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::{run_and_read_output, strip_credentials, strip_userinfo, table_index_urls, ResolveRequest, Upgrade, Workspace};
use crate::exit::invalid;
use crate::requirements::input::{self, RequirementsOption};
use crate::tools;

pub(super) fn run(request: &ResolveRequest, workspace: &Workspace) -> Result<String> {
    // NOTE: pip-compile evaluates `python_full_version` markers with the host interpreter's
    // patch version, which may differ from the table's; uv uses the table's.
    check_host(request)?;
    let tool = tools::pip_compile(request.project, &request.python_version)?;

    let command = command(&tool.program, request, workspace);
    let text = run_and_read_output(command, request, workspace)?;
    let text = relativize_find_links(&text, request, workspace);
    Ok(strip_credentials(&text))
}

/// Restores find-links paths as requirements.in writes them: pip-compile 7.7 writes them
/// absolute, which would leak the temporary folder into the lockfile.
fn relativize_find_links(text: &str, request: &ResolveRequest, workspace: &Workspace) -> String {
    let temp = workspace.dir.path();
    let mut text = text.to_string();
    for (file, option) in workspace.tree.options() {
        let RequirementsOption::FindLinks(value) = &option.option else { continue };
        if value.contains("://") || Path::new(value).is_absolute() {
            continue;
        }
        let relative_dir = file
            .parent()
            .and_then(|dir| dir.strip_prefix(&request.source_dir).ok())
            .unwrap_or(Path::new(""));
        let absolute = input::normalize_path(&temp.join(relative_dir).join(value));
        text = text.replace(&format!("--find-links {}\n", absolute.display()), &format!("--find-links {value}\n"));
    }
    text.replace(&format!("{}/", temp.display()), "")
}

/// Rejects hosts whose lockfile would differ from the target's: another OS or machine.
pub(super) fn check_host(request: &ResolveRequest) -> Result<()> {
    let target = request.target;
    let machine = target.markers.get("platform_machine").map(String::as_str).unwrap_or("");
    let system = target.markers.get("sys_platform").map(String::as_str).unwrap_or("");
    let host_machine = std::env::consts::ARCH;
    let host_system = std::env::consts::OS;
    if machine != host_machine || system != host_system {
        return Err(invalid(format!(
            "pip-compile cannot resolve target `{}` here: it resolves only for the machine it runs \
             on ({host_system} {host_machine}), and the target is {system} {machine}; a lockfile \
             compiled elsewhere silently gains or loses platform-only packages. Use \
             --resolver uv, which cross-resolves, or run on a {system} {machine} host",
            target.name
        )));
    }
    Ok(())
}

/// Builds the command for the lockfile header. Run inside the requirements folder, it
/// reproduces the file, given the build constraints of the target table.
pub(super) fn header_command(request: &ResolveRequest) -> String {
    let mut words = vec!["pip-compile".to_string()];
    words.extend(output_options(request));
    for url in table_index_urls(request.target) {
        words.push(format!("--extra-index-url={}", strip_userinfo(&url)));
    }
    words.push(request.project.table.requirements_in.clone());
    words.join(" ")
}

/// Builds the options that shape the lockfile, shared by the real run and the header command.
fn output_options(request: &ResolveRequest) -> Vec<String> {
    let mut options = vec![format!("--output-file={}", request.target.lockfile), "--strip-extras".to_string()];
    if request.project.table.generate_hashes {
        options.push("--generate-hashes".to_string());
    }
    options
}

/// Builds the pip-compile invocation without running it.
fn command(program: &Path, request: &ResolveRequest, workspace: &Workspace) -> Command {
    let mut command = Command::new(program);
    command.current_dir(workspace.dir.path());
    tools::sanitize_resolver_env(&mut command);
    command.args(arguments(request));

    command.env("CUSTOM_COMPILE_COMMAND", header_command(request));
    let urls = table_index_urls(request.target);
    if !urls.is_empty() {
        command.env("PIP_EXTRA_INDEX_URL", urls.join(" "));
    }
    if let Some(constraints) = &workspace.build_constraints {
        command.env("PIP_BUILD_CONSTRAINT", constraints);
    }
    command
}

/// pip-compile's arguments; index URLs travel in the environment so credentials stay out of
/// argv.
fn arguments(request: &ResolveRequest) -> Vec<String> {
    let mut args = vec!["--quiet".to_string()];
    args.extend(output_options(request));
    match &request.upgrade {
        Upgrade::None => {}
        Upgrade::All => args.push("--upgrade".to_string()),
        Upgrade::Packages(packages) => {
            args.extend(packages.iter().map(|package| format!("--upgrade-package={package}")));
        }
    }
    args.push(request.project.table.requirements_in.clone());
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Resolver;
    use crate::project::Project;

    fn project() -> Project {
        Project::for_tests()
    }

    #[test]
    fn arguments_with_upgrade_packages() {
        let project = project();
        let request = ResolveRequest {
            project: &project,
            target: &project.table.targets[0],
            resolver: Resolver::PipCompile,
            python_version: "3.11".into(),
            source_dir: project.requirements_dir.clone(),
            preferences: None,
            upgrade: Upgrade::Packages(vec!["torch".into(), "six".into()]),
        };
        assert_eq!(
            arguments(&request),
            [
                "--quiet",
                "--output-file=amd64-gpu-requirements.txt",
                "--strip-extras",
                "--upgrade-package=torch",
                "--upgrade-package=six",
                "requirements.in"
            ]
        );
        assert_eq!(
            header_command(&request),
            "pip-compile --output-file=amd64-gpu-requirements.txt --strip-extras requirements.in"
        );
    }

    #[test]
    fn foreign_machine_rejected() {
        let project = project();
        let arm = project.table.targets.iter().find(|t| t.name == "arm64").unwrap();
        let request = ResolveRequest {
            project: &project,
            target: arm,
            resolver: Resolver::PipCompile,
            python_version: "3.11".into(),
            source_dir: project.requirements_dir.clone(),
            preferences: None,
            upgrade: Upgrade::None,
        };
        if std::env::consts::ARCH != "aarch64" {
            let err = check_host(&request).unwrap_err();
            assert!(err.to_string().contains("--resolver uv"), "{err}");
            assert_eq!(crate::exit::category_of(&err), crate::exit::Category::Invalid);
        }
    }
}
