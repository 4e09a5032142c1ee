//! `dockerfile-lockfile`: the Dockerfile must install each target's lockfile when it builds that
//! target's platform, and no other target's.
//!
//! The Dockerfile is evaluated once per target with BuildKit's automatic platform arguments
//! (`TARGETPLATFORM`, `TARGETOS`, `TARGETARCH`, `TARGETVARIANT`) set as they are for that
//! platform. RUN scripts are read as POSIX shell far enough to follow `if`/`elif`/`else`,
//! `case`, `[ ... ]`/`test` comparisons, `&&`/`||` guards, `$(uname -m)` and
//! `$(dpkg --print-architecture)`; a condition it cannot evaluate counts as possibly true.
//! Installs are `pip install -r FILE` (also `pip3`, `python -m pip`, `uv pip install`),
//! `pip-sync`/`uv pip sync FILE`, and a COPY or ADD that names the lockfile itself, in a
//! stage that reaches the final image.

mod shell;

use std::collections::BTreeMap;

use super::inputs::{DockerfileInput, Inputs};
use crate::report::Finding;
use crate::targets::Target;

pub use shell::{Install, Reach};

pub fn check(inputs: &Inputs, dockerfile: &DockerfileInput, findings: &mut Vec<Finding>) {
    let Some(text) = &dockerfile.text else {
        findings.push(
            Finding::error(
                "dockerfile-lockfile",
                format!("{} not found, so nothing shows which lockfile each platform installs", dockerfile.file),
            )
            .at(&dockerfile.file, None),
        );
        return;
    };

    for target in &inputs.targets {
        let target = &target.target;
        let lockfiles: Vec<&str> = inputs.targets.iter().map(|other| other.target.lockfile.as_str()).collect();
        let installs = installs_for(text, target, &lockfiles);
        let lockfile_of = |install: &Install| {
            inputs.targets.iter().find(|other| other.target.lockfile == install.file_name()).map(|other| &other.target)
        };

        let own = installs.iter().any(|install| install.reach != Reach::No && install.file_name() == target.lockfile);
        if !own {
            findings.push(
                Finding::error(
                    "dockerfile-lockfile",
                    format!(
                        "the Dockerfile never installs {} when it builds {} (target {}); install it \
                         with `pip install -r` under a TARGETPLATFORM or TARGETARCH condition",
                        target.lockfile, target.platform, target.name
                    ),
                )
                .target(&target.name)
                .at(&dockerfile.file, None),
            );
        }

        for install in installs.iter().filter(|install| install.reach != Reach::No) {
            if install.is_unresolved() {
                findings.push(
                    Finding::error(
                        "dockerfile-lockfile",
                        format!(
                            "cannot tell which file `{}` installs when building {}; name the \
                             lockfile through TARGETARCH or TARGETPLATFORM",
                            install.display(),
                            target.platform
                        ),
                    )
                    .target(&target.name)
                    .at(&dockerfile.file, Some(install.line)),
                );
                continue;
            }
            let Some(other) = lockfile_of(install) else { continue };
            if other.name == target.name {
                continue;
            }
            let certainty = match install.reach {
                Reach::Yes => "",
                _ => " (under a condition that cannot be evaluated for this platform)",
            };
            findings.push(
                Finding::error(
                    "dockerfile-lockfile",
                    format!(
                        "the Dockerfile installs {} (target {}) when it builds {} (target {}){certainty}",
                        other.lockfile, other.name, target.platform, target.name
                    ),
                )
                .target(&target.name)
                .at(&dockerfile.file, Some(install.line)),
            );
        }
    }
}

