//! `not-installable`: whether each locked version has a wheel for its target's platform and
//! Python on the indexes and find-links locations the target installs from.
//!
//! File lists come from each index's simple API (PEP 691 JSON, else the PEP 503 HTML page),
//! from find-links pages and from find-links folders. Wheel tags are matched the way pip on a
//! glibc Linux target accepts them: `py3`/`py3X`/`cp3X` Python tags, `none`, `abi3` and the
//! interpreter's ABI, and `any`, `linux_ARCH` and manylinux tags up to the target's glibc.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;
use pep440_rs::Version;

use crate::exit::external;
use crate::report::Finding;
use crate::requirements::input::{RequirementsOption, RequirementsTree};
use crate::requirements::lockfile::Lockfile;
use crate::requirements::{normalize_name, redact_url};
use crate::targets::Target;

/// The default index when requirements.in sets no `--index-url`.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple";

/// Parallel index requests at most.
const MAX_PARALLEL_REQUESTS: usize = 8;

/// A location a target's distributions come from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A simple repository API base URL.
    Index(String),
    /// A find-links HTML page.
    FindLinksPage(String),
    /// A find-links folder.
    FindLinksDir(PathBuf),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Index(url) | Source::FindLinksPage(url) => redact_url(url),
            Source::FindLinksDir(path) => path.display().to_string(),
        }
    }
}

/// Lists the sources a target installs from: requirements.in's `--index-url` (else PyPI),
/// `--extra-index-url`, `--find-links` (folders relative to `base_dir`) and `--no-index`, and
/// the target table's extra index URLs.
pub fn sources(tree: &RequirementsTree, target: &Target, base_dir: &Path) -> Vec<Source> {
    let mut primary = Some(PYPI_SIMPLE.to_string());
    let mut extra = Vec::new();
    let mut find_links = Vec::new();
    let mut no_index = false;
    for (_, option) in tree.options() {
        match &option.option {
            RequirementsOption::IndexUrl(url) => primary = Some(url.clone()),
            RequirementsOption::ExtraIndexUrl(url) => extra.push(url.clone()),
            RequirementsOption::NoIndex => no_index = true,
            RequirementsOption::FindLinks(location) => {
                let source = if let Some(path) = location.strip_prefix("file://") {
                    Source::FindLinksDir(PathBuf::from(path))
                } else if location.contains("://") {
                    Source::FindLinksPage(location.clone())
                } else {
                    Source::FindLinksDir(base_dir.join(location))
                };
                find_links.push(source);
            }
            _ => {}
        }
    }
    extra.extend(target.extra_index_urls.iter().cloned());

    let mut result = Vec::new();
    if !no_index {
        result.extend(primary.into_iter().chain(extra).map(Source::Index));
    }
    result.extend(find_links);
    result.sort();
    result.dedup();
    result
}

/// The platform and Python that pip on a target accepts wheels for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `x86_64` or `aarch64`, as in wheel platform tags.
    pub arch: String,
    /// The glibc version from a uv platform such as `x86_64-manylinux_2_36`; `None` accepts
    /// every manylinux tag.
    pub glibc: Option<(u32, u32)>,
    /// Python major and minor version.
    pub python: (u32, u32),
}

impl Platform {
    pub fn for_target(target: &Target, python_version: &str) -> Platform {
        let arch = target
            .markers
            .get("platform_machine")
            .cloned()
            .unwrap_or_else(|| target.uv_platform.split('-').next().unwrap_or_default().to_string());
        let glibc = target.uv_platform.split_once("manylinux_").and_then(|(_, version)| {
            let (major, minor) = version.split_once('_')?;
            Some((major.parse().ok()?, minor.parse().ok()?))
        });
        let mut parts = python_version.split('.').map(|part| part.parse().unwrap_or(0));
        let python = (parts.next().unwrap_or(3), parts.next().unwrap_or(0));
        Platform { arch, glibc, python }
    }

