//! Running a [`Plan`]: each platform's build, the digests read back from the registry, the
//! merge into one manifest list, and the summary of it all.

use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use xshell::Shell;

use super::plan::{self, Output, Plan};
use crate::docker::{self, Manifest};
use crate::exit::ResultExt;

/// The JSON printed on stdout at the end of a build.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub image: String,
    pub tag: String,
    pub platforms: Vec<PlatformSummary>,
    /// The manifest list under `IMAGE:TAG`, when this run made one.
    pub merged: Option<MergedSummary>,
}

#[derive(Debug, Serialize)]
pub struct PlatformSummary {
    pub target: String,
    pub platform: String,
    pub reference: String,
    /// The pushed manifest's digest; null when the image was not pushed.
    pub digest: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MergedSummary {
    pub reference: String,
    pub digest: String,
}

pub fn execute(sh: &Shell, plan: &Plan) -> Result<Summary> {
    let mut platforms = Vec::new();
    let total = plan.builds.len();
    for (index, build) in plan.builds.iter().enumerate() {
        if !plan.request.merge_only {
            eprintln!(
                "[{}/{total}] building {} (target {}) as {}",
                index + 1,
                build.target.platform,
                build.target.name,
                build.reference
            );
            let command = plan.build_command(build);
            eprintln!("$ {command}");
            let started = Instant::now();
            command.run_streaming(sh).with_context(|| build_failure_hint(plan))?;
            eprintln!("[{}/{total}] built {} in {:.1?}", index + 1, build.target.platform, started.elapsed());
        }

        let mut digest = None;
        if plan.platforms_in_registry() {
            let manifest = inspect(sh, &build.reference).with_context(|| {
                format!(
                    "{} is not in the registry; push it first with `cargo xtask build \
                     --platform {} --tag {} --push`",
                    build.reference, build.target.platform, plan.tag
                )
            })?;
            digest = Some(manifest.digest);
        }
        platforms.push(PlatformSummary {
            target: build.target.name.clone(),
            platform: build.target.platform.clone(),
            reference: build.reference.clone(),
            digest,
        });
    }

    let merged = match (plan.merge_command(), &plan.merged) {
        (Some(command), Some(reference)) => Some(merge(sh, plan, &command, reference)?),
        _ => {
            report_unmerged(plan);
            None
        }
    };

    Ok(Summary {
        image: plan.request.image.clone(),
        tag: plan.tag.clone(),
        platforms,
        merged,
    })
}

/// Merges the per-platform images and checks that the list holds exactly their platforms.
fn merge(
    sh: &Shell,
    plan: &Plan,
    command: &docker::DockerCommand,
    reference: &str,
) -> Result<MergedSummary> {
    eprintln!("merging {} platforms into {reference}", plan.builds.len());
    eprintln!("$ {command}");
    command.run_streaming(sh).context("merging the per-platform images failed")?;

    let manifest = inspect(sh, reference)?;
    let mut expected: Vec<String> = plan.builds.iter().map(|build| build.target.platform.clone()).collect();
    expected.sort();
    let mut found = manifest.platforms.clone();
    found.sort();
    if found != expected {
        return Err(crate::exit::external(format!(
            "the manifest list {reference} holds {}, but exactly {} was expected",
            found.join(", "),
            expected.join(", ")
        )));
    }
    eprintln!("{reference} is {}", manifest.digest);
    Ok(MergedSummary { reference: reference.to_string(), digest: manifest.digest })
}

fn inspect(sh: &Shell, reference: &str) -> Result<Manifest> {
    let command = docker::imagetools_inspect_command(reference);
    eprintln!("$ {command}");
    let json = command.read(sh)?;
    docker::parse_manifest(&json).external_context(format!("cannot read the manifest of {reference}"))
}

fn report_unmerged(plan: &Plan) {
    match plan.request.output {
        Output::Push => eprintln!(
            "pushed {} only; once every platform is pushed, merge them with `cargo xtask build \
             --merge-only --tag {}`",
            plan.builds[0].reference, plan.tag
        ),
        Output::Load => eprintln!("loaded {} into the local image store", plan.builds[0].reference),
        Output::None => eprintln!(
            "nothing was pushed or loaded: the result stays in the build cache; pass --push or \
             --load to keep the image"
        ),
    }
}

fn build_failure_hint(plan: &Plan) -> String {
    let mut hint = "docker buildx build failed; its output is above".to_string();
    if plan.request.output == Output::Push {
        let host = plan::registry_host(&plan.request.image).unwrap_or("docker.io");
        hint.push_str(&format!(
            ". If the registry rejected the push, log in with `docker login {host}` \
             (or pass --ecr for Amazon ECR) and try again"
        ));
    }
    hint
}
