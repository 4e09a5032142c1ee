//! What `build` will do, decided from its arguments and the target table without running
//! anything: the targets, the image references, and the exact docker commands.

use std::path::PathBuf;

use anyhow::Result;

use crate::docker::{self, DockerCommand};
use crate::exit::{invalid, ResultExt};
use crate::reference;
use crate::targets::{Target, TargetTable};

/// The environment variable that supplies the tag when `--tag` is absent: the run number of a
/// GitHub Actions workflow, which increases with every run.
pub const RUN_NUMBER_VAR: &str = "GITHUB_RUN_NUMBER";

/// Where each platform's image goes after the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Pushed to the registry as `TAG-<target>`.
    Push,
    /// Loaded into the local Docker image store as `TAG`.
    Load,
    /// Kept only in the build cache.
    None,
}

/// A build cache backend; each target gets its own scope so that platforms never evict each
/// other's layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CacheBackend {
    /// The GitHub Actions cache, scoped by target name.
    Gha,
    /// Cache manifests in the image's registry, tagged `buildcache-<target>`.
    Registry,
}

/// The inputs of a plan: the command line with defaults filled in from the project.
#[derive(Debug, Clone)]
pub struct Request {
    /// Platforms or target names; empty selects every target.
    pub platforms: Vec<String>,
    pub tag: Option<String>,
    /// Value of [`RUN_NUMBER_VAR`], when set.
    pub run_number: Option<String>,
    pub image: String,
    pub output: Output,
    pub merge_only: bool,
    pub file: PathBuf,
    pub context: PathBuf,
    /// `KEY=VALUE` pairs as given.
    pub build_args: Vec<String>,
    pub cache: Option<CacheBackend>,
    /// Whether lockfiles carry hashes, so the Dockerfile must install with `--require-hashes`.
    pub require_hashes: bool,
}

/// One platform's build.
#[derive(Debug, Clone)]
pub struct PlatformBuild<'a> {
    pub target: &'a Target,
    /// Where the image goes: `IMAGE:TAG-<target>`, or `IMAGE:TAG` for `--load`.
    pub reference: String,
}

/// Everything `build` runs, in order.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub request: Request,
    pub tag: String,
    pub builds: Vec<PlatformBuild<'a>>,
    /// `IMAGE:TAG` when the per-platform images are merged into a manifest list.
    pub merged: Option<String>,
}

