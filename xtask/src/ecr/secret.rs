//! A password that cannot be printed by accident.

use std::fmt;

use zeroize::Zeroize;

/// A secret string. `Debug` and `Display` print `***`, and the memory is overwritten with
/// zeros on drop. Only [`Secret::expose`] gives the value, for writing it to a child's stdin.
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(value)
    }

    /// Returns the secret value. Callers write it to a pipe and never format it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text` with `***`, for output of other
    /// programs that is shown to the user.
    pub(crate) fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_formats_as_stars() {
        let secret = Secret::new("hunter2".to_string());
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(***)");
    }

    #[test]
    fn secret_redacts_output() {
        let secret = Secret::new("hunter2".to_string());
        assert_eq!(secret.redact("pw hunter2 and hunter2"), "pw *** and ***");
        assert_eq!(secret.expose(), "hunter2");
    }
}