/// Lists the requirement files a Dockerfile installs when built for `target`'s platform.
///
/// Files installed or copied by name in a stage that does not reach the final image (through
/// `FROM <stage>` or `COPY --from=<stage>`) count as not reached.
/// COPY and ADD count only for sources named like one of `lockfiles`.
pub fn installs_for(text: &str, target: &Target, lockfiles: &[&str]) -> Vec<Install> {
    let mut variables = platform_arguments(target);
    let builtins: Vec<String> = variables.keys().cloned().collect();
    let machine = target.markers.get("platform_machine").cloned().unwrap_or_default();
    let context = shell::Context { machine, docker_arch: target.docker_arch().to_string() };

    let mut stages: Vec<Stage> = Vec::new();
    for instruction in instructions(text) {
        match instruction.keyword.as_str() {
            "FROM" => {
                let words: Vec<String> = shell::split_words(&instruction.arguments)
                    .iter()
                    .filter(|word| !word.starts_with("--"))
                    .map(|word| shell::expand_word(word, &variables, &context))
                    .collect();
                let base = words.first().cloned().unwrap_or_default().to_ascii_lowercase();
                let name = match words.as_slice() {
                    [_, keyword, name, ..] if keyword.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
                    _ => None,
                };
                stages.push(Stage { name, base, sources: Vec::new(), installs: Vec::new() });
            }
            "ARG" | "ENV" => {
                for (name, value) in assignments(&instruction.arguments, instruction.keyword == "ENV") {
                    if builtins.contains(&name) {
                        continue;
                    }
                    match value {
                        Some(value) => {
                            let expanded = shell::expand_word(&value, &variables, &context);
                            variables.insert(name, Some(expanded));
                        }
                        None => {
                            variables.entry(name).or_insert(None);
                        }
                    }
                }
            }
            "RUN" => {
                let script = run_script(&instruction);
                let found = shell::installs(&script, instruction.line, &variables, &context);
                if let Some(stage) = stages.last_mut() {
                    stage.installs.extend(found);
                }
            }
            "COPY" | "ADD" => {
                let words: Vec<String> = shell::split_words(&instruction.arguments)
                    .iter()
                    .map(|word| shell::expand_word(word, &variables, &context))
                    .collect();
                let Some(stage) = stages.last_mut() else { continue };
                if let Some(from) = words.iter().find_map(|word| word.strip_prefix("--from=")) {
                    stage.sources.push(from.to_ascii_lowercase());
                }
                let paths: Vec<&String> = words.iter().filter(|word| !word.starts_with("--")).collect();
                if let Some((_, sources)) = paths.split_last() {
                    let named = sources.iter().filter(|path| lockfiles.contains(&file_name(path)));
                    stage.installs.extend(named.map(|path| Install {
                        path: path.to_string(),
                        line: instruction.line,
                        reach: Reach::Yes,
                    }));
                }
            }
            _ => {}
        }
    }

    let reachable = reachable_stages(&stages);
    stages
        .into_iter()
        .enumerate()
        .flat_map(|(index, stage)| {
            let in_image = reachable.contains(&index);
            stage.installs.into_iter().map(move |install| Install {
                reach: if in_image { install.reach } else { Reach::No },
                ..install
            })
        })
        .collect()
}

fn file_name(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)
}

/// One build stage: its name, its base (an image or an earlier stage), the stages it copies
/// from, and what it installs.
struct Stage {
    name: Option<String>,
    base: String,
    sources: Vec<String>,
    installs: Vec<Install>,
}

/// Indexes of the stages the last stage is built from or copies from, itself included.
fn reachable_stages(stages: &[Stage]) -> Vec<usize> {
    let Some(last) = stages.len().checked_sub(1) else { return Vec::new() };
    let mut reachable = vec![last];
    let mut pending = vec![last];
    while let Some(index) = pending.pop() {
        let stage = &stages[index];
        for reference in std::iter::once(&stage.base).chain(&stage.sources) {
            let found = stages[..index]
                .iter()
                .rposition(|earlier| earlier.name.as_deref() == Some(reference.as_str()))
                .or_else(|| reference.parse::<usize>().ok().filter(|number| *number < index));
            if let Some(found) = found.filter(|found| !reachable.contains(found)) {
                reachable.push(found);
                pending.push(found);
            }
        }
    }
    reachable
}

/// BuildKit's automatic platform arguments for a target (`linux/arm64/v8` sets the variant).
fn platform_arguments(target: &Target) -> BTreeMap<String, Option<String>> {
    let parts: Vec<&str> = target.platform.split('/').collect();
    let mut variables = BTreeMap::new();
    variables.insert("TARGETPLATFORM".to_string(), Some(target.platform.clone()));
    variables.insert("TARGETOS".to_string(), parts.first().map(|part| part.to_string()));
    variables.insert("TARGETARCH".to_string(), parts.get(1).map(|part| part.to_string()));
    variables.insert("TARGETVARIANT".to_string(), Some(parts.get(2).map_or(String::new(), |part| part.to_string())));
    variables
}

/// One Dockerfile instruction with continuation lines joined.
#[derive(Debug, Clone, PartialEq)]
struct Instruction {
    /// 1-based line of the keyword.
    line: usize,
    keyword: String,
    arguments: String,
    /// Lines of the here-documents that follow the instruction.
    heredoc: Option<String>,
}

