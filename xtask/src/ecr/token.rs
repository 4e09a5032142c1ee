//! The ECR authorization token: fetched with `GetAuthorizationToken` through the AWS SDK and
//! decoded into a user and a password.
//!
//! The SDK takes credentials, region and endpoint from aws-config's standard chain
//! (environment, shared config and credentials files, SSO, web identity, container and
//! instance metadata), so `AWS_ENDPOINT_URL_ECR` or `AWS_ENDPOINT_URL` redirect it. The token
//! is fetched afresh on every call and never cached.

use std::time::Duration;

use anyhow::Result;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ecr::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_sdk_ecr::config::ProvideCredentials;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::get_authorization_token::GetAuthorizationTokenError;
use aws_types::service_config::ServiceConfigKey;
use base64::Engine;
use zeroize::Zeroizing;

use super::secret::Secret;
use super::EcrOptions;
use crate::exit::{external, ResultExt};

/// Attempts per request, the first included, for errors the SDK classifies as transient.
const MAX_ATTEMPTS: u32 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on the whole request, retries and backoff included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// Error codes with which AWS rejects the caller's credentials or permissions.
const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "MissingAuthenticationTokenException",
];

/// A decoded authorization token.
#[derive(Debug)]
pub(crate) struct Authorization {
    /// User name for `docker login`: `AWS` for Amazon ECR.
    pub user: String,
    pub password: Secret,
    /// Registry URL the token belongs to, such as
    /// `https://123456789012.dkr.ecr.us-east-1.amazonaws.com`.
    pub proxy_endpoint: Option<String>,
}

/// Fetches and decodes a fresh token on a current-thread tokio runtime of its own, so it must
/// not be called from inside another tokio runtime.
pub(crate) fn fetch(options: &EcrOptions) -> Result<Authorization> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .external_context("cannot start the tokio runtime for the AWS SDK")?;
    runtime.block_on(fetch_async(options))
}

async fn fetch_async(options: &EcrOptions) -> Result<Authorization> {
    let sdk_config = load_sdk_config(options).await;
    let Some(region) = sdk_config.region().cloned() else {
        return Err(external(
            "no AWS region is configured: pass --region, set AWS_REGION, or set `region` in \
             the AWS profile",
        ));
    };
    let endpoint = describe_endpoint(&sdk_config, &region).await;

    let credentials = resolve_credentials(&sdk_config, options.profile.as_deref()).await?;
    let ecr_config =
        aws_sdk_ecr::config::Builder::from(&sdk_config).credentials_provider(credentials).build();
    let client = aws_sdk_ecr::Client::from_conf(ecr_config);
    // ECR marks `registryIds` deprecated because the token grants the same access either
    // way, but the proxy endpoint it returns is still the one of the requested account.
    #[allow(deprecated)]
    let request = client
        .get_authorization_token()
        .set_registry_ids(options.registry_id.clone().map(|id| vec![id]));
    let output =
        request.send().await.map_err(|err| request_error(&err, &endpoint, region.as_ref()))?;

    let Some(data) = output.authorization_data().first() else {
        return Err(external(format!(
            "token decoding failed: GetAuthorizationToken at {endpoint} returned no \
             authorization data; check that the endpoint is Amazon ECR"
        )));
    };
    let Some(token) = data.authorization_token() else {
        return Err(external(format!(
            "token decoding failed: GetAuthorizationToken at {endpoint} returned no token; \
             check that the endpoint is Amazon ECR"
        )));
    };
    let (user, password) = decode_token(token)?;
    Ok(Authorization { user, password, proxy_endpoint: data.proxy_endpoint().map(str::to_string) })
}

/// Loads aws-config's standard settings, with the retry and timeout bounds of this module and
/// the region and profile given on the command line.
async fn load_sdk_config(options: &EcrOptions) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(4));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader.load().await
}

