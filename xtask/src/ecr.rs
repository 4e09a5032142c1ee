//! Amazon ECR login through the AWS SDK into a temporary Docker configuration.
//!
//! The login takes a fresh token from `GetAuthorizationToken`, decodes it into user and
//! password, and runs `docker login --password-stdin` with the password written to docker's
//! stdin. The password never appears in argv, the echoed command line, logs or errors: it lives
//! in a [`secret::Secret`] that formats as `***`. Unless the caller keeps the login, it is
//! stored in a private temporary `DOCKER_CONFIG` folder that is deleted with the [`EcrLogin`],
//! so the 12-hour password never reaches the user's `~/.docker/config.json`.

pub(crate) mod docker_cli;
mod docker_config;
pub(crate) mod secret;
mod token;

use std::path::Path;

use anyhow::Result;

use self::docker_cli::{command_line, Docker};
use self::docker_config::DockerConfig;
use crate::dry_run::Step;
use crate::exit::{external, invalid};
use crate::reference::validate_registry_host;

/// Registry, region, profile and account of an ECR login.
#[derive(Debug, Clone, Default)]
pub struct EcrOptions {
    /// Registry host override; else the host of the token's proxy endpoint.
    pub registry: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub registry_id: Option<String>,
}

/// A completed `docker login`. Docker commands that need it run with `DOCKER_CONFIG` set to
/// [`EcrLogin::docker_config_dir`].
pub struct EcrLogin {
    /// Registry host without scheme, such as `123456789012.dkr.ecr.us-east-1.amazonaws.com`.
    pub host: String,
    /// The folder the login is stored in. A temporary one is deleted when this value drops.
    config: DockerConfig,
}

impl EcrLogin {
    /// Returns the Docker configuration folder that contains the login: a temporary one, or
    /// the user's own with `keep_login`. A temporary folder lives as long as this value.
    pub fn docker_config_dir(&self) -> &Path {
        &self.config.path
    }
}

/// Fetches a fresh token and runs `docker login` with the password on stdin.
///
/// Checks the options first, so invalid input fails with exit 2 before AWS is contacted.
/// With `keep_login` the login goes to the user's Docker configuration (and any credential
/// helper it names); otherwise to a temporary one. Must not be called from inside a tokio
/// runtime, because it runs the AWS SDK on a runtime of its own.
pub fn login(options: &EcrOptions, keep_login: bool, verbose: bool) -> Result<EcrLogin> {
    validate_options(options)?;
    let docker = Docker::find()?;

    eprintln!("fetching an ECR authorization token through the AWS SDK");
    let authorization = token::fetch(options)?;
    let host = match &options.registry {
        Some(registry) => registry.clone(),
        None => registry_host(authorization.proxy_endpoint.as_deref())?,
    };

    for helper in DockerConfig::credential_helpers_for(&host) {
        if keep_login {
            eprintln!("warning: {helper}, so that helper, not config.json, receives this login");
        } else if verbose {
            eprintln!("note: {helper}; this login uses a temporary Docker config instead");
        }
    }
    let config = if keep_login { DockerConfig::user()? } else { DockerConfig::temporary(&host)? };
    let place =
        if config.is_temporary() { "a temporary Docker config" } else { "your Docker config" };
    eprintln!("logging in to {host} as {} ({place})", authorization.user);
    docker.login(&config.path, &host, &authorization.user, &authorization.password, verbose)?;
    if config.is_temporary() {
        config.verify_login_stored(&host)?;
    }

    Ok(EcrLogin { host, config })
}

/// Fills in the region and registry ID from an ECR registry host
/// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`) where the options leave them out. A region or
/// registry ID that contradicts the host is invalid input (exit 2), because a token for another
/// region or account does not log in to that registry. Options with another registry host, or
/// none, are returned unchanged after [`validate_options`] checks them.
pub fn options_for_registry(options: EcrOptions) -> Result<EcrOptions> {
    validate_options(&options)?;

    let mut options = options;
    let parsed = options.registry.as_deref().and_then(parse_ecr_host);
    if let (Some(host), Some((account, region))) = (options.registry.as_deref(), parsed) {
        if let Some(given) = options.region.as_deref().filter(|given| *given != region) {
            return Err(invalid(format!(
                "--region {given} contradicts the ECR registry {host}, which is in region \
                 {region}; drop --region or pass --region {region}"
            )));
        }
        if let Some(given) = options.registry_id.as_deref().filter(|given| *given != account) {
            return Err(invalid(format!(
                "--registry-id {given} contradicts the ECR registry {host}, which belongs to \
                 account {account}; drop --registry-id or pass --registry-id {account}"
            )));
        }
        options.region = Some(region);
        options.registry_id = Some(account);
    }
    Ok(options)
}