    fn python_tag_ok(&self, tag: &str, abi: &str) -> bool {
        let (major, minor) = self.python;
        let own_cp = format!("cp{major}{minor}");
        if abi == "abi3" {
            return tag.strip_prefix(&format!("cp{major}")).and_then(|rest| rest.parse::<u32>().ok()).is_some_and(|m| m <= minor);
        }
        if tag == own_cp {
            return abi == "none" || abi == own_cp || abi == format!("{own_cp}m");
        }
        if abi != "none" {
            return false;
        }
        if tag == format!("py{major}") {
            return true;
        }
        tag.strip_prefix(&format!("py{major}")).and_then(|rest| rest.parse::<u32>().ok()).is_some_and(|m| m <= minor)
    }

    fn platform_tag_ok(&self, tag: &str) -> bool {
        if tag == "any" || tag == format!("linux_{}", self.arch) {
            return true;
        }
        let legacy = [("manylinux1_", (2, 5)), ("manylinux2010_", (2, 12)), ("manylinux2014_", (2, 17))];
        for (prefix, glibc) in legacy {
            if tag.strip_prefix(prefix) == Some(self.arch.as_str()) {
                return self.glibc.is_none_or(|own| glibc <= own);
            }
        }
        let Some(rest) = tag.strip_prefix("manylinux_") else { return false };
        let mut parts = rest.splitn(3, '_');
        let (Some(major), Some(minor), Some(arch)) = (parts.next(), parts.next(), parts.next()) else { return false };
        let (Ok(major), Ok(minor)) = (major.parse::<u32>(), minor.parse::<u32>()) else { return false };
        arch == self.arch && self.glibc.is_none_or(|own| (major, minor) <= own)
    }

    /// Returns whether pip on this platform installs a wheel with these compressed tag sets.
    pub fn accepts(&self, python: &str, abi: &str, platform: &str) -> bool {
        python.split('.').any(|python| {
            abi.split('.').any(|abi| self.python_tag_ok(python, abi) && platform.split('.').any(|tag| self.platform_tag_ok(tag)))
        })
    }
}

/// A distribution file name, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    Wheel { name: String, version: Version, python: String, abi: String, platform: String },
    Sdist { name: String, version: Version },
}

/// Parses a wheel (`name-ver[-build]-py-abi-plat.whl`) or sdist (`name-ver.tar.gz`, `.zip`)
/// file name; other files return `None`.
pub fn parse_file_name(file_name: &str) -> Option<Distribution> {
    if let Some(stem) = file_name.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, tags) = match parts.as_slice() {
            [name, version, python, abi, platform] => (name, version, [python, abi, platform]),
            [name, version, _build, python, abi, platform] => (name, version, [python, abi, platform]),
            _ => return None,
        };
        return Some(Distribution::Wheel {
            name: normalize_name(name),
            version: Version::from_str(version).ok()?,
            python: tags[0].to_string(),
            abi: tags[1].to_string(),
            platform: tags[2].to_string(),
        });
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"].iter().find_map(|suffix| file_name.strip_suffix(suffix))?;
    let (name, version) = stem.rsplit_once('-')?;
    Some(Distribution::Sdist { name: normalize_name(name), version: Version::from_str(version).ok()? })
}

/// The reason a source gave no file list for a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    /// No connection could be made (DNS, refused, timed out, TLS), so the source is marked
    /// down and skipped for the remaining packages.
    Unreachable(String),
    /// The source responded, but not with a usable file list.
    Failed(String),
    /// Not requested, because the source was already marked down.
    Skipped,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Unreachable(message) | ListError::Failed(message) => f.write_str(message),
            ListError::Skipped => f.write_str("skipped because the source is down"),
        }
    }
}

/// A request for the files of a package on a source. The version is set only for PyPI, which
/// lists one release's files through its JSON API (`/pypi/NAME/VERSION/json`), a far smaller
/// response than the simple API's page of every release.
type Job = (Source, String, Option<String>);

