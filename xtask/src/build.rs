//! `build`: the image built with `docker buildx build` for one platform or several, each pushed
//! as `TAG-<target>` and merged into one manifest list under `TAG`.
//!
//! The docker driver that a plain Docker Engine provides builds one platform per run, so every
//! platform is built and pushed on its own and `docker buildx imagetools create` merges them.
//! A release runs the same steps on one native runner per platform and merges in a last job
//! with `--merge-only`. The JSON summary on stdout names every reference and digest.

mod execute;
mod plan;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::Shell;

use crate::docker;
use crate::dry_run::{self, Step};
use crate::ecr::{self, EcrOptions};
use crate::exit::{invalid, Categorized, Category, Outcome, ResultExt};
use crate::project::{display_path, Project};
use crate::validate;

pub use plan::{CacheBackend, Output, Plan, Request, RUN_NUMBER_VAR};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Platforms to build, comma-separated: Docker platforms (linux/arm64) or target names
    /// [default: every target's platform]
    #[arg(long, value_delimiter = ',', value_name = "PLATFORMS")]
    platform: Vec<String>,

    /// Image tag [default: $GITHUB_RUN_NUMBER]
    #[arg(long)]
    tag: Option<String>,

    /// Image name, with its registry host when pushing [default: the target table's image]
    #[arg(long, value_name = "NAME")]
    image: Option<String>,

    /// Push each platform as TAG-<target>; with several platforms, also merge them into one
    /// manifest list under TAG
    #[arg(long, conflicts_with = "load")]
    push: bool,

    /// Load the image into the local Docker image store as IMAGE:TAG (one platform only)
    #[arg(long)]
    load: bool,

    /// Build nothing: merge the per-platform tags already pushed into the manifest list
    /// under TAG
    #[arg(long, conflicts_with = "load")]
    merge_only: bool,

    /// Dockerfile [default: Dockerfile in the context folder]
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,

    /// Build context folder [default: the repository root]
    #[arg(long, value_name = "DIR")]
    context: Option<PathBuf>,

    /// Build argument passed to the Dockerfile, such as BASE_IMAGE=python:3.11-slim-bookworm;
    /// repeatable
    #[arg(long = "build-arg", value_name = "KEY=VALUE", value_parser = parse_build_arg)]
    build_args: Vec<String>,

    /// Build cache backend; each target gets its own cache scope
    #[arg(long, value_enum)]
    cache: Option<CacheBackend>,

    /// Log in to the Amazon ECR registry of --image through the AWS SDK before pushing
    #[arg(long)]
    ecr: bool,

    /// AWS region of the ECR registry [default: the region in --image's host, else the AWS
    /// configuration's]
    #[arg(long, requires = "ecr")]
    region: Option<String>,

    /// AWS profile for the ECR login
    #[arg(long, requires = "ecr")]
    profile: Option<String>,

    /// AWS account ID that owns the ECR registry [default: the account in --image's host]
    #[arg(long, value_name = "ACCOUNT", requires = "ecr")]
    registry_id: Option<String>,

    /// Print every command the build would run, and run none
    #[arg(long)]
    dry_run: bool,
}

pub fn run(project: &Project, args: Args) -> Result<Outcome> {
    let request = request_from(project, &args);
    check_paths(&request)?;
    check_requirements_in_context(project, &request)?;
    let plan = Plan::new(&project.table, request)?;
    let ecr_options = if args.ecr { Some(ecr_options(&args, &plan)?) } else { None };

    if !args.merge_only {
        check_lockfiles(project, &plan)?;
    }

    if args.dry_run {
        print!("{}", dry_run::render(&dry_run_steps(&plan, ecr_options.as_ref())));
        return Ok(Outcome::Success);
    }

    let sh = Shell::new().context("cannot start a shell")?;
    docker::check_available(&sh, project.verbose)?;

    // The login's temporary Docker configuration folder lives as long as this value, which is
    // dropped only after every push and the merge.
    let login = match &ecr_options {
        Some(options) => {
            let host = options.registry.clone().unwrap_or_default();
            eprintln!("logging in to the ECR registry {host}");
            let login = ecr::login(options, false, project.verbose)
                .external_context(format!("ECR login to {host} failed"))?;
            // NOTE: buildx then reads its builders from this folder, so a builder created
            // under ~/.docker is not used; set BUILDX_BUILDER to pick one.
            sh.set_var("DOCKER_CONFIG", login.docker_config_dir());
            Some(login)
        }
        None => None,
    };

    let summary = execute::execute(&sh, &plan)?;
    drop(login);

    println!("{}", serde_json::to_string_pretty(&summary).context("cannot serialize the summary")?);
    Ok(Outcome::Success)
}