fn instructions(text: &str) -> Vec<Instruction> {
    let lines: Vec<&str> = text.lines().collect();
    let mut result = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let trimmed = lines[index].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            index += 1;
            continue;
        }
        let start = index + 1;
        let mut joined = String::new();
        loop {
            let current = lines[index];
            index += 1;
            match current.trim_end().strip_suffix('\\') {
                Some(stripped) => {
                    joined.push_str(stripped);
                    joined.push(' ');
                    while index < lines.len() && {
                        let next = lines[index].trim();
                        next.is_empty() || next.starts_with('#')
                    } {
                        index += 1;
                    }
                    if index >= lines.len() {
                        break;
                    }
                }
                None => {
                    joined.push_str(current);
                    break;
                }
            }
        }
        let joined = joined.trim();
        let (keyword, arguments) = joined.split_once(char::is_whitespace).unwrap_or((joined, ""));
        let arguments = arguments.trim().to_string();

        let heredoc = heredoc_delimiter(&arguments).map(|(delimiter, strip_tabs)| {
            let mut body = String::new();
            while index < lines.len() {
                let line = lines[index];
                index += 1;
                let candidate = if strip_tabs { line.trim_start_matches('\t') } else { line };
                if candidate == delimiter {
                    break;
                }
                body.push_str(candidate);
                body.push('\n');
            }
            body
        });
        result.push(Instruction { line: start, keyword: keyword.to_ascii_uppercase(), arguments, heredoc });
    }
    result
}