fn job(source: &Source, name: &str, version: &Version) -> Job {
    let version = matches!(source, Source::Index(url) if is_pypi(url)).then(|| version.to_string());
    (source.clone(), name.to_string(), version)
}

fn is_pypi(url: &str) -> bool {
    url.trim_end_matches('/') == PYPI_SIMPLE
}

/// Lists the distribution file names of a package on a source. On PyPI, a given `version`
/// lists only that release's files. A package the source does not have is an empty list.
pub fn list_files(source: &Source, name: &str, version: Option<&str>, agent: &ureq::Agent) -> Result<Vec<String>, ListError> {
    let pypi_release = match (source, version) {
        (Source::Index(base), Some(version)) if is_pypi(base) => Some((base, version)),
        _ => None,
    };
    if let Some((base, version)) = pypi_release {
        let root = base.trim_end_matches('/').trim_end_matches("/simple");
        let url = format!("{root}/pypi/{}/{version}/json", normalize_name(name));
        // A mirror may serve only the simple API, so a missing release falls back to it.
        if let Some((_, body)) = fetch(agent, &url)? {
            return release_file_names(&body)
                .map_err(|err| ListError::Failed(format!("invalid JSON from {}: {err}", redact_url(&url))));
        }
    }
    match source {
        Source::FindLinksDir(dir) => {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(err) => return Err(ListError::Failed(format!("cannot list find-links folder {}: {err}", dir.display()))),
            };
            Ok(entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect())
        }
        Source::FindLinksPage(url) => fetch(agent, url).map(|page| page.map_or_else(Vec::new, |(_, body)| html_file_names(&body))),
        Source::Index(base) => {
            let url = format!("{}/{}/", base.trim_end_matches('/'), normalize_name(name));
            let Some((content_type, body)) = fetch(agent, &url)? else { return Ok(Vec::new()) };
            if content_type.contains("json") {
                json_file_names(&body)
                    .map_err(|err| ListError::Failed(format!("invalid simple API response from {}: {err}", redact_url(&url))))
            } else {
                Ok(html_file_names(&body))
            }
        }
    }
}

/// GETs a URL asking for PEP 691 JSON first; a 404 is `None`.
fn fetch(agent: &ureq::Agent, url: &str) -> Result<Option<(String, String)>, ListError> {
    let response = agent
        .get(url)
        .set("Accept", "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
        .call();
    match response {
        Ok(response) => {
            let content_type = response.content_type().to_string();
            let body = response
                .into_string()
                .map_err(|err| ListError::Failed(format!("reading {} failed: {err}", redact_url(url))))?;
            Ok(Some((content_type, body)))
        }
        Err(ureq::Error::Status(404, _)) => Ok(None),
        Err(err) => {
            let message = format!("GET {} failed: {}", redact_url(url), redact_url(&err.to_string()));
            let no_connection = matches!(
                err.kind(),
                ureq::ErrorKind::Dns | ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::ProxyConnect
            );
            Err(if no_connection { ListError::Unreachable(message) } else { ListError::Failed(message) })
        }
    }
}

/// Reads the file names of one release from PyPI's JSON API (`urls[].filename`).
fn release_file_names(body: &str) -> Result<Vec<String>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Release {
        urls: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        filename: String,
    }
    let release: Release = serde_json::from_str(body)?;
    Ok(release.urls.into_iter().map(|file| file.filename).collect())
}

fn json_file_names(body: &str) -> Result<Vec<String>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Project {
        files: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        filename: String,
    }
    let project: Project = serde_json::from_str(body)?;
    Ok(project.files.into_iter().map(|file| file.filename).collect())
}

