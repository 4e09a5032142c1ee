//! The target table: `[workspace.metadata.xtask]` in the workspace `Cargo.toml`.
//!
//! Each target is one image variant with its own lockfile, Docker platform, Python version and
//! PEP 508 marker environment. The table is read with toml_edit so that an invalid entry is
//! reported with its line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Result;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};
use toml_edit::{Document, Item, Table as TomlTable};

use crate::exit::invalid;

/// The marker variables every target must set, beyond the Python version, which the table
/// gives separately.
const REQUIRED_MARKERS: &[&str] =
    &["platform_machine", "sys_platform", "platform_system", "os_name", "implementation_name"];

/// The parsed `[workspace.metadata.xtask]` table.
#[derive(Debug, Clone)]
pub struct TargetTable {
    /// Default image name for `build` and the default ECR repository for `pull-ecr`.
    pub image: String,
    /// File name of the requirements input inside the requirements folder.
    pub requirements_in: String,
    /// Build constraints (`setuptools<70`) for every resolution.
    pub build_constraints: Vec<String>,
    /// Whether lockfiles carry `--hash` lines.
    pub generate_hashes: bool,
    /// Versions of the resolvers to provision when they are missing.
    pub tools: ToolVersions,
    pub targets: Vec<Target>,
}

/// Versions of pip, pip-tools and uv: pinned, because their output changes between releases.
#[derive(Debug, Clone)]
pub struct ToolVersions {
    pub pip: String,
    pub pip_tools: String,
    pub uv: String,
}

/// One image variant.
#[derive(Debug, Clone)]
pub struct Target {
    /// Name used by `--arch` and as the lockfile prefix: `amd64-gpu`, `arm64`.
    pub name: String,
    /// Docker platform: `linux/amd64`.
    pub platform: String,
    /// Lockfile name inside the requirements folder.
    pub lockfile: String,
    /// The image's Python version as `X.Y`.
    pub python_version: String,
    /// uv's `--python-platform` value for cross-resolution.
    pub uv_platform: String,
    /// Extra index URLs for this target only, in addition to those in requirements.in.
    pub extra_index_urls: Vec<String>,
    /// Build constraints for this target in addition to the table-wide ones.
    pub build_constraints: Vec<String>,
    /// PEP 508 marker variables as pip reports them inside the image.
    pub markers: BTreeMap<String, String>,
}

impl Target {
    /// Returns the Docker architecture (`amd64`), which is the value of `TARGETARCH` in a Dockerfile.
    pub fn docker_arch(&self) -> &str {
        self.platform.split('/').nth(1).unwrap_or(&self.platform)
    }

    /// The Python version to resolve for: the override when given, else the table's.
    pub fn python_version<'a>(&'a self, override_version: Option<&'a str>) -> &'a str {
        override_version.unwrap_or(&self.python_version)
    }

    /// Builds the marker environment that pip on this target reports, for the given Python
    /// version (`X.Y`). `python_full_version` is the table's when it belongs to that
    /// version, else `X.Y.0`.
    pub fn marker_environment(&self, python_version: &str) -> Result<MarkerEnvironment> {
        let full_version = self.python_full_version(python_version);
        let get = |key: &str| self.markers.get(key).map(String::as_str).unwrap_or("");
        let builder = MarkerEnvironmentBuilder {
            implementation_name: get("implementation_name"),
            implementation_version: &full_version,
            os_name: get("os_name"),
            platform_machine: get("platform_machine"),
            platform_python_implementation: self
                .markers
                .get("platform_python_implementation")
                .map_or("CPython", String::as_str),
            platform_release: get("platform_release"),
            platform_system: get("platform_system"),
            platform_version: get("platform_version"),
            python_full_version: &full_version,
            python_version,
            sys_platform: get("sys_platform"),
        };
        MarkerEnvironment::try_from(builder).map_err(|err| {
            invalid(format!(
                "target `{}`: invalid marker environment for Python {python_version}: {err}",
                self.name
            ))
        })
    }