/// Splits an ECR registry host, `ACCOUNT.dkr.ecr.REGION.amazonaws.com` (or
/// `.amazonaws.com.cn`), into account and region.
pub fn parse_ecr_host(host: &str) -> Option<(String, String)> {
    let (account, rest) = host.split_once(".dkr.ecr.")?;
    let region = rest.strip_suffix(".amazonaws.com").or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    let valid = !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) && !region.is_empty();
    valid.then(|| (account.to_string(), region.to_string()))
}

/// Checks the options that can be checked without contacting anything.
pub fn validate_options(options: &EcrOptions) -> Result<()> {
    if let Some(registry) = &options.registry {
        validate_registry_host(registry)?;
    }
    if let Some(region) = &options.region {
        let valid = !region.is_empty()
            && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(invalid(format!(
                "invalid region `{region}`: a region is lowercase letters, digits and `-`, such \
                 as us-east-1"
            )));
        }
    }
    if let Some(account) = &options.registry_id {
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(format!(
                "invalid registry ID `{account}`: an AWS account ID is 12 digits"
            )));
        }
    }
    if options.profile.as_deref() == Some("") {
        return Err(invalid("invalid profile: the profile name is empty"));
    }
    Ok(())
}

/// Describes the steps of a login without contacting anything.
pub fn describe_login(options: &EcrOptions, keep_login: bool) -> Vec<Step> {
    let region = options.region.as_deref().unwrap_or("from the AWS configuration");
    let profile = options.profile.as_deref().unwrap_or("default");
    let account = options.registry_id.as_deref().unwrap_or("the caller's account");
    let host = options.registry.as_deref().unwrap_or("HOST-OF-THE-TOKEN'S-PROXY-ENDPOINT");
    let config = if keep_login {
        "the user's Docker config (DOCKER_CONFIG or ~/.docker), which keeps the login"
    } else {
        "a temporary Docker config (DOCKER_CONFIG), deleted afterwards, with the current \
         Docker context carried over"
    };
    let docker = Docker { program: "docker".into() };
    let login = docker.login_command(Path::new(config_dir_placeholder(keep_login)), "AWS", host);
    vec![
        Step::new(format!(
            "fetch an ECR authorization token with GetAuthorizationToken through the AWS SDK \
             (region: {region}, profile: {profile}, registry: {account})"
        )),
        Step::run(format!("log in to {host} with the token in {config}"), command_line(&login))
            .with_stdin_secret("password"),
    ]
}

/// Returns the name a dry run shows for the Docker configuration folder of a login.
pub fn config_dir_placeholder(keep_login: bool) -> &'static str {
    if keep_login {
        "USER-DOCKER-CONFIG"
    } else {
        "TEMPORARY-DOCKER-CONFIG"
    }
}