/// Names the endpoint the ECR client sends to, for error messages: the configured override,
/// else the endpoint the SDK's default resolver computes for the region.
async fn describe_endpoint(sdk_config: &SdkConfig, region: &Region) -> String {
    let key = ServiceConfigKey::builder()
        .service_id("ECR")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .expect("every field of the key is set");
    let service_override = sdk_config.service_config().and_then(|config| config.load_config(key));
    if let Some(url) = service_override.or_else(|| sdk_config.endpoint_url().map(str::to_string)) {
        return url;
    }

    let params = Params::builder()
        .region(region.as_ref())
        .use_fips(sdk_config.use_fips().unwrap_or(false))
        .use_dual_stack(sdk_config.use_dual_stack().unwrap_or(false))
        .build();
    let resolved = match params {
        Ok(params) => DefaultResolver::new().resolve_endpoint(&params).await.ok(),
        Err(_) => None,
    };
    resolved.map_or_else(
        || format!("the ECR endpoint of region {region}"),
        |endpoint| endpoint.url().to_string(),
    )
}

/// Runs the credential chain once, so that "no credentials" gets its own message.
async fn resolve_credentials(
    sdk_config: &SdkConfig,
    profile: Option<&str>,
) -> Result<aws_credential_types::Credentials> {
    let Some(provider) = sdk_config.credentials_provider() else {
        return Err(external("no AWS credentials provider is configured"));
    };
    let profile_hint = match profile {
        Some(profile) => format!("profile `{profile}`"),
        None => "the default profile".to_string(),
    };
    provider.provide_credentials().await.map_err(|err| match err {
        CredentialsError::CredentialsNotLoaded(_) => external(format!(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
             give {profile_hint} credentials in ~/.aws/credentials or ~/.aws/config (choose \
             the profile with --profile or AWS_PROFILE). The credential chain reported: {}",
            error_chain(&err)
        )),
        CredentialsError::ProviderTimedOut(_) => external(format!(
            "loading AWS credentials timed out: {}; check the network and {profile_hint}",
            error_chain(&err)
        )),
        _ => external(format!(
            "loading AWS credentials for {profile_hint} failed: {}; check ~/.aws/config and \
             ~/.aws/credentials",
            error_chain(&err)
        )),
    })
}

/// Converts a failed `GetAuthorizationToken` into an error that names the cause and the fix.
fn request_error(
    err: &SdkError<GetAuthorizationTokenError>,
    endpoint: &str,
    region: &str,
) -> anyhow::Error {
    let total = OPERATION_TIMEOUT.as_secs();
    match err {
        SdkError::ServiceError(service) => {
            let body = service.raw().body().bytes().map(String::from_utf8_lossy);
            let xml_error = body.as_deref().and_then(xml_error_fields);
            let code = service.err().code().or(xml_error.map(|(code, _)| code));
            let message = service.err().message().or(xml_error.map(|(_, message)| message));
            let message = message.unwrap_or("no message").trim_end_matches('.');
            let status = service.raw().status().as_u16();
            match code {
                Some(code) if ACCESS_DENIED_CODES.contains(&code) => external(format!(
                    "access denied: ECR at {endpoint} rejected GetAuthorizationToken with \
                     {code}: {message}; check that the AWS credentials are valid and allow \
                     ecr:GetAuthorizationToken in region {region}"
                )),
                Some(code) => external(format!(
                    "ECR at {endpoint} returned an error for GetAuthorizationToken: {code}: \
                     {message}"
                )),
                None => external(format!(
                    "ECR at {endpoint} returned HTTP {status} for GetAuthorizationToken with no \
                     error code; check that the endpoint is Amazon ECR"
                )),
            }
        }
        SdkError::TimeoutError(_) => external(format!(
            "endpoint unreachable: no response from {endpoint} within {total} s \
             (up to {MAX_ATTEMPTS} attempts); check the network, proxy settings and \
             AWS_ENDPOINT_URL_ECR or AWS_ENDPOINT_URL"
        )),
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            external(format!(
                "endpoint unreachable: cannot connect to {endpoint} (up to {MAX_ATTEMPTS} \
                 attempts): {}; check the network, proxy settings and AWS_ENDPOINT_URL_ECR or \
                 AWS_ENDPOINT_URL",
                error_chain(err)
            ))
        }
        SdkError::ResponseError(_) => external(format!(
            "unexpected response from {endpoint} to GetAuthorizationToken: {}; check that the \
             endpoint is Amazon ECR",
            error_chain(err)
        )),
        _ => external(format!("GetAuthorizationToken at {endpoint} failed: {}", error_chain(err))),
    }
}