/// Lists the steps of a run in order, as `--dry-run` prints them. After an ECR login, the
/// docker commands run with the login's temporary Docker config.
fn dry_run_steps(plan: &Plan, ecr_options: Option<&EcrOptions>) -> Vec<Step> {
    let checks = docker::availability_checks().into_iter();
    let mut steps: Vec<Step> = checks.map(|(description, command)| Step::run(description, command)).collect();

    let mut config = String::new();
    if let Some(options) = ecr_options {
        steps.extend(ecr::describe_login(options, false));
        config = format!("DOCKER_CONFIG={} ", ecr::config_dir_placeholder(false));
    }
    for (description, command) in plan.steps() {
        steps.push(Step::run(description, format!("{config}{command}")));
    }
    steps
}

fn request_from(project: &Project, args: &Args) -> Request {
    let output = if args.push {
        Output::Push
    } else if args.load {
        Output::Load
    } else {
        Output::None
    };
    let context = args.context.clone().unwrap_or_else(|| project.root.clone());
    let file = args.file.clone().unwrap_or_else(|| context.join("Dockerfile"));
    Request {
        platforms: args.platform.clone(),
        tag: args.tag.clone(),
        run_number: std::env::var(RUN_NUMBER_VAR).ok(),
        image: args.image.clone().unwrap_or_else(|| project.table.image.clone()),
        output,
        merge_only: args.merge_only,
        file,
        context,
        build_args: args.build_args.clone(),
        cache: args.cache,
        require_hashes: project.table.generate_hashes,
    }
}

fn check_paths(request: &Request) -> Result<()> {
    if request.merge_only {
        return Ok(());
    }
    if !request.context.is_dir() {
        return Err(invalid(format!(
            "build context {} is not a folder; pass --context DIR",
            display_path(&request.context)
        )));
    }
    if !request.file.is_file() {
        return Err(invalid(format!(
            "Dockerfile {} does not exist; pass --file PATH",
            display_path(&request.file)
        )));
    }
    Ok(())
}

/// Rejects (exit 2) a build that would install other lockfiles than the ones `validate`
/// checks. The Dockerfile copies `requirements/` from the build context, so the checked folder
/// must be `CONTEXT/requirements`.
fn check_requirements_in_context(project: &Project, request: &Request) -> Result<()> {
    if request.merge_only {
        return Ok(());
    }
    let checked = &project.requirements_dir;
    let copied = request.context.join("requirements");
    if same_folder(checked, &copied) {
        return Ok(());
    }
    Err(invalid(format!(
        "the lockfiles checked are in {}, but the Dockerfile copies requirements/ from the \
         build context, so the image would install the ones in {}; pass --requirements-dir {} \
         to build those, or --context DIR where DIR/requirements is {}",
        display_path(checked),
        display_path(&copied),
        display_path(&copied),
        display_path(checked)
    )))
}

