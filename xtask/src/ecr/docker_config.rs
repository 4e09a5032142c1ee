//! The Docker client configuration folder (`DOCKER_CONFIG`) a login is stored in: the user's
//! own, or a temporary one that is removed when the login is dropped.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{Map, Value};
use tempfile::TempDir;

use crate::exit::{external, ResultExt};

/// Keys of `config.json` that store or route credentials. They are left out of a temporary
/// configuration so that the login lands in its `config.json` and nowhere else.
const CREDENTIAL_KEYS: &[&str] = &["auths", "credsStore", "credHelpers"];

/// Folders of the user's configuration linked into a temporary one: contexts carry the
/// current Docker context's endpoint, `cli-plugins` contains plugins such as buildx, and `buildx`
/// contains buildx's builder instances.
const LINKED_FOLDERS: &[&str] = &["contexts", "cli-plugins", "buildx"];

/// A Docker configuration folder.
#[derive(Debug)]
pub(crate) struct DockerConfig {
    pub path: PathBuf,
    /// Set for a temporary folder, which is deleted when this value is dropped.
    temporary: Option<TempDir>,
}

impl DockerConfig {
    /// Selects the user's configuration folder: `DOCKER_CONFIG`, else `~/.docker`.
    pub(crate) fn user() -> Result<DockerConfig> {
        Ok(DockerConfig { path: user_config_dir()?, temporary: None })
    }

    /// Creates a private temporary folder whose `config.json` copies the user's settings
    /// (such as `currentContext` and `proxies`) without their credentials.
    ///
    /// Its `auths` contains an empty entry for `host`. Docker treats a configuration without any
    /// credentials as unconfigured and then stores logins with a platform helper it finds on
    /// `PATH` (docker-credential-pass or -secretservice on Linux, as of Docker CLI 28), which
    /// would keep the password after this folder is gone.
    pub(crate) fn temporary(host: &str) -> Result<DockerConfig> {
        DockerConfig::temporary_from(&user_config_dir()?, host)
    }

    fn temporary_from(user_dir: &Path, host: &str) -> Result<DockerConfig> {
        let mut settings = match read_config(user_dir) {
            Ok(settings) => settings,
            Err(err) => {
                eprintln!("warning: {err:#}; the temporary Docker config starts empty");
                Map::new()
            }
        };
        for key in CREDENTIAL_KEYS {
            settings.remove(*key);
        }
        let mut auths = Map::new();
        auths.insert(host.to_string(), Value::Object(Map::new()));
        settings.insert("auths".to_string(), Value::Object(auths));

        let folder = tempfile::Builder::new()
            .prefix("xtask-docker-config-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .external_context("cannot create a temporary Docker config folder")?;
        let config_file = folder.path().join("config.json");
        let text = serde_json::to_string_pretty(&Value::Object(settings))?;
        std::fs::write(&config_file, text)
            .external_context(format!("cannot write {}", config_file.display()))?;
        for name in LINKED_FOLDERS {
            let source = user_dir.join(name);
            if source.is_dir() {
                std::os::unix::fs::symlink(&source, folder.path().join(name)).external_context(
                    format!("cannot link {} into the temporary Docker config", source.display()),
                )?;
            }
        }

        Ok(DockerConfig { path: folder.path().to_path_buf(), temporary: Some(folder) })
    }

    pub(crate) fn is_temporary(&self) -> bool {
        self.temporary.is_some()
    }

    /// Describes each `credsStore` or `credHelpers` entry of the user's configuration that
    /// would receive a login to `host` if it were stored there.
    pub(crate) fn credential_helpers_for(host: &str) -> Vec<String> {
        match user_config_dir() {
            Ok(user_dir) => credential_helpers_in(&user_dir, host),
            Err(_) => Vec::new(),
        }
    }

    /// Checks that `docker login` wrote the credentials for `host` into this folder's
    /// `config.json`, which is true unless a credential helper took them.
    pub(crate) fn verify_login_stored(&self, host: &str) -> Result<()> {
        let settings = read_config(&self.path)?;
        let entry = settings.get("auths").and_then(|auths| auths.get(host));
        let stored = entry.and_then(|entry| entry.get("auth")).and_then(Value::as_str);
        if stored.is_some_and(|auth| !auth.is_empty()) {
            return Ok(());
        }
        let helper = settings.get("credsStore").and_then(Value::as_str).unwrap_or("unknown");
        Err(external(format!(
            "docker login stored the credentials for {host} outside the temporary config {} \
             (credsStore: {helper}), so the password may remain in docker-credential-{helper}. \
             Remove that entry with `echo {host} | docker-credential-{helper} erase`",
            self.path.display()
        )))
    }
}

/// Returns the user's Docker configuration folder: `DOCKER_CONFIG`, else `$HOME/.docker`.
fn user_config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".docker")),
        None => Err(external("cannot find the Docker config folder: set HOME or DOCKER_CONFIG")),
    }
}