/// Reads `<Code>` and `<Message>` from an XML error body. AWS query-protocol services send
/// errors in XML, and so does moto's access control even for JSON services such as ECR, which the
/// SDK's JSON error parser then reports without a code.
fn xml_error_fields(body: &str) -> Option<(&str, &str)> {
    let field = |name: &str| {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + body[start..].find(&format!("</{name}>"))?;
        Some(body[start..end].trim())
    };
    Some((field("Code")?, field("Message").unwrap_or("no message")))
}

/// Joins an error and its sources with `: `, skipping a source whose text repeats the last.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(err) = current {
        let text = err.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    parts.join(": ")
}

/// Decodes a token, base64 of `user:password`, and checks that both parts are present.
/// Messages never contain the token or any part of it.
pub(crate) fn decode_token(token: &str) -> Result<(String, Secret)> {
    let hint = "fetch a new token by running the command again, and check that the endpoint \
                is Amazon ECR";
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map(Zeroizing::new)
        .map_err(|_| external(format!("token decoding failed: the token is not base64; {hint}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        external(format!("token decoding failed: the decoded token is not UTF-8; {hint}"))
    })?;
    let Some((user, password)) = text.split_once(':') else {
        return Err(external(format!(
            "token decoding failed: the decoded token has no `:` between user and password; \
             {hint}"
        )));
    };
    if user.is_empty() {
        return Err(external(format!("token decoding failed: the user name is empty; {hint}")));
    }
    if password.is_empty() {
        return Err(external(format!("token decoding failed: the password is empty; {hint}")));
    }
    Ok((user.to_string(), Secret::new(password.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{category_of, Category};

    fn encode(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn token_decodes_user_and_password() {
        let (user, password) = decode_token(&encode("AWS:123456789012-auth-token")).unwrap();
        assert_eq!(user, "AWS");
        assert_eq!(password.expose(), "123456789012-auth-token");
    }

    #[test]
    fn token_password_may_contain_colons() {
        let (user, password) = decode_token(&encode("AWS:a:b")).unwrap();
        assert_eq!(user, "AWS");
        assert_eq!(password.expose(), "a:b");
    }

    #[test]
    fn token_errors_hide_the_token() {
        let cases = [
            ("not base64 s3cr3t!", "not base64"),
            (&encode("AWS-s3cr3t") as &str, "no `:`"),
            (&encode(":s3cr3t"), "user name is empty"),
            (&encode("AWS:"), "password is empty"),
        ];
        for (token, problem) in cases {
            let err = decode_token(token).unwrap_err();
            let text = format!("{err:#} {err:?}");
            assert_eq!(category_of(&err), Category::External);
            assert!(text.contains("token decoding failed"), "{text}");
            assert!(text.contains(problem), "{text}");
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(!text.contains(token), "{text}");
        }
        let invalid_utf8 = base64::engine::general_purpose::STANDARD.encode([0xff, b':', b'x']);
        let text = decode_token(&invalid_utf8).unwrap_err().to_string();
        assert!(text.contains("not UTF-8"), "{text}");
    }

    #[test]
    fn xml_error_fields_read_code_and_message() {
        let body = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code>\
                    <Message>The security token included in the request is invalid.</Message>\
                    </Error></Errors></ErrorResponse>";
        let (code, message) = xml_error_fields(body).unwrap();
        assert_eq!(code, "InvalidClientTokenId");
        assert_eq!(message, "The security token included in the request is invalid.");
        assert_eq!(xml_error_fields("{\"message\": \"x\"}"), None);
    }
}