/// Extracts the registry host from a token's proxy endpoint, such as
/// `https://123456789012.dkr.ecr.us-east-1.amazonaws.com`, by dropping scheme and path.
fn registry_host(proxy_endpoint: Option<&str>) -> Result<String> {
    let Some(endpoint) = proxy_endpoint else {
        return Err(external(
            "the ECR authorization token names no proxy endpoint; pass the registry host with \
             --registry",
        ));
    };
    let without_scheme = endpoint.split_once("://").map_or(endpoint, |(_, rest)| rest);
    let host = without_scheme.split('/').next().unwrap_or_default();
    validate_registry_host(host).map_err(|err| {
        external(format!(
            "the ECR proxy endpoint `{endpoint}` has no valid registry host ({err}); pass the \
             registry host with --registry"
        ))
    })?;
    Ok(host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{category_of, Category};

    #[test]
    fn registry_host_strips_scheme_and_path() {
        let cases = [
            (
                "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            ),
            (
                "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            ),
            ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
            ("127.0.0.1:5000", "127.0.0.1:5000"),
        ];
        for (endpoint, host) in cases {
            assert_eq!(registry_host(Some(endpoint)).unwrap(), host, "{endpoint}");
        }
    }

    #[test]
    fn registry_host_errors_are_external() {
        let err = registry_host(None).unwrap_err();
        assert_eq!(category_of(&err), Category::External);
        assert!(err.to_string().contains("--registry"), "{err}");
        let err = registry_host(Some("https://bad_host")).unwrap_err();
        assert_eq!(category_of(&err), Category::External);
        assert!(err.to_string().contains("`https://bad_host`"), "{err}");
    }

    #[test]
    fn options_are_validated() {
        let valid = EcrOptions {
            registry: Some("127.0.0.1:5000".into()),
            region: Some("us-east-1".into()),
            profile: Some("ci".into()),
            registry_id: Some("123456789012".into()),
        };
        assert!(validate_options(&valid).is_ok());

        let cases = [
            (EcrOptions { region: Some("US East".into()), ..valid.clone() }, "invalid region"),
            (EcrOptions { registry_id: Some("1234".into()), ..valid.clone() }, "12 digits"),
            (EcrOptions { registry: Some("https://x".into()), ..valid.clone() }, "scheme"),
            (EcrOptions { profile: Some(String::new()), ..valid.clone() }, "profile"),
        ];
        for (options, problem) in cases {
            let err = validate_options(&options).unwrap_err();
            assert_eq!(category_of(&err), Category::Invalid);
            assert!(err.to_string().contains(problem), "{err}");
        }
    }

    #[test]
    fn ecr_host_gives_account_and_region() {
        assert_eq!(
            parse_ecr_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(("123456789012".into(), "eu-west-1".into()))
        );
        assert_eq!(
            parse_ecr_host("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
            Some(("123456789012".into(), "cn-north-1".into()))
        );
        assert_eq!(parse_ecr_host("127.0.0.1:5000"), None);
        assert_eq!(parse_ecr_host("abc.dkr.ecr.us-east-1.amazonaws.com"), None);
    }

    fn ecr_registry() -> EcrOptions {
        EcrOptions {
            registry: Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com".into()),
            ..Default::default()
        }
    }

    #[test]
    fn ecr_registry_fills_region_and_account() {
        let options = options_for_registry(ecr_registry()).unwrap();
        assert_eq!(options.region.as_deref(), Some("eu-west-1"));
        assert_eq!(options.registry_id.as_deref(), Some("123456789012"));

        let matching = EcrOptions {
            region: Some("eu-west-1".into()),
            registry_id: Some("123456789012".into()),
            ..ecr_registry()
        };
        let options = options_for_registry(matching).unwrap();
        assert_eq!(options.region.as_deref(), Some("eu-west-1"));
        assert_eq!(options.registry_id.as_deref(), Some("123456789012"));
    }

    #[test]
    fn ecr_registry_rejects_contradictions() {
        let err = options_for_registry(EcrOptions { region: Some("us-east-1".into()), ..ecr_registry() })
            .unwrap_err();
        assert_eq!(category_of(&err), Category::Invalid);
        assert!(err.to_string().contains("--region us-east-1"), "{err}");
        assert!(err.to_string().contains("region eu-west-1"), "{err}");

        let other_account = EcrOptions { registry_id: Some("210987654321".into()), ..ecr_registry() };
        let err = options_for_registry(other_account).unwrap_err();
        assert_eq!(category_of(&err), Category::Invalid);
        assert!(err.to_string().contains("--registry-id 210987654321"), "{err}");
        assert!(err.to_string().contains("account 123456789012"), "{err}");
    }

    #[test]
    fn other_registry_keeps_options() {
        let options = EcrOptions {
            registry: Some("127.0.0.1:5000".into()),
            region: Some("us-east-1".into()),
            registry_id: Some("210987654321".into()),
            ..Default::default()
        };
        let resolved = options_for_registry(options.clone()).unwrap();
        assert_eq!(resolved.region, options.region);
        assert_eq!(resolved.registry_id, options.registry_id);
        assert!(options_for_registry(EcrOptions::default()).unwrap().region.is_none());
    }

    #[test]
    fn describe_login_names_the_host() {
        let options = EcrOptions { registry: Some("127.0.0.1:5000".into()), ..Default::default() };
        let steps = describe_login(&options, false);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert!(steps[0].description.contains("GetAuthorizationToken"), "{steps:?}");
        assert!(steps[0].command.is_none(), "{steps:?}");
        assert!(steps[1].description.contains("temporary"), "{steps:?}");
        assert_eq!(
            steps[1].command.as_deref(),
            Some(
                "DOCKER_CONFIG=TEMPORARY-DOCKER-CONFIG docker login --username AWS \
                 --password-stdin 127.0.0.1:5000"
            )
        );
        assert_eq!(steps[1].stdin_secret, Some("password"));
    }
}