/// File names from the `href`s of a PEP 503 page: the last path segment, without the fragment.
fn html_file_names(body: &str) -> Vec<String> {
    let mut names = Vec::new();
    for part in body.split("href=").skip(1) {
        let Some(quote) = part.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
        let Some(end) = part[1..].find(quote) else { continue };
        let href = &part[1..1 + end];
        let path = href.split(['#', '?']).next().unwrap_or(href);
        let name = path.rsplit('/').next().unwrap_or(path);
        if !name.is_empty() {
            names.push(percent_decode(name));
        }
    }
    names
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let digits = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
            if let Ok(value) = u8::from_str_radix(digits, 16) {
                out.push(value);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One target to check: its committed lockfile and what it installs from.
pub struct TargetCheck<'a> {
    pub target: &'a Target,
    pub file: String,
    pub lockfile: &'a Lockfile,
    pub python_version: String,
    pub sources: Vec<Source>,
}

/// Checks every locked version of every target. File lists are fetched once per source and
/// package, in parallel. A source that fails to connect is marked down after its first
/// failure and skipped from then on, with one warning naming it, and so is a source whose
/// requests fail otherwise. A version that has no fitting wheel on the sources that responded
/// is not judged when a source that failed might have it. The result is an external error
/// only when no source responded at all.
pub fn check(checks: &[TargetCheck]) -> Result<Vec<Finding>> {
    let mut jobs: Vec<Job> = Vec::new();
    for check in checks {
        for package in &check.lockfile.packages {
            let Some(version) = &package.version else { continue };
            for source in &check.sources {
                jobs.push(job(source, package.name.as_ref(), version));
            }
        }
    }
    jobs.sort();
    jobs.dedup();

    let listings = fetch_all(&jobs);
    if !jobs.is_empty() && listings.values().all(Result::is_err) {
        let mut examples: Vec<String> = listings
            .iter()
            .filter(|(_, result)| !matches!(result, Err(ListError::Skipped)))
            .map(|((source, name, _), result)| format!("{} for {name}: {}", source.describe(), result.as_ref().unwrap_err()))
            .collect();
        examples.truncate(5);
        return Err(external(format!(
            "cannot check wheel availability: no index or find-links location responded, for example:\n  {}",
            examples.join("\n  ")
        )));
    }

    let mut findings = Vec::new();
    let mut unjudged: BTreeMap<Source, usize> = BTreeMap::new();
    for check in checks {
        let env = check.target.marker_environment(&check.python_version)?;
        let platform = Platform::for_target(check.target, &check.python_version);
        for package in &check.lockfile.packages {
            let Some(version) = &package.version else { continue };
            if !package.applies_to(&env) {
                continue;
            }
            let results: Vec<(&Source, &Result<Vec<String>, ListError>)> = check
                .sources
                .iter()
                .filter_map(|source| Some((source, listings.get(&job(source, package.name.as_ref(), version))?)))
                .collect();
            let files: Vec<&String> = results.iter().filter_map(|(_, result)| result.as_ref().ok()).flatten().collect();
            let Some(finding) = judge(check, &platform, package.name.as_ref(), version, &files) else { continue };
            let failed: Vec<&Source> = results.iter().filter(|(_, result)| result.is_err()).map(|(source, _)| *source).collect();
            if failed.is_empty() {
                findings.push(finding.package(&package.name).at(&check.file, Some(package.line)));
            } else {
                for source in failed {
                    *unjudged.entry(source.clone()).or_default() += 1;
                }
            }
        }
    }
    findings.extend(source_warnings(&listings, &unjudged));
    Ok(findings)
}

/// Builds one warning per source that failed: `index-unreachable` when no connection could be
/// made, else `index-failed`. Each names the first error and how many versions went unjudged.
fn source_warnings(listings: &Listings, unjudged: &BTreeMap<Source, usize>) -> Vec<Finding> {
    let mut first_errors: BTreeMap<&Source, &ListError> = BTreeMap::new();
    let mut failed_requests: BTreeMap<&Source, usize> = BTreeMap::new();
    for ((source, _, _), result) in listings {
        let Err(err) = result else { continue };
        *failed_requests.entry(source).or_default() += 1;
        if !matches!(err, ListError::Skipped) {
            first_errors.entry(source).or_insert(err);
        }
    }

    let mut findings = Vec::new();
    for (source, err) in first_errors {
        let unjudged = unjudged.get(source).copied().unwrap_or(0);
        let consequence = if unjudged == 0 {
            String::new()
        } else {
            format!("; {unjudged} locked version(s) with no fitting wheel elsewhere were not judged")
        };
        let finding = match err {
            ListError::Unreachable(_) => Finding::warning(
                "index-unreachable",
                format!(
                    "{} could not be reached ({err}), so the wheel check skipped it for the remaining \
                     packages and used the other sources{consequence}",
                    source.describe()
                ),
            ),
            _ => Finding::warning(
                "index-failed",
                format!(
                    "{} of the file list requests to {} failed, for example: {err}{consequence}",
                    failed_requests[source],
                    source.describe()
                ),
            ),
        };
        findings.push(finding);
    }
    findings
}

/// Decides whether one locked version installs on the platform.
fn judge(check: &TargetCheck, platform: &Platform, name: &str, version: &Version, files: &[&String]) -> Option<Finding> {
    let target = &check.target.name;
    let (major, minor) = platform.python;
    let mut wheels = 0;
    let mut sdist = false;
    for file in files {
        match parse_file_name(file) {
            Some(Distribution::Wheel { name: wheel_name, version: wheel_version, python, abi, platform: tags })
                if wheel_name == name && &wheel_version == version =>
            {
                if platform.accepts(&python, &abi, &tags) {
                    return None;
                }
                wheels += 1;
            }
            Some(Distribution::Sdist { name: sdist_name, version: sdist_version }) if sdist_name == name && &sdist_version == version => {
                sdist = true;
            }
            _ => {}
        }
    }
    let where_ = check.sources.iter().map(Source::describe).collect::<Vec<_>>().join(", ");
    let finding = if sdist {
        Finding::warning(
            "not-installable",
            format!(
                "{name} {version} has no wheel for {} and Python {major}.{minor}, only an sdist, so it \
                 must build inside the {target} image",
                check.target.uv_platform
            ),
        )
    } else if wheels > 0 {
        Finding::error(
            "not-installable",
            format!(
                "none of the {wheels} wheels of {name} {version} fits {} and Python {major}.{minor}, and \
                 there is no sdist; pin a version that has one",
                check.target.uv_platform
            ),
        )
    } else {
        Finding::error(
            "not-installable",
            format!("{name} {version} has no file on {where_}; pin a version that exists there"),
        )
    };
    Some(finding.target(target))
}

type Listings = BTreeMap<Job, Result<Vec<String>, ListError>>;

/// Runs the jobs on a few threads. After a source's first connection failure, its remaining
/// jobs are recorded as [`ListError::Skipped`] without a request. Requests that other threads
/// already started still finish, so a dead source gets at most one request per thread.
fn fetch_all(jobs: &[Job]) -> Listings {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build();
    let queue = Mutex::new(jobs.iter());
    let down: Mutex<BTreeSet<&Source>> = Mutex::new(BTreeSet::new());
    let results = Mutex::new(Listings::new());
    let workers = MAX_PARALLEL_REQUESTS.min(jobs.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let Some(job) = queue.lock().unwrap().next() else { break };
                let result = if down.lock().unwrap().contains(&job.0) {
                    Err(ListError::Skipped)
                } else {
                    list_files(&job.0, &job.1, job.2.as_deref(), &agent)
                };
                if let Err(ListError::Unreachable(_)) = &result {
                    down.lock().unwrap().insert(&job.0);
                }
                results.lock().unwrap().insert(job.clone(), result);
            });
        }
    });
    results.into_inner().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(arch: &str, glibc: (u32, u32), python: (u32, u32)) -> Platform {
        Platform { arch: arch.into(), glibc: Some(glibc), python }
    }

    fn accepts(platform: &Platform, file_name: &str) -> bool {
        match parse_file_name(file_name).unwrap() {
            Distribution::Wheel { python, abi, platform: tags, .. } => platform.accepts(&python, &abi, &tags),
            Distribution::Sdist { .. } => false,
        }
    }

    #[test]
    fn wheel_tags_matched_per_target() {
        let amd64 = platform("x86_64", (2, 36), (3, 11));
        let arm64 = platform("aarch64", (2, 36), (3, 11));
        let cases = [
            ("six-1.16.0-py2.py3-none-any.whl", true, true),
            ("numpy-1.23.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", true, false),
            ("numpy-1.23.4-cp39-cp39-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", false, false),
            ("orjson-3.10.15-cp38-abi3-manylinux_2_28_aarch64.whl", false, true),
            ("torch-1.13.1+cu116-cp311-cp311-linux_x86_64.whl", true, false),
            ("pkg-1.0-cp311-cp311-manylinux_2_39_x86_64.whl", false, false),
            ("pkg-1.0-cp311-cp311-manylinux1_x86_64.whl", true, false),
            ("pkg-1.0-cp311-cp311-musllinux_1_1_x86_64.whl", false, false),
            ("pkg-1.0-cp311-cp311-win_amd64.whl", false, false),
            ("pkg-1.0-py312-none-any.whl", false, false),
        ];
        for (file_name, on_amd64, on_arm64) in cases {
            assert_eq!(accepts(&amd64, file_name), on_amd64, "{file_name} on amd64");
            assert_eq!(accepts(&arm64, file_name), on_arm64, "{file_name} on arm64");
        }
    }

    fn table_targets() -> Vec<Target> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        crate::targets::TargetTable::load(&manifest).unwrap().targets
    }

    /// A lockfile of `count` packages and a find-links folder with a pure wheel for each,
    /// except `missing`, which has none.
    fn lockfile_and_wheels(count: usize, missing: &str) -> (Lockfile, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for index in 0..count {
            text.push_str(&format!("pkg{index}==1.0\n    # via app\n"));
            std::fs::write(dir.path().join(format!("pkg{index}-1.0-py3-none-any.whl")), "").unwrap();
        }
        text.push_str(&format!("{missing}==1.0\n    # via app\n"));
        let lockfile = crate::requirements::lockfile::parse(&text, Path::new("lock.txt")).unwrap();
        (lockfile, dir)
    }

    /// An index that refuses connections: the loopback discard port, which these tests assume
    /// nothing listens on.
    const DEAD_INDEX: &str = "http://user:secret@127.0.0.1:9/simple";

    #[test]
    fn dead_index_marked_down_after_first_failure() {
        let jobs: Vec<Job> = (0..40).map(|index| (Source::Index(DEAD_INDEX.into()), format!("pkg{index}"), None)).collect();
        let listings = fetch_all(&jobs);
        let requested = listings.values().filter(|result| matches!(result, Err(ListError::Unreachable(_)))).count();
        let skipped = listings.values().filter(|result| matches!(result, Err(ListError::Skipped))).count();
        assert!((1..=MAX_PARALLEL_REQUESTS).contains(&requested), "{requested} requests went out");
        assert_eq!(requested + skipped, 40);
    }

    #[test]
    fn dead_index_skipped_with_one_warning() {
        let targets = table_targets();
        let (lockfile, wheels) = lockfile_and_wheels(30, "only-on-dead-index");
        let target_check = TargetCheck {
            target: &targets[0],
            file: "amd64.txt".into(),
            lockfile: &lockfile,
            python_version: "3.11".into(),
            sources: vec![Source::Index(DEAD_INDEX.into()), Source::FindLinksDir(wheels.path().to_path_buf())],
        };
        let started = std::time::Instant::now();
        let findings = check(&[target_check]).unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());

        assert_eq!(findings.len(), 1, "{findings:#?}");
        let warning = &findings[0];
        assert_eq!(warning.kind, "index-unreachable");
        assert_eq!(warning.severity, crate::report::Severity::Warning);
        assert!(warning.message.starts_with("http://***@127.0.0.1:9/simple could not be reached"), "{}", warning.message);
        assert!(!warning.message.contains("secret"), "{}", warning.message);
        assert!(warning.message.contains("1 locked version(s) with no fitting wheel elsewhere were not judged"), "{}", warning.message);
    }

    #[test]
    fn no_source_answering_is_external_error() {
        let targets = table_targets();
        let (lockfile, _wheels) = lockfile_and_wheels(3, "other");
        let target_check = TargetCheck {
            target: &targets[0],
            file: "amd64.txt".into(),
            lockfile: &lockfile,
            python_version: "3.11".into(),
            sources: vec![Source::Index(DEAD_INDEX.into())],
        };
        let err = check(&[target_check]).unwrap_err();
        assert_eq!(crate::exit::category_of(&err), crate::exit::Category::External);
        let message = err.to_string();
        assert!(message.contains("no index or find-links location responded"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }

    #[test]
    fn file_names_parsed() {
        let wheel = parse_file_name("Msgpack_Numpy-0.4.8-1-py2.py3-none-any.whl").unwrap();
        assert!(matches!(wheel, Distribution::Wheel { ref name, .. } if name == "msgpack-numpy"));
        let sdist = parse_file_name("python-magic-0.4.27.tar.gz").unwrap();
        assert_eq!(sdist, Distribution::Sdist { name: "python-magic".into(), version: Version::from_str("0.4.27").unwrap() });
        assert_eq!(parse_file_name("README.md"), None);
    }

    /// Serves every request on a loopback port with `body` as `content_type`, counting requests.
    fn serve(content_type: &'static str, body: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 0) && line != "\r\n" {
                    line.clear();
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        (format!("http://{address}/simple"), count)
    }

    #[test]
    fn simple_api_json_response_listed() {
        let body = r#"{"meta": {"api-version": "1.1"}, "name": "lib", "files": [{"filename": "lib-1.0-py3-none-any.whl", "url": "x", "hashes": {}}, {"filename": "lib-1.0.tar.gz", "url": "y", "hashes": {}}]}"#;
        let (index, requests) = serve("application/vnd.pypi.simple.v1+json", body);
        let agent = ureq::AgentBuilder::new().build();
        let files = list_files(&Source::Index(index), "Lib", Some("1.0"), &agent).unwrap();
        assert_eq!(files, ["lib-1.0-py3-none-any.whl", "lib-1.0.tar.gz"]);
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1, "only PyPI gets the JSON API request");
    }

    #[test]
    fn pypi_jobs_carry_the_version() {
        let version = Version::from_str("1.0").unwrap();
        let pypi = job(&Source::Index(format!("{PYPI_SIMPLE}/")), "six", &version);
        assert_eq!(pypi.2.as_deref(), Some("1.0"));
        let mirror = job(&Source::Index("http://127.0.0.1:1/simple".into()), "six", &version);
        assert_eq!(mirror.2, None);
        let release = r#"{"info": {}, "urls": [{"filename": "six-1.0-py2.py3-none-any.whl"}]}"#;
        assert_eq!(release_file_names(release).unwrap(), ["six-1.0-py2.py3-none-any.whl"]);
    }

    #[test]
    fn html_page_file_names() {
        let page = "<a href=\"../../packages/ab/six-1.16.0-py2.py3-none-any.whl#sha256=00\">six</a>\n<a href='torch-1.13.1%2Bcu116-cp39-cp39-linux_x86_64.whl'>t</a>";
        assert_eq!(html_file_names(page), ["six-1.16.0-py2.py3-none-any.whl", "torch-1.13.1+cu116-cp39-cp39-linux_x86_64.whl"]);
    }

    #[test]
    fn platform_from_target_table() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let table = crate::targets::TargetTable::load(&manifest).unwrap();
        let arm64 = Platform::for_target(&table.targets[1], "3.9");
        assert_eq!(arm64, platform("aarch64", (2, 36), (3, 9)));
    }
}