/// Returns the delimiter of a here-document (`<<EOF`, `<<-EOF`, `<<"EOF"`) and whether tabs are
/// stripped.
fn heredoc_delimiter(arguments: &str) -> Option<(String, bool)> {
    let start = arguments.find("<<")?;
    let rest = &arguments[start + 2..];
    let (rest, strip_tabs) = match rest.strip_prefix('-') {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    let word = word.trim_matches(['"', '\'']).to_string();
    (!word.is_empty()).then_some((word, strip_tabs))
}

/// Returns the shell script of a RUN instruction: its shell form without `--mount`-style flags, its
/// exec form joined into words, or its here-document when the script is one.
fn run_script(instruction: &Instruction) -> String {
    let mut arguments = instruction.arguments.as_str();
    while arguments.starts_with("--") {
        arguments = arguments.split_once(char::is_whitespace).map_or("", |(_, rest)| rest.trim_start());
    }
    if arguments.starts_with("<<") {
        return instruction.heredoc.clone().unwrap_or_default();
    }
    if arguments.starts_with('[') {
        if let Ok(words) = serde_json::from_str::<Vec<String>>(arguments) {
            return match words.as_slice() {
                [shell, flag, script, ..] if shell.ends_with("sh") && flag == "-c" => script.clone(),
                _ => words.join(" "),
            };
        }
    }
    arguments.to_string()
}

/// `NAME=value` pairs of an ARG or ENV line; ENV also accepts the legacy `ENV NAME value`.
fn assignments(arguments: &str, env: bool) -> Vec<(String, Option<String>)> {
    let words = shell::split_words(arguments);
    if env && words.len() >= 2 && !words[0].contains('=') {
        return vec![(words[0].clone(), Some(words[1..].join(" ")))];
    }
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (word, None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn targets() -> Vec<Target> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        crate::targets::TargetTable::load(&manifest).unwrap().targets
    }

    fn installed(text: &str, target: &Target) -> Vec<(String, Reach)> {
        installs_for(text, target, &["amd64-gpu-requirements.txt", "arm64-requirements.txt"]).into_iter().map(|install| (install.file_name().to_string(), install.reach)).collect()
    }

    #[test]
    fn if_else_on_targetplatform() {
        let text = "FROM python:3.11\nARG TARGETPLATFORM\nCOPY requirements /req\nRUN if [ \"$TARGETPLATFORM\" = \"linux/arm64\" ]; then \\\n      pip3 install --no-cache-dir -r /req/arm64-requirements.txt; \\\n    else \\\n      pip3 install -r /req/amd64-gpu-requirements.txt; \\\n    fi\n";
        let [amd64, arm64] = &targets()[..] else { panic!() };
        assert_eq!(
            installed(text, amd64),
            [("arm64-requirements.txt".to_string(), Reach::No), ("amd64-gpu-requirements.txt".to_string(), Reach::Yes)]
        );
        assert_eq!(installed(text, arm64)[0], ("arm64-requirements.txt".to_string(), Reach::Yes));
        let lockfiles = ["amd64-gpu-requirements.txt", "arm64-requirements.txt"];
        assert_eq!(installs_for(text, amd64, &lockfiles)[1].line, 4);
    }

    #[test]
    fn case_on_targetarch_and_uname() {
        let text = "FROM x\nRUN case \"${TARGETARCH}\" in \\\n  amd64) python -m pip install -r amd64-gpu-requirements.txt ;; \\\n  arm64|aarch64) uv pip install --system -r arm64-requirements.txt ;; \\\n esac\nRUN [ \"$(uname -m)\" = \"aarch64\" ] && pip install -rarm64-requirements.txt || true\n";
        let [amd64, arm64] = &targets()[..] else { panic!() };
        let on_amd64 = installed(text, amd64);
        assert_eq!(on_amd64[0], ("amd64-gpu-requirements.txt".to_string(), Reach::Yes));
        assert_eq!(on_amd64[1], ("arm64-requirements.txt".to_string(), Reach::No));
        assert_eq!(on_amd64[2], ("arm64-requirements.txt".to_string(), Reach::No));
        let on_arm64 = installed(text, arm64);
        assert_eq!(on_arm64[1], ("arm64-requirements.txt".to_string(), Reach::Yes));
        assert_eq!(on_arm64[2], ("arm64-requirements.txt".to_string(), Reach::Yes));
    }

    #[test]
    fn variable_in_file_name() {
        let text = "FROM x\nARG LOCK_SUFFIX=-requirements.txt\nRUN pip install -r \"requirements/${TARGETARCH}${LOCK_SUFFIX}\"\n";
        let [amd64, arm64] = &targets()[..] else { panic!() };
        assert_eq!(installed(text, amd64), [("amd64-requirements.txt".to_string(), Reach::Yes)]);
        assert_eq!(installed(text, arm64), [("arm64-requirements.txt".to_string(), Reach::Yes)]);
    }

    #[test]
    fn case_arm_assigns_lockfile_variable() {
        let text = "FROM x\nARG TARGETPLATFORM\nRUN case \"${TARGETPLATFORM}\" in \\\n  linux/amd64) lockfile=amd64-gpu-requirements.txt ;; \\\n  linux/arm64) lockfile=arm64-requirements.txt ;; \\\n  *) echo \"no lockfile for '${TARGETPLATFORM}'\" >&2; exit 1 ;; \\\n esac \\\n && v=\"$(python3 -c 'import sys; print(\"%d\" % 3)')\" \\\n && path=\"/opt/req/${lockfile}\" \\\n && python3 -m pip install --no-deps \"${options[@]}\" --requirement \"${path}\"\n";
        let [amd64, arm64] = &targets()[..] else { panic!() };
        assert_eq!(installed(text, amd64), [("amd64-gpu-requirements.txt".to_string(), Reach::Yes)]);
        assert_eq!(installed(text, arm64), [("arm64-requirements.txt".to_string(), Reach::Yes)]);
    }

    #[test]
    fn repository_dockerfile_maps_each_target() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Dockerfile");
        let text = std::fs::read_to_string(&path).unwrap();
        for target in targets() {
            let found = installed(&text, &target);
            let reached: Vec<_> = found.iter().filter(|(_, reach)| *reach != Reach::No).collect();
            assert_eq!(reached, [&(target.lockfile.clone(), Reach::Yes)], "{}", target.name);
        }
    }

    #[test]
    fn stage_chosen_by_targetarch() {
        let text = "FROM scratch AS lockfile-amd64\nCOPY requirements/amd64-gpu-requirements.txt /requirements.txt\n\nFROM scratch AS lockfile-arm64\nCOPY requirements/arm64-requirements.txt /requirements.txt\n\nFROM lockfile-${TARGETARCH}\n";
        let [amd64, arm64] = &targets()[..] else { panic!() };
        assert_eq!(
            installed(text, amd64),
            [("amd64-gpu-requirements.txt".to_string(), Reach::Yes), ("arm64-requirements.txt".to_string(), Reach::No)]
        );
        assert_eq!(
            installed(text, arm64),
            [("amd64-gpu-requirements.txt".to_string(), Reach::No), ("arm64-requirements.txt".to_string(), Reach::Yes)]
        );
    }

    #[test]
    fn unknown_condition_is_possible() {
        let text = "FROM x\nRUN if [ -f /etc/gpu ]; then pip install -r arm64-requirements.txt; fi\n";
        let amd64 = &targets()[0];
        assert_eq!(installed(text, amd64), [("arm64-requirements.txt".to_string(), Reach::Maybe)]);
    }

    #[test]
    fn heredoc_and_exec_form() {
        let text = "FROM x\nRUN --mount=type=cache,target=/root/.cache <<EOF\nset -e\nif [ \"$TARGETARCH\" = amd64 ]; then\n  pip install -r amd64-gpu-requirements.txt\nfi\nEOF\nRUN [\"pip\", \"install\", \"-r\", \"arm64-requirements.txt\"]\n";
        let amd64 = &targets()[0];
        assert_eq!(
            installed(text, amd64),
            [("amd64-gpu-requirements.txt".to_string(), Reach::Yes), ("arm64-requirements.txt".to_string(), Reach::Yes)]
        );
    }
}
