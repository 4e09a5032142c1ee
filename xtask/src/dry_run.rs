//! The plan that `--dry-run` prints, in one format for `build` and `pull-ecr`: numbered steps,
//! each followed by the exact command it runs, indented by four spaces.
//!
//! ```text
//! 1. check that the Docker daemon responds
//!     docker version --format '{{.Server.Version}}'
//! 2. fetch an ECR authorization token with GetAuthorizationToken through the AWS SDK (...)
//! 3. log in to HOST with the token, in a temporary Docker config deleted afterwards
//!     DOCKER_CONFIG=TEMPORARY-DOCKER-CONFIG docker login --username AWS --password-stdin HOST
//!     password: <from stdin>
//! ```

use std::fmt::Write;

/// Indentation of the lines under a step's description.
const INDENT: &str = "    ";

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What the step does, in the imperative.
    pub description: String,
    /// The exact command line, or `None` for a step that runs no program (an AWS SDK call).
    pub command: Option<String>,
    /// The name of a secret the command reads on stdin, which is printed as `<from stdin>`.
    pub stdin_secret: Option<&'static str>,
}

impl Step {
    /// Creates a step that runs no program.
    pub fn new(description: impl Into<String>) -> Step {
        Step { description: description.into(), command: None, stdin_secret: None }
    }

    /// Creates a step that runs `command`, shown as its shell line.
    pub fn run(description: impl Into<String>, command: impl ToString) -> Step {
        Step { command: Some(command.to_string()), ..Step::new(description) }
    }

    /// Marks the command as reading the secret `name` on stdin.
    pub fn with_stdin_secret(self, name: &'static str) -> Step {
        Step { stdin_secret: Some(name), ..self }
    }
}

/// Renders the steps, numbered from 1, as `--dry-run` prints them.
pub fn render(steps: &[Step]) -> String {
    let mut text = String::new();
    for (index, step) in steps.iter().enumerate() {
        let _ = writeln!(text, "{}. {}", index + 1, step.description);
        if let Some(command) = &step.command {
            let _ = writeln!(text, "{INDENT}{command}");
        }
        if let Some(secret) = step.stdin_secret {
            let _ = writeln!(text, "{INDENT}{secret}: <from stdin>");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_numbers_steps_and_indents_commands() {
        let steps = [
            Step::new("fetch a token"),
            Step::run("log in", "docker login --password-stdin r.io").with_stdin_secret("password"),
            Step::run("pull", "docker pull r.io/a:1"),
        ];
        assert_eq!(
            render(&steps),
            "1. fetch a token\n\
             2. log in\n    docker login --password-stdin r.io\n    password: <from stdin>\n\
             3. pull\n    docker pull r.io/a:1\n"
        );
    }
}