impl<'a> Plan<'a> {
    /// Checks the request and decides the references. Every failure is invalid input (exit 2).
    pub fn new(table: &'a TargetTable, request: Request) -> Result<Plan<'a>> {
        reference::validate_image_name(&request.image)?;
        let tag = resolve_tag(request.tag.as_deref(), request.run_number.as_deref())?;
        let targets = select_targets(table, &request.platforms)?;

        let pushes = request.output == Output::Push || request.merge_only;
        // A name with one component means Docker Hub's official library, which takes no pushes.
        if pushes && !request.image.contains('/') {
            return Err(invalid(format!(
                "image `{}` names no registry or namespace, so it cannot be pushed; pass \
                 --image HOST/NAME, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/{}",
                request.image, request.image
            )));
        }
        if request.output == Output::Load && targets.len() > 1 {
            let platforms: Vec<&str> = targets.iter().map(|target| target.platform.as_str()).collect();
            return Err(invalid(format!(
                "--load takes one platform, but {} are selected ({}): the local Docker image \
                 store keeps one platform per tag. Pass --platform with one of them, or --push \
                 to build them all into one manifest list",
                targets.len(),
                platforms.join(", ")
            )));
        }

        let mut builds = Vec::new();
        for target in targets {
            let reference = if request.output == Output::Load && !request.merge_only {
                format!("{}:{tag}", request.image)
            } else {
                let platform_tag = format!("{tag}-{}", target.name);
                reference::validate_tag(&platform_tag).invalid_context(format!(
                    "tag `{tag}` is too long once suffixed with the target name: `{platform_tag}`"
                ))?;
                format!("{}:{platform_tag}", request.image)
            };
            builds.push(PlatformBuild { target, reference });
        }

        // One platform pushed on its own is a release job's share: the merge runs once every
        // platform is pushed, with --merge-only.
        let merged = (request.merge_only || (request.output == Output::Push && builds.len() > 1))
            .then(|| format!("{}:{tag}", request.image));

        Ok(Plan { request, tag, builds, merged })
    }

    /// `docker buildx build` for one platform.
    pub fn build_command(&self, build: &PlatformBuild) -> DockerCommand {
        let request = &self.request;
        let mut args: Vec<String> = vec!["buildx".into(), "build".into()];
        args.extend(["--platform".into(), build.target.platform.clone()]);
        args.extend(["--file".into(), request.file.display().to_string()]);
        args.extend(["--tag".into(), build.reference.clone()]);
        // No attestation manifests: the merged list must hold only real platforms, and
        // provenance would show up as an `unknown/unknown` entry.
        args.extend(["--provenance=false".into(), "--sbom=false".into()]);
        if request.require_hashes {
            args.extend(["--build-arg".into(), "REQUIRE_HASHES=true".into()]);
        }
        for build_arg in &request.build_args {
            args.extend(["--build-arg".into(), build_arg.clone()]);
        }
        if let Some(cache) = request.cache {
            let (from, to) = cache_specs(cache, &request.image, &build.target.name);
            args.extend(["--cache-from".into(), from, "--cache-to".into(), to]);
        }
        match request.output {
            Output::Push => args.push("--push".into()),
            Output::Load => args.push("--load".into()),
            Output::None => {}
        }
        args.push(request.context.display().to_string());
        DockerCommand { args }
    }

    /// `docker buildx imagetools create`, merging the per-platform tags into `IMAGE:TAG`.
    pub fn merge_command(&self) -> Option<DockerCommand> {
        let merged = self.merged.as_ref()?;
        let mut args: Vec<String> = vec!["buildx".into(), "imagetools".into(), "create".into()];
        args.extend(["--tag".into(), merged.clone()]);
        args.extend(self.builds.iter().map(|build| build.reference.clone()));
        Some(DockerCommand { args })
    }

    /// Whether each platform's image ends up in the registry, so its digest can be read there.
    pub fn platforms_in_registry(&self) -> bool {
        self.request.merge_only || self.request.output == Output::Push
    }

    /// The builds, digest reads and merge of this plan, in run order, each with a description
    /// for `--dry-run`.
    pub fn steps(&self) -> Vec<(String, DockerCommand)> {
        let mut steps = Vec::new();
        for build in &self.builds {
            if !self.request.merge_only {
                let what = format!("build {} (target {})", build.target.platform, build.target.name);
                let description = match self.request.output {
                    Output::Push => format!("{what} and push it as {}", build.reference),
                    Output::Load => {
                        format!("{what} and load it into the local image store as {}", build.reference)
                    }
                    Output::None => format!("{what} into the build cache only"),
                };
                steps.push((description, self.build_command(build)));
            }
            if self.platforms_in_registry() {
                let description = format!("read the digest of {} from the registry", build.reference);
                steps.push((description, docker::imagetools_inspect_command(&build.reference)));
            }
        }
        if let (Some(merge), Some(merged)) = (self.merge_command(), &self.merged) {
            steps.push((format!("merge the platforms into the manifest list {merged}"), merge));
            let description = format!("read the digest and platforms of {merged}");
            steps.push((description, docker::imagetools_inspect_command(merged)));
        }
        steps
    }
}

/// `--tag`, else the workflow run number, else an error asking for `--tag`.
fn resolve_tag(tag: Option<&str>, run_number: Option<&str>) -> Result<String> {
    let (tag, source) = match (tag, run_number) {
        (Some(tag), _) => (tag, "--tag"),
        (None, Some(number)) if !number.is_empty() => (number, RUN_NUMBER_VAR),
        _ => {
            return Err(invalid(format!(
                "no image tag: pass --tag TAG (in GitHub Actions, {RUN_NUMBER_VAR} supplies it)"
            )))
        }
    };
    reference::validate_tag(tag).invalid_context(format!("the tag from {source} is invalid"))?;
    Ok(tag.to_string())
}

/// Resolves `--platform` values (Docker platforms or target names) to targets in table order.
fn select_targets<'a>(table: &'a TargetTable, values: &[String]) -> Result<Vec<&'a Target>> {
    let mut selected: Vec<&Target> = Vec::new();
    for value in values {
        let matches: Vec<&Target> = table
            .targets
            .iter()
            .filter(|target| target.platform == *value || target.name == *value)
            .collect();
        if matches.is_empty() {
            let known: Vec<String> = table
                .targets
                .iter()
                .map(|target| format!("{} ({})", target.platform, target.name))
                .collect();
            return Err(invalid(format!(
                "no target builds for platform `{value}`; --platform takes one of: {}",
                known.join(", ")
            )));
        }
        for target in matches {
            if !selected.iter().any(|seen| seen.name == target.name) {
                selected.push(target);
            }
        }
    }
    if values.is_empty() {
        selected = table.targets.iter().collect();
    }
    selected.sort_by_key(|target| table.targets.iter().position(|t| t.name == target.name));

    for (index, target) in selected.iter().enumerate() {
        if let Some(other) = selected[..index].iter().find(|other| other.platform == target.platform) {
            return Err(invalid(format!(
                "targets `{}` and `{}` both build {}, and a manifest list holds one image per \
                 platform; select one of them by name with --platform",
                other.name, target.name, target.platform
            )));
        }
    }
    Ok(selected)
}