/// Describes the `credHelpers` entry for `host` and the `credsStore` in the configuration
/// folder `user_dir`.
fn credential_helpers_in(user_dir: &Path, host: &str) -> Vec<String> {
    let Ok(settings) = read_config(user_dir) else { return Vec::new() };
    let file = user_dir.join("config.json");
    let mut found = Vec::new();
    let helper = settings.get("credHelpers").and_then(|helpers| helpers.get(host));
    if let Some(Value::String(helper)) = helper {
        found.push(format!(
            "credHelpers in {} sends {host} to docker-credential-{helper}",
            file.display()
        ));
    }
    if let Some(Value::String(store)) = settings.get("credsStore") {
        if !store.is_empty() {
            found.push(format!(
                "credsStore in {} sends logins to docker-credential-{store}",
                file.display()
            ));
        }
    }
    found
}

/// Reads `config.json` in `dir` as a JSON object; a missing file is an empty object.
fn read_config(dir: &Path) -> Result<Map<String, Value>> {
    let file = dir.join("config.json");
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(err) => return Err(external(format!("cannot read {}: {err}", file.display()))),
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(settings)) => Ok(settings),
        Ok(_) => Err(external(format!("{} is not a JSON object", file.display()))),
        Err(err) => Err(external(format!("{} is not valid JSON: {err}", file.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_config_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_config(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn read_config_rejects_non_object() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "[]").unwrap();
        let text = read_config(dir.path()).unwrap_err().to_string();
        assert!(text.contains("is not a JSON object"), "{text}");
    }

    #[test]
    fn verify_login_stored_requires_auth() {
        let dir = tempfile::tempdir().unwrap();
        let config = DockerConfig { path: dir.path().to_path_buf(), temporary: None };
        let file = dir.path().join("config.json");

        std::fs::write(&file, r#"{"auths": {"reg.io": {"auth": "QVdTOng="}}}"#).unwrap();
        assert!(config.verify_login_stored("reg.io").is_ok());

        std::fs::write(&file, r#"{"auths": {"reg.io": {}}, "credsStore": "pass"}"#).unwrap();
        let text = config.verify_login_stored("reg.io").unwrap_err().to_string();
        assert!(text.contains("outside the temporary config"), "{text}");
        assert!(text.contains("credsStore: pass"), "{text}");
    }

    #[test]
    fn temporary_config_drops_credentials() {
        let user = tempfile::tempdir().unwrap();
        let settings = r#"{
            "auths": {"other.io": {"auth": "c2VjcmV0"}},
            "credsStore": "desktop",
            "credHelpers": {"reg.io": "ecr-login"},
            "currentContext": "remote",
            "proxies": {"default": {"httpProxy": "http://127.0.0.1:3128"}}
        }"#;
        std::fs::write(user.path().join("config.json"), settings).unwrap();
        std::fs::create_dir(user.path().join("contexts")).unwrap();

        let config = DockerConfig::temporary_from(user.path(), "reg.io").unwrap();
        let written = read_config(&config.path).unwrap();
        assert!(config.is_temporary());
        assert_eq!(written["currentContext"], "remote");
        assert_eq!(written["proxies"]["default"]["httpProxy"], "http://127.0.0.1:3128");
        assert_eq!(written["auths"], serde_json::json!({"reg.io": {}}));
        assert!(!written.contains_key("credsStore"));
        assert!(!written.contains_key("credHelpers"));
        let link = std::fs::read_link(config.path.join("contexts")).unwrap();
        assert_eq!(link, user.path().join("contexts"));
        assert!(!config.path.join("buildx").exists());

        let path = config.path.clone();
        drop(config);
        assert!(!path.exists(), "the temporary folder outlives its login");
    }

    #[test]
    fn temporary_config_is_private() {
        let user = tempfile::tempdir().unwrap();
        let config = DockerConfig::temporary_from(user.path(), "reg.io").unwrap();
        let mode = std::fs::metadata(&config.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }

    #[test]
    fn credential_helpers_are_described() {
        let user = tempfile::tempdir().unwrap();
        let settings = r#"{"credsStore": "desktop", "credHelpers": {"reg.io": "ecr-login"}}"#;
        std::fs::write(user.path().join("config.json"), settings).unwrap();
        let found = credential_helpers_in(user.path(), "reg.io");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("sends reg.io to docker-credential-ecr-login"), "{found:?}");
        assert!(found[1].contains("docker-credential-desktop"), "{found:?}");
        assert_eq!(credential_helpers_in(user.path(), "other.io").len(), 1);
    }
}
