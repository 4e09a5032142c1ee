//! Exit codes, one per category of failure, and the way errors are printed.
//!
//! An error carries its category as a [`Categorized`] value somewhere in its anyhow chain,
//! attached with [`invalid`], [`external`] or the [`ResultExt`] methods. An error with no
//! category is treated as [`Category::External`] (it most often comes from the file system or
//! another program), except a requirements parse error, which is invalid input.

use std::fmt;
use std::process::ExitCode;

/// The category of a failed run; the numeric value is the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// A check ran and found errors.
    Findings = 1,
    /// Invalid usage or invalid input: the message names the file, line and value.
    Invalid = 2,
    /// An external tool or service failed: resolver, docker, AWS, network, file system.
    External = 3,
}

/// The result of a command that ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report beyond warnings.
    Success,
    /// The command completed and reported problems with this category's exit code.
    Failed(Category),
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Failed(category) => ExitCode::from(category as u8),
        }
    }

    /// Combines two outcomes so that the highest category wins.
    pub fn max(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Success, other) | (other, Outcome::Success) => other,
            (Outcome::Failed(a), Outcome::Failed(b)) => Outcome::Failed(a.max(b)),
        }
    }
}

/// An error message tagged with its exit category.
#[derive(Debug)]
pub struct Categorized {
    pub category: Category,
    pub message: String,
}

impl fmt::Display for Categorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Categorized {}

/// Builds an invalid-input error (exit 2).
pub fn invalid(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Categorized { category: Category::Invalid, message: message.into() })
}

/// Builds an external-failure error (exit 3).
pub fn external(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Categorized { category: Category::External, message: message.into() })
}

/// Adds a categorized context line to any error.
pub trait ResultExt<T> {
    fn invalid_context(self, message: impl Into<String>) -> anyhow::Result<T>;
    fn external_context(self, message: impl Into<String>) -> anyhow::Result<T>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn invalid_context(self, message: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|err| {
            err.into().context(Categorized { category: Category::Invalid, message: message.into() })
        })
    }

    fn external_context(self, message: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|err| {
            err.into().context(Categorized { category: Category::External, message: message.into() })
        })
    }
}

/// Returns the category of an error: the outermost [`Categorized`] in its chain, else
/// [`Category::Invalid`] for a requirements parse error, else [`Category::External`].
pub fn category_of(err: &anyhow::Error) -> Category {
    if let Some(tagged) = err.downcast_ref::<Categorized>() {
        return tagged.category;
    }
    if err.downcast_ref::<crate::requirements::ParseError>().is_some() {
        return Category::Invalid;
    }
    Category::External
}

/// Prints the whole error chain on stderr and returns the exit code of its category.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::from(category_of(err) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_survives_plain_context() {
        let err = invalid("bad pin").context("reading requirements.in");
        assert_eq!(category_of(&err), Category::Invalid);
    }

    #[test]
    fn outer_category_wins() {
        let err: anyhow::Result<()> = Err(invalid("bad pin"));
        let err = err.external_context("resolver failed").unwrap_err();
        assert_eq!(category_of(&err), Category::External);
    }

    #[test]
    fn uncategorized_error_is_external() {
        let err = anyhow::anyhow!("disk full");
        assert_eq!(category_of(&err), Category::External);
    }

    #[test]
    fn outcome_max_prefers_higher_category() {
        let combined = Outcome::Failed(Category::Findings).max(Outcome::Failed(Category::External));
        assert_eq!(combined, Outcome::Failed(Category::External));
        assert_eq!(Outcome::Success.max(Outcome::Success), Outcome::Success);
    }
}
