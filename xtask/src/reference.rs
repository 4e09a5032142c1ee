//! Docker image references: names, tags and registry hosts, checked against Docker's grammar
//! before anything runs.
//!
//! The grammar is the one of Docker's reference parser (the `distribution/reference` Go
//! package):
//!
//! ```text
//! name            := [registry "/"] repository         at most 255 characters in all
//! registry        := host [":" port]
//! host            := domain-component ("." domain-component)* | "[" IPv6 address "]"
//! domain-component:= [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! repository      := path-component ("/" path-component)*
//! path-component  := [a-z0-9]+ (separator [a-z0-9]+)*
//! separator       := "." | "_" | "__" | "-"+
//! tag             := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! ```
//!
//! The first `/`-separated part of a name is the registry when it contains `.` or `:`, is
//! `localhost`, or contains an uppercase letter. Otherwise the whole name is the repository.

use anyhow::Result;

use crate::exit::invalid;

/// Maximum length of a whole image name, registry included.
const NAME_MAX_LEN: usize = 255;
/// Maximum length of a tag.
const TAG_MAX_LEN: usize = 128;

/// An image name split into its optional registry and its repository path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// Registry as `host[:port]`, such as `127.0.0.1:5000`, when the name has one.
    pub registry: Option<String>,
    /// Repository path, such as `team/marqo-base`.
    pub repository: String,
}

impl ImageName {
    /// Parses an image name without tag or digest, with the same errors as
    /// [`validate_image_name`].
    pub fn parse(name: &str) -> Result<ImageName> {
        if name.is_empty() {
            return Err(invalid("invalid image name: the name is empty"));
        }
        if let Some(at) = name.find('@') {
            return Err(invalid(format!(
                "invalid image name `{name}`: it contains the digest `{}`; give the name \
                 without a digest",
                &name[at + 1..]
            )));
        }
        if name.len() > NAME_MAX_LEN {
            return Err(invalid(format!(
                "invalid image name `{name}`: it is {} characters long, and Docker allows at \
                 most {NAME_MAX_LEN}",
                name.len()
            )));
        }

        let (registry, repository) = split_registry(name);
        if let Some(registry) = registry {
            check_registry_host(registry)
                .map_err(|rule| invalid(format!("invalid image name `{name}`: {rule}")))?;
        }
        if let Some((path, tag)) = repository.rsplit_once(':') {
            let hint = if registry.is_none() && !path.contains('/') {
                "; a registry host needs a repository after it, as in HOST:PORT/NAME"
            } else {
                ""
            };
            return Err(invalid(format!(
                "invalid image name `{name}`: it contains the tag `{tag}`; pass the tag \
                 separately{hint}"
            )));
        }
        check_repository(repository)
            .map_err(|rule| invalid(format!("invalid image name `{name}`: {rule}")))?;

        Ok(ImageName { registry: registry.map(str::to_string), repository: repository.to_string() })
    }
}

/// Checks an image name such as `marqo-base`, `127.0.0.1:5000/team/marqo-base` or
/// `123456789012.dkr.ecr.us-east-1.amazonaws.com/marqo-base` (no tag, no digest).
pub fn validate_image_name(name: &str) -> Result<()> {
    ImageName::parse(name).map(drop)
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    let rule = "a tag is 1 to 128 letters, digits, `_`, `.` and `-`, and does not start with \
                `.` or `-`";
    if tag.is_empty() {
        return Err(invalid(format!("invalid tag: the tag is empty; {rule}")));
    }
    if tag.len() > TAG_MAX_LEN {
        return Err(invalid(format!(
            "invalid tag `{tag}`: it is {} characters long; {rule}",
            tag.len()
        )));
    }
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if let Some(bad) = tag.chars().find(|&c| !(is_word(c) || c == '.' || c == '-')) {
        return Err(invalid(format!("invalid tag `{tag}`: it contains `{bad}`; {rule}")));
    }
    if tag.starts_with(['.', '-']) {
        return Err(invalid(format!(
            "invalid tag `{tag}`: it starts with `{}`; {rule}",
            &tag[..1]
        )));
    }
    Ok(())
}