/// Returns whether two paths name the same folder after resolving `.`, `..` and symbolic links.
/// A path that does not exist is compared as an absolute path instead.
fn same_folder(a: &Path, b: &Path) -> bool {
    let resolve = |path: &Path| {
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    resolve(a) == resolve(b)
}

/// Runs `validate`'s checks and rejects (exit 1) a build from lockfiles that fail them.
fn check_lockfiles(project: &Project, plan: &Plan) -> Result<()> {
    eprintln!("checking the lockfiles and the Dockerfile with validate");
    let clean = validate::check_before_build(project, &plan.request.file)?;
    if clean {
        return Ok(());
    }
    Err(anyhow::Error::new(Categorized {
        category: Category::Findings,
        message: "refusing to build: validate found errors in the lockfiles or the Dockerfile \
                  (listed above); fix them and check with `cargo xtask validate`"
            .to_string(),
    }))
}

/// ECR login settings: the registry is --image's host, and the account and region default to
/// the ones that host names (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`), which --region and
/// --registry-id must not contradict.
fn ecr_options(args: &Args, plan: &Plan) -> Result<EcrOptions> {
    if !plan.platforms_in_registry() {
        return Err(invalid("--ecr logs in to push; add --push or --merge-only"));
    }
    let image = &plan.request.image;
    let Some(host) = plan::registry_host(image) else {
        return Err(invalid(format!(
            "--ecr needs --image with the ECR registry host, such as \
             123456789012.dkr.ecr.us-east-1.amazonaws.com/{image}"
        )));
    };
    ecr::options_for_registry(EcrOptions {
        registry: Some(host.to_string()),
        region: args.region.clone(),
        profile: args.profile.clone(),
        registry_id: args.registry_id.clone(),
    })
}

fn parse_build_arg(value: &str) -> std::result::Result<String, String> {
    match value.split_once('=') {
        Some((key, _)) if !key.is_empty() && !key.contains(char::is_whitespace) => {
            Ok(value.to_string())
        }
        _ => Err(format!("`{value}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct TestCli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(line: &[&str]) -> std::result::Result<Args, clap::Error> {
        let argv = std::iter::once("build").chain(line.iter().copied());
        TestCli::try_parse_from(argv).map(|cli| cli.args)
    }

    #[test]
    fn platform_list_splits_on_commas() {
        let args = parse(&["--platform", "linux/amd64,linux/arm64", "--platform", "arm64"]).unwrap();
        assert_eq!(args.platform, ["linux/amd64", "linux/arm64", "arm64"]);
    }

    #[test]
    fn conflicting_flags_are_usage_errors() {
        for line in [
            &["--push", "--load"][..],
            &["--merge-only", "--load"],
            &["--region", "us-east-1"],
            &["--build-arg", "NOVALUE"],
            &["--cache", "s3"],
        ] {
            let err = parse(line).err().unwrap_or_else(|| panic!("{line:?} parsed"));
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
    }

    #[test]
    fn repeated_build_args_keep_order() {
        let args = parse(&["--build-arg", "A=1", "--build-arg", "B=2", "--cache", "gha"]).unwrap();
        assert_eq!(args.build_args, ["A=1", "B=2"]);
        assert_eq!(args.cache, Some(CacheBackend::Gha));
    }

    #[test]
    fn same_folder_resolves_dots_and_links() {
        let root = tempfile::tempdir().unwrap();
        let requirements = root.path().join("requirements");
        std::fs::create_dir(&requirements).unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&requirements, &link).unwrap();

        assert!(same_folder(&requirements, &root.path().join("requirements/../requirements")));
        assert!(same_folder(&requirements, &link));
        assert!(!same_folder(&requirements, root.path()));
        assert!(same_folder(&root.path().join("missing"), &root.path().join("missing")));
        assert!(!same_folder(&root.path().join("missing"), &requirements));
    }

    #[test]
    fn build_arg_needs_key() {
        assert_eq!(parse_build_arg("A=1").unwrap(), "A=1");
        assert_eq!(parse_build_arg("A=").unwrap(), "A=");
        assert!(parse_build_arg("=1").is_err());
        assert!(parse_build_arg("A").is_err());
        assert!(parse_build_arg("A B=1").is_err());
    }
}
