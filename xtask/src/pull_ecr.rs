//! `pull-ecr`: logs in to Amazon ECR through the AWS SDK and pulls one tag of the image, with
//! no AWS CLI and without storing the password.
//!
//! Steps: check the tag and repository, check that docker and its daemon respond, fetch a
//! token, `docker login` into a temporary Docker config, `docker pull`, and print the pulled
//! image's digest reference (`HOST/REPOSITORY@sha256:...`) on stdout.

use std::path::Path;

use anyhow::Result;

use crate::docker;
use crate::dry_run::{self, Step};
use crate::ecr::docker_cli::{command_line, Docker};
use crate::ecr::{self, EcrOptions};
use crate::exit::Outcome;
use crate::project::Project;
use crate::reference::{validate_repository, validate_tag};

#[derive(clap::Args)]
pub struct Args {
    /// Tag to pull
    #[arg(long)]
    tag: String,

    /// Registry host[:port] to log in to and pull from
    /// [default: the host of the token's proxy endpoint]
    #[arg(long, value_name = "HOST")]
    registry: Option<String>,

    /// Repository in the registry [default: the target table's image name]
    #[arg(long, value_name = "NAME")]
    repository: Option<String>,

    /// AWS region [default: the region in --registry's host when it is an ECR host, else
    /// AWS_REGION or the AWS profile's]
    #[arg(long, value_name = "REGION")]
    region: Option<String>,

    /// AWS profile for credentials and region [default: AWS_PROFILE, else `default`]
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,

    /// AWS account ID that owns the registry [default: the account in --registry's host when
    /// it is an ECR host, else the caller's account]
    #[arg(long, value_name = "ACCOUNT")]
    registry_id: Option<String>,

    /// Store the login in your Docker config (DOCKER_CONFIG or ~/.docker), where it stays valid
    /// for 12 hours
    #[arg(long)]
    keep_login: bool,

    /// Print the steps without contacting docker, AWS or the registry
    #[arg(long)]
    dry_run: bool,
}

pub fn run(project: &Project, args: Args) -> Result<Outcome> {
    let repository = args.repository.clone().unwrap_or_else(|| project.table.image.clone());
    validate_tag(&args.tag)?;
    validate_repository(&repository)?;
    let options = ecr::options_for_registry(EcrOptions {
        registry: args.registry.clone(),
        region: args.region.clone(),
        profile: args.profile.clone(),
        registry_id: args.registry_id.clone(),
    })?;

    if args.dry_run {
        print!("{}", dry_run::render(&describe(&options, &repository, &args)));
        return Ok(Outcome::Success);
    }

    let docker = Docker::find()?;
    let version = docker::check_daemon(&docker.program)?;
    if project.verbose {
        eprintln!("docker daemon {version} responds");
    }

    let login = ecr::login(&options, args.keep_login, project.verbose)?;
    let reference = format!("{}/{repository}:{}", login.host, args.tag);
    eprintln!("pulling {reference}");
    docker.pull(login.docker_config_dir(), &reference, project.verbose)?;
    let digest = docker.repo_digest(&reference, project.verbose)?;

    println!("{digest}");
    Ok(Outcome::Success)
}

/// Lists the steps of a run in order, as the dry run prints them.
fn describe(options: &EcrOptions, repository: &str, args: &Args) -> Vec<Step> {
    let docker = Docker { program: "docker".into() };
    let host = options.registry.as_deref().unwrap_or("HOST-OF-THE-TOKEN'S-PROXY-ENDPOINT");
    let reference = format!("{host}/{repository}:{}", args.tag);
    let config_dir = Path::new(ecr::config_dir_placeholder(args.keep_login));

    let mut steps = vec![Step::run(docker::DAEMON_CHECK, docker::daemon_version_command())];
    steps.extend(ecr::describe_login(options, args.keep_login));
    steps.push(Step::run(
        format!("pull {reference}"),
        command_line(&docker.pull_command(config_dir, &reference)),
    ));
    steps.push(Step::run(
        "print the pulled image's digest reference",
        command_line(&docker.repo_digests_command(&reference)),
    ));
    steps
}