/// Checks a repository path without registry, such as `marqo-base` or `team/marqo-base`.
pub fn validate_repository(repository: &str) -> Result<()> {
    if repository.is_empty() {
        return Err(invalid("invalid repository: the repository name is empty"));
    }
    let (registry, _) = split_registry(repository);
    if let Some(registry) = registry {
        let uppercase = registry.chars().any(|c| c.is_ascii_uppercase());
        let message = if uppercase {
            format!("invalid repository `{repository}`: repository names must be lowercase")
        } else {
            format!(
                "invalid repository `{repository}`: it starts with the registry host \
                 `{registry}`; pass the host with --registry and the path alone as the repository"
            )
        };
        return Err(invalid(message));
    }
    if let Some((_, tag)) = repository.rsplit_once(':') {
        return Err(invalid(format!(
            "invalid repository `{repository}`: it contains the tag `{tag}`; pass the tag with \
             --tag"
        )));
    }
    if repository.len() > NAME_MAX_LEN {
        return Err(invalid(format!(
            "invalid repository `{repository}`: it is {} characters long, and Docker allows at \
             most {NAME_MAX_LEN}",
            repository.len()
        )));
    }
    check_repository(repository)
        .map_err(|rule| invalid(format!("invalid repository `{repository}`: {rule}")))
}

/// Checks a registry host as `host[:port]`, such as `127.0.0.1:5000` or
/// `123456789012.dkr.ecr.us-east-1.amazonaws.com`.
pub fn validate_registry_host(host: &str) -> Result<()> {
    if host.contains("://") {
        return Err(invalid(format!(
            "invalid registry host `{host}`: give the host without a scheme, as in \
             123456789012.dkr.ecr.us-east-1.amazonaws.com or 127.0.0.1:5000"
        )));
    }
    if host.contains('/') {
        return Err(invalid(format!(
            "invalid registry host `{host}`: it contains `/`; give only host[:port]"
        )));
    }
    check_registry_host(host)
        .map_err(|rule| invalid(format!("invalid registry host `{host}`: {rule}")))
}

/// Splits a name into registry and repository by Docker's rule: the first part is a registry
/// when it contains `.` or `:`, is `localhost`, or has an uppercase letter.
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// Returns the violated rule when `registry` is not `host[:port]`.
fn check_registry_host(registry: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return Err(format!("the IPv6 address in `{registry}` has no closing `]`"));
        };
        if address.is_empty() || !address.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(format!("`[{address}]` is not an IPv6 address of hex digits and `:`"));
        }
        match after {
            "" => (None, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(format!("`{after}` after `]` must be `:PORT`")),
            },
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(registry), None),
        }
    };

    if let Some(host) = host {
        if host.is_empty() {
            return Err("the registry host is empty".to_string());
        }
        for component in host.split('.') {
            let valid = !component.is_empty()
                && component.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !component.starts_with('-')
                && !component.ends_with('-');
            if !valid {
                return Err(format!(
                    "registry host component `{component}` is invalid; each `.`-separated part \
                     of a host is letters, digits and `-`, and does not start or end with `-`"
                ));
            }
        }
    }
    if let Some(port) = port {
        let number = port.parse::<u16>().ok().filter(|&number| number > 0);
        if number.is_none() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("port `{port}` is not a number from 1 to 65535"));
        }
    }
    Ok(())
}

/// Returns the violated rule when `repository` is not a valid repository path.
fn check_repository(repository: &str) -> std::result::Result<(), String> {
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository names must be lowercase".to_string());
    }
    for component in repository.split('/') {
        check_path_component(component).map_err(|problem| {
            format!(
                "path component `{component}` {problem}; a path component is lowercase letters \
                 and digits, separated by one `.`, one or two `_`, or any number of `-`"
            )
        })?;
    }
    Ok(())
}