    /// The full Python version (`X.Y.Z`) for `X.Y`: the table's `python_full_version` marker
    /// when it belongs to that version, else `X.Y.0`.
    pub fn python_full_version(&self, python_version: &str) -> String {
        let table_full = self.markers.get("python_full_version").map(String::as_str);
        match table_full {
            Some(full) if full.starts_with(&format!("{python_version}.")) => full.to_string(),
            _ => format!("{python_version}.0"),
        }
    }

    /// Returns this target's build constraints: the table-wide ones, then its own.
    pub fn all_build_constraints<'a>(&'a self, table: &'a TargetTable) -> Vec<&'a str> {
        table.build_constraints.iter().chain(&self.build_constraints).map(String::as_str).collect()
    }
}

impl TargetTable {
    /// Reads the table from a workspace `Cargo.toml`.
    pub fn load(manifest: &Path) -> Result<TargetTable> {
        let text = std::fs::read_to_string(manifest).map_err(|err| {
            invalid(format!("cannot read the target table in {}: {err}", manifest.display()))
        })?;
        TargetTable::parse(&text, manifest)
    }

    /// Parses the table from the text of `manifest`; errors name the file and line.
    pub fn parse(text: &str, manifest: &Path) -> Result<TargetTable> {
        let doc = Document::parse(text.to_string()).map_err(|err| {
            invalid(format!("{}: invalid TOML: {err}", manifest.display()))
        })?;
        let reader = Reader { text, manifest: manifest.to_path_buf() };

        let Some(root) = doc
            .get("workspace")
            .and_then(|item| item.get("metadata"))
            .and_then(|item| item.get("xtask"))
            .and_then(Item::as_table)
        else {
            return Err(invalid(format!(
                "{}: no [workspace.metadata.xtask] table; add one with at least one \
                 [[workspace.metadata.xtask.targets]] entry",
                manifest.display()
            )));
        };

        let tools_item = root.get("tools").and_then(Item::as_table);
        let tools = match tools_item {
            Some(tools) => ToolVersions {
                pip: reader.string(tools, "pip", "tools")?,
                pip_tools: reader.string(tools, "pip-tools", "tools")?,
                uv: reader.string(tools, "uv", "tools")?,
            },
            None => return Err(reader.error(root.span(), "missing [workspace.metadata.xtask.tools] with pip, pip-tools and uv versions")),
        };

        let targets_item = root.get("targets").and_then(Item::as_array_of_tables);
        let Some(target_tables) = targets_item else {
            return Err(reader.error(
                root.span(),
                "missing [[workspace.metadata.xtask.targets]] entries",
            ));
        };
        let mut targets: Vec<Target> = Vec::new();
        for entry in target_tables.iter() {
            let target = reader.target(entry)?;
            if targets.iter().any(|seen| seen.name == target.name) {
                return Err(reader.error(
                    entry.span(),
                    &format!("target `{}` is defined twice; target names must be unique", target.name),
                ));
            }
            if targets.iter().any(|seen| seen.lockfile == target.lockfile) {
                return Err(reader.error(
                    entry.span(),
                    &format!(
                        "lockfile `{}` is used by two targets; each target needs its own lockfile",
                        target.lockfile
                    ),
                ));
            }
            targets.push(target);
        }
        if targets.is_empty() {
            return Err(reader.error(root.span(), "the target table has no targets"));
        }

        Ok(TargetTable {
            image: reader.string_or(root, "image", "workspace.metadata.xtask", "marqo-base")?,
            requirements_in: reader.string_or(
                root,
                "requirements-in",
                "workspace.metadata.xtask",
                "requirements.in",
            )?,
            build_constraints: reader.strings(root, "build-constraints")?,
            generate_hashes: reader.bool_or(root, "generate-hashes", false)?,
            tools,
            targets,
        })
    }