/// The registry host of an image name, by Docker's rule: the first component, when it holds a
/// `.` or `:` or is `localhost`.
pub fn registry_host(image: &str) -> Option<&str> {
    let (first, _) = image.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some(first)
}

fn cache_specs(cache: CacheBackend, image: &str, target: &str) -> (String, String) {
    match cache {
        CacheBackend::Gha => {
            (format!("type=gha,scope={target}"), format!("type=gha,mode=max,scope={target}"))
        }
        CacheBackend::Registry => {
            let reference = format!("{image}:buildcache-{target}");
            (format!("type=registry,ref={reference}"), format!("type=registry,ref={reference},mode=max"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::exit::{category_of, Category};

    fn table() -> TargetTable {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        TargetTable::load(&manifest).unwrap()
    }

    fn request() -> Request {
        Request {
            platforms: Vec::new(),
            tag: Some("7".into()),
            run_number: None,
            image: "127.0.0.1:5000/team/marqo-base".into(),
            output: Output::Push,
            merge_only: false,
            file: PathBuf::from("Dockerfile"),
            context: PathBuf::from("."),
            build_args: Vec::new(),
            cache: None,
            require_hashes: false,
        }
    }

    fn args(command: &DockerCommand) -> Vec<&str> {
        command.args.iter().map(String::as_str).collect()
    }

    #[test]
    fn push_builds_every_target_and_merges() {
        let table = table();
        let plan = Plan::new(&table, request()).unwrap();

        assert_eq!(args(&plan.build_command(&plan.builds[0])), [
            "buildx", "build", "--platform", "linux/amd64", "--file", "Dockerfile",
            "--tag", "127.0.0.1:5000/team/marqo-base:7-amd64-gpu",
            "--provenance=false", "--sbom=false", "--push", ".",
        ]);
        assert_eq!(args(&plan.build_command(&plan.builds[1])), [
            "buildx", "build", "--platform", "linux/arm64", "--file", "Dockerfile",
            "--tag", "127.0.0.1:5000/team/marqo-base:7-arm64",
            "--provenance=false", "--sbom=false", "--push", ".",
        ]);
        assert_eq!(args(&plan.merge_command().unwrap()), [
            "buildx", "imagetools", "create", "--tag", "127.0.0.1:5000/team/marqo-base:7",
            "127.0.0.1:5000/team/marqo-base:7-amd64-gpu", "127.0.0.1:5000/team/marqo-base:7-arm64",
        ]);
    }

    #[test]
    fn steps_list_in_run_order() {
        let table = table();
        let plan = Plan::new(&table, request()).unwrap();
        let lines: Vec<String> = plan.steps().iter().map(|(_, command)| command.to_string()).collect();
        assert_eq!(lines, [
            "docker buildx build --platform linux/amd64 --file Dockerfile --tag 127.0.0.1:5000/team/marqo-base:7-amd64-gpu --provenance=false --sbom=false --push .",
            "docker buildx imagetools inspect --format '{{json .Manifest}}' 127.0.0.1:5000/team/marqo-base:7-amd64-gpu",
            "docker buildx build --platform linux/arm64 --file Dockerfile --tag 127.0.0.1:5000/team/marqo-base:7-arm64 --provenance=false --sbom=false --push .",
            "docker buildx imagetools inspect --format '{{json .Manifest}}' 127.0.0.1:5000/team/marqo-base:7-arm64",
            "docker buildx imagetools create --tag 127.0.0.1:5000/team/marqo-base:7 127.0.0.1:5000/team/marqo-base:7-amd64-gpu 127.0.0.1:5000/team/marqo-base:7-arm64",
            "docker buildx imagetools inspect --format '{{json .Manifest}}' 127.0.0.1:5000/team/marqo-base:7",
        ]);
    }

    #[test]
    fn single_platform_push_does_not_merge() {
        let table = table();
        let plan = Plan::new(&table, Request { platforms: vec!["linux/arm64".into()], ..request() }).unwrap();
        assert_eq!(plan.builds.len(), 1);
        assert_eq!(plan.builds[0].reference, "127.0.0.1:5000/team/marqo-base:7-arm64");
        assert!(plan.merged.is_none());
        assert!(plan.merge_command().is_none());
    }

    #[test]
    fn merge_only_runs_no_build() {
        let table = table();
        let plan = Plan::new(&table, Request { merge_only: true, output: Output::None, ..request() }).unwrap();
        let steps = plan.steps();
        assert!(steps.iter().all(|(_, command)| command.args[..2] != ["buildx", "build"]));
        assert_eq!(plan.merged.as_deref(), Some("127.0.0.1:5000/team/marqo-base:7"));
        assert_eq!(steps.len(), 2 + 2, "two digest reads, the merge and its digest read");
    }

    #[test]
    fn load_uses_plain_tag() {
        let table = table();
        let request = Request {
            platforms: vec!["arm64".into()],
            image: "marqo-base".into(),
            output: Output::Load,
            ..request()
        };
        let plan = Plan::new(&table, request).unwrap();
        assert_eq!(args(&plan.build_command(&plan.builds[0])), [
            "buildx", "build", "--platform", "linux/arm64", "--file", "Dockerfile",
            "--tag", "marqo-base:7", "--provenance=false", "--sbom=false", "--load", ".",
        ]);
        assert!(plan.merged.is_none());
    }

    #[test]
    fn load_rejects_two_platforms() {
        let table = table();
        let err = Plan::new(&table, Request { output: Output::Load, ..request() }).unwrap_err();
        assert_eq!(category_of(&err), Category::Invalid);
        let message = err.to_string();
        assert!(message.contains("--load takes one platform"), "{message}");
        assert!(message.contains("linux/amd64, linux/arm64"), "{message}");
    }

    #[test]
    fn build_args_hashes_and_cache_in_order() {
        let table = table();
        let request = Request {
            platforms: vec!["linux/amd64".into()],
            build_args: vec!["BASE_IMAGE=python:3.11-slim".into(), "A=b c".into()],
            cache: Some(CacheBackend::Gha),
            require_hashes: true,
            ..request()
        };
        let plan = Plan::new(&table, request).unwrap();
        assert_eq!(args(&plan.build_command(&plan.builds[0])), [
            "buildx", "build", "--platform", "linux/amd64", "--file", "Dockerfile",
            "--tag", "127.0.0.1:5000/team/marqo-base:7-amd64-gpu",
            "--provenance=false", "--sbom=false",
            "--build-arg", "REQUIRE_HASHES=true",
            "--build-arg", "BASE_IMAGE=python:3.11-slim", "--build-arg", "A=b c",
            "--cache-from", "type=gha,scope=amd64-gpu", "--cache-to", "type=gha,mode=max,scope=amd64-gpu",
            "--push", ".",
        ]);
    }

    #[test]
    fn registry_cache_scoped_per_target() {
        let (from, to) = cache_specs(CacheBackend::Registry, "r.example/img", "arm64");
        assert_eq!(from, "type=registry,ref=r.example/img:buildcache-arm64");
        assert_eq!(to, "type=registry,ref=r.example/img:buildcache-arm64,mode=max");
    }

    #[test]
    fn tag_falls_back_to_run_number() {
        assert_eq!(resolve_tag(None, Some("42")).unwrap(), "42");
        assert_eq!(resolve_tag(Some("v1"), Some("42")).unwrap(), "v1");
        let err = resolve_tag(None, None).unwrap_err();
        assert_eq!(category_of(&err), Category::Invalid);
        assert!(err.to_string().contains("pass --tag TAG"), "{err}");
        assert!(resolve_tag(None, Some("")).is_err());
    }

    #[test]
    fn unknown_platform_lists_known_ones() {
        let table = table();
        let request = Request { platforms: vec!["linux/ppc64le".into()], ..request() };
        let err = Plan::new(&table, request).unwrap_err();
        assert_eq!(category_of(&err), Category::Invalid);
        assert!(err.to_string().contains("linux/amd64 (amd64-gpu), linux/arm64 (arm64)"), "{err}");
    }

    #[test]
    fn platforms_keep_table_order_without_repeats() {
        let table = table();
        let values = vec!["linux/arm64".into(), "amd64-gpu".into(), "arm64".into()];
        let targets = select_targets(&table, &values).unwrap();
        let names: Vec<&str> = targets.iter().map(|target| target.name.as_str()).collect();
        assert_eq!(names, ["amd64-gpu", "arm64"]);
    }

    #[test]
    fn push_needs_registry_host() {
        let table = table();
        let err = Plan::new(&table, Request { image: "marqo-base".into(), ..request() }).unwrap_err();
        assert_eq!(category_of(&err), Category::Invalid);
        assert!(err.to_string().contains("names no registry or namespace"), "{err}");
    }

    #[test]
    fn registry_host_follows_docker_rule() {
        assert_eq!(registry_host("127.0.0.1:5000/a/b"), Some("127.0.0.1:5000"));
        assert_eq!(registry_host("localhost/a"), Some("localhost"));
        assert_eq!(registry_host("1.dkr.ecr.us-east-1.amazonaws.com/m"), Some("1.dkr.ecr.us-east-1.amazonaws.com"));
        assert_eq!(registry_host("team/marqo-base"), None);
        assert_eq!(registry_host("marqo-base"), None);
    }
}