/// Returns what is wrong with one `/`-separated part of a repository path.
fn check_path_component(component: &str) -> std::result::Result<(), String> {
    if component.is_empty() {
        return Err("is empty".to_string());
    }
    if let Some(bad) = component
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)))
    {
        return Err(format!("contains `{bad}`"));
    }

    let bytes = component.as_bytes();
    let is_alphanumeric = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    if !is_alphanumeric(bytes[0]) {
        return Err(format!("starts with `{}`", bytes[0] as char));
    }
    if !is_alphanumeric(bytes[bytes.len() - 1]) {
        return Err(format!("ends with `{}`", bytes[bytes.len() - 1] as char));
    }
    let mut start = 0;
    while start < bytes.len() {
        if is_alphanumeric(bytes[start]) {
            start += 1;
            continue;
        }
        let end = bytes[start..]
            .iter()
            .position(|&b| is_alphanumeric(b))
            .map_or(bytes.len(), |n| start + n);
        let separator = &component[start..end];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return Err(format!("contains the separator `{separator}`"));
        }
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{category_of, Category};

    fn message(result: Result<()>) -> String {
        let err = result.unwrap_err();
        assert_eq!(category_of(&err), Category::Invalid, "{err}");
        err.to_string()
    }

    #[test]
    fn tag_accepts_docker_grammar() {
        for tag in ["latest", "v1.2.3", "_private", "2024-01-01", "A_b.C-d", &"x".repeat(128)] {
            assert!(validate_tag(tag).is_ok(), "{tag}");
        }
    }

    #[test]
    fn tag_rejections_name_value_and_rule() {
        let cases = [
            ("", "the tag is empty"),
            (".hidden", "starts with `.`"),
            ("-x", "starts with `-`"),
            ("v1/amd64", "contains `/`"),
            ("v1:2", "contains `:`"),
            ("tag with space", "contains ` `"),
            ("ünicode", "contains `ü`"),
        ];
        for (tag, problem) in cases {
            let text = message(validate_tag(tag));
            assert!(text.contains(problem), "{tag}: {text}");
            assert!(text.contains("1 to 128"), "{tag}: {text}");
        }
        let long = "x".repeat(129);
        assert!(message(validate_tag(&long)).contains("129 characters"));
    }

    #[test]
    fn image_name_splits_registry() {
        let cases = [
            ("marqo-base", None, "marqo-base"),
            ("team/marqo-base", None, "team/marqo-base"),
            ("localhost/marqo-base", Some("localhost"), "marqo-base"),
            ("127.0.0.1:5000/team/marqo-base", Some("127.0.0.1:5000"), "team/marqo-base"),
            ("[::1]:5000/marqo-base", Some("[::1]:5000"), "marqo-base"),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/marqo-base",
                Some("123456789012.dkr.ecr.us-east-1.amazonaws.com"),
                "marqo-base",
            ),
            ("Registry/marqo", Some("Registry"), "marqo"),
        ];
        for (name, registry, repository) in cases {
            let parsed = ImageName::parse(name).unwrap();
            assert_eq!(parsed.registry.as_deref(), registry, "{name}");
            assert_eq!(parsed.repository, repository, "{name}");
        }
    }

    #[test]
    fn image_name_rejections() {
        let cases = [
            ("", "the name is empty"),
            ("Marqo-Base", "must be lowercase"),
            ("marqo-base:latest", "contains the tag `latest`"),
            ("127.0.0.1:5000", "HOST:PORT/NAME"),
            ("marqo@sha256:abcd", "contains the digest"),
            ("reg.io:99999/marqo", "port `99999`"),
            ("reg.io:/marqo", "port ``"),
            ("-reg.io/marqo", "component `-reg`"),
            ("reg_host.io/marqo", "component `reg_host`"),
            ("reg.io/team//marqo", "path component `` is empty"),
            ("reg.io/marqo/", "path component `` is empty"),
            ("a..b", "separator `..`"),
            ("a___b", "separator `___`"),
            ("a_-b", "separator `_-`"),
            ("_a", "starts with `_`"),
            ("a-", "ends with `-`"),
            ("[::1/marqo", "no closing `]`"),
        ];
        for (name, problem) in cases {
            let text = message(validate_image_name(name));
            assert!(text.contains(problem), "{name}: {text}");
        }
    }

    #[test]
    fn image_name_separators_follow_docker() {
        for name in ["a.b", "a_b", "a__b", "a-b", "a---b", "a1/b2.c3__d4--e5"] {
            assert!(validate_image_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn image_name_length_limit() {
        let ok = format!("reg.io/{}", "a".repeat(NAME_MAX_LEN - "reg.io/".len()));
        assert!(validate_image_name(&ok).is_ok());
        let long = format!("{ok}a");
        assert!(message(validate_image_name(&long)).contains("256 characters"));
    }

    #[test]
    fn repository_rejects_registry_and_tag() {
        let text = message(validate_repository("127.0.0.1:5000/marqo-base"));
        assert!(text.contains("pass the host with --registry"), "{text}");
        let text = message(validate_repository("marqo-base:v1"));
        assert!(text.contains("contains the tag `v1`"), "{text}");
        let text = message(validate_repository("Marqo/base"));
        assert!(text.contains("must be lowercase"), "{text}");
        let text = message(validate_repository("marqo base"));
        assert!(text.contains("contains ` `"), "{text}");
        assert!(validate_repository("team/marqo-base").is_ok());
    }

    #[test]
    fn registry_host_rules() {
        for host in ["127.0.0.1:5000", "localhost", "[::1]:5000", "[::1]", "a-b.example"] {
            assert!(validate_registry_host(host).is_ok(), "{host}");
        }
        let cases = [
            ("https://reg.io", "without a scheme"),
            ("reg.io/path", "contains `/`"),
            ("reg.io:0", "port `0`"),
            ("reg.io:+80", "port `+80`"),
            ("", "host is empty"),
            ("[::1]x", "must be `:PORT`"),
            ("[zz]", "not an IPv6 address"),
        ];
        for (host, problem) in cases {
            let text = message(validate_registry_host(host));
            assert!(text.contains(problem), "{host}: {text}");
        }
    }
}