    /// Resolves an `--arch` value: a target name or `all`.
    pub fn select(&self, arch: &str) -> Result<Vec<&Target>> {
        if arch == "all" {
            return Ok(self.targets.iter().collect());
        }
        match self.targets.iter().find(|target| target.name == arch) {
            Some(target) => Ok(vec![target]),
            None => Err(invalid(format!(
                "unknown target `{arch}` for --arch; expected one of: {}, all",
                self.names().join(", ")
            ))),
        }
    }

    /// Resolves several `--arch` values, keeping table order and dropping repeats.
    pub fn select_many(&self, arches: &[String]) -> Result<Vec<&Target>> {
        if arches.is_empty() {
            return Ok(self.targets.iter().collect());
        }
        let mut wanted = Vec::new();
        for arch in arches {
            for target in self.select(arch)? {
                if !wanted.iter().any(|seen: &&Target| seen.name == target.name) {
                    wanted.push(target);
                }
            }
        }
        wanted.sort_by_key(|target| self.targets.iter().position(|t| t.name == target.name));
        Ok(wanted)
    }

    pub fn names(&self) -> Vec<&str> {
        self.targets.iter().map(|target| target.name.as_str()).collect()
    }
}

/// Parses `X.Y` Python versions given on the command line.
pub fn parse_python_version(value: &str) -> std::result::Result<String, String> {
    let mut parts = value.split('.');
    let valid = matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(major), Some(minor), None)
            if u8::from_str(major).is_ok() && u8::from_str(minor).is_ok()
    );
    if valid {
        Ok(value.to_string())
    } else {
        Err(format!("`{value}` is not a Python version of the form X.Y, such as 3.11"))
    }
}

/// Field access with errors that point at a line of the manifest.
struct Reader<'a> {
    text: &'a str,
    manifest: PathBuf,
}

impl Reader<'_> {
    fn error(&self, span: Option<Range<usize>>, message: &str) -> anyhow::Error {
        let line = span.map_or(1, |span| line_of(self.text, span.start));
        invalid(format!("{}:{line}: invalid target table: {message}", self.manifest.display()))
    }

    fn target(&self, entry: &TomlTable) -> Result<Target> {
        let section = "[[workspace.metadata.xtask.targets]]";
        let name = self.string(entry, "name", section)?;
        let valid_name = !name.is_empty()
            && name != "all"
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_name {
            return Err(self.error(
                entry.get("name").and_then(Item::span),
                &format!("target name `{name}` must be letters, digits, `-` or `_`, and not `all`"),
            ));
        }
        let platform = self.string(entry, "platform", section)?;
        if platform.split('/').count() < 2 {
            return Err(self.error(
                entry.get("platform").and_then(Item::span),
                &format!("target `{name}`: platform `{platform}` must look like linux/amd64"),
            ));
        }
        let python_version = self.string(entry, "python-version", section)?;
        parse_python_version(&python_version).map_err(|message| {
            self.error(entry.get("python-version").and_then(Item::span), &message)
        })?;

        let markers_table = entry.get("markers").and_then(Item::as_table);
        let Some(markers_table) = markers_table else {
            return Err(self.error(
                entry.span(),
                &format!("target `{name}` has no [workspace.metadata.xtask.targets.markers] table"),
            ));
        };
        let mut markers = BTreeMap::new();
        for (key, value) in markers_table.iter() {
            let Some(value) = value.as_str() else {
                return Err(self.error(value.span(), &format!("marker `{key}` must be a string")));
            };
            markers.insert(key.to_string(), value.to_string());
        }
        for required in REQUIRED_MARKERS {
            if !markers.contains_key(*required) {
                return Err(self.error(
                    markers_table.span(),
                    &format!("target `{name}` does not set the marker `{required}`"),
                ));
            }
        }

        let target = Target {
            platform,
            lockfile: self.string(entry, "lockfile", section)?,
            python_version,
            uv_platform: self.string(entry, "uv-platform", section)?,
            extra_index_urls: self.strings(entry, "extra-index-urls")?,
            build_constraints: self.strings(entry, "build-constraints")?,
            markers,
            name,
        };
        target.marker_environment(&target.python_version).map_err(|err| {
            self.error(markers_table.span(), &err.to_string())
        })?;
        Ok(target)
    }

    fn string(&self, table: &TomlTable, key: &str, section: &str) -> Result<String> {
        match table.get(key) {
            Some(item) => item.as_str().map(str::to_string).ok_or_else(|| {
                self.error(item.span(), &format!("`{key}` in {section} must be a string"))
            }),
            None => Err(self.error(table.span(), &format!("missing `{key}` in {section}"))),
        }
    }

    fn string_or(&self, table: &TomlTable, key: &str, section: &str, default: &str) -> Result<String> {
        if table.contains_key(key) {
            self.string(table, key, section)
        } else {
            Ok(default.to_string())
        }
    }

    fn bool_or(&self, table: &TomlTable, key: &str, default: bool) -> Result<bool> {
        match table.get(key) {
            Some(item) => item
                .as_bool()
                .ok_or_else(|| self.error(item.span(), &format!("`{key}` must be true or false"))),
            None => Ok(default),
        }
    }

    fn strings(&self, table: &TomlTable, key: &str) -> Result<Vec<String>> {
        let Some(item) = table.get(key) else { return Ok(Vec::new()) };
        let Some(array) = item.as_array() else {
            return Err(self.error(item.span(), &format!("`{key}` must be an array of strings")));
        };
        array
            .iter()
            .map(|value| {
                value.as_str().map(str::to_string).ok_or_else(|| {
                    self.error(value.span(), &format!("`{key}` must hold only strings"))
                })
            })
            .collect()
    }
}

/// Converts a byte offset into a 1-based line number.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&byte| byte == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository_table() -> TargetTable {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        TargetTable::load(&manifest).unwrap()
    }

    #[test]
    fn repository_table_has_both_targets() {
        let table = repository_table();
        assert_eq!(table.names(), ["amd64-gpu", "arm64"]);
        assert_eq!(table.targets[1].docker_arch(), "arm64");
        assert_eq!(table.targets[1].markers["platform_machine"], "aarch64");
    }

    #[test]
    fn marker_environment_follows_python_override() {
        let table = repository_table();
        let env = table.targets[0].marker_environment("3.9").unwrap();
        assert_eq!(env.python_full_version().to_string(), "3.9.0");
        assert_eq!(env.python_version().to_string(), "3.9");
        assert_eq!(env.platform_machine(), "x86_64");
    }

    #[test]
    fn unknown_arch_lists_names() {
        let err = repository_table().select("amd64").unwrap_err();
        assert!(err.to_string().contains("expected one of: amd64-gpu, arm64, all"), "{err}");
    }

    #[test]
    fn missing_marker_names_line() {
        let text = r#"
[workspace.metadata.xtask.tools]
pip = "25.3"
pip-tools = "7.7.0"
uv = "0.13.9"

[[workspace.metadata.xtask.targets]]
name = "cpu"
platform = "linux/amd64"
lockfile = "cpu.txt"
python-version = "3.11"
uv-platform = "x86_64-manylinux_2_36"

[workspace.metadata.xtask.targets.markers]
platform_machine = "x86_64"
"#;
        let err = TargetTable::parse(text, Path::new("Cargo.toml")).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("Cargo.toml:14: "), "{message}");
        assert!(message.contains("does not set the marker `sys_platform`"), "{message}");
    }

    #[test]
    fn python_version_shape_checked() {
        assert!(parse_python_version("3.11").is_ok());
        assert!(parse_python_version("3").is_err());
        assert!(parse_python_version("3.11.2").is_err());
        assert!(parse_python_version("three.x").is_err());
    }
}
