//! Rules on each lockfile by itself and on the index URLs: `duplicate-package`,
//! `extras-in-lockfile`, `header-mismatch`, `absolute-path`, `index-credentials` and
//! `undeclared-index`.

use super::inputs::{Inputs, TargetInputs};
use crate::report::Finding;
use crate::requirements::input::RequirementsOption;
use crate::requirements::{redact_url, url_has_credentials};

pub fn check(inputs: &Inputs, findings: &mut Vec<Finding>) {
    for target in &inputs.targets {
        duplicates(target, findings);
        extras(target, findings);
        header(inputs, target, findings);
        lockfile_paths(target, findings);
        lockfile_indexes(inputs, target, findings);
    }
    requirements_paths(inputs, findings);
    requirements_credentials(inputs, findings);
}

/// Duplicated names from which a lockfile counts as a merge of several targets' lockfiles
/// rather than a hand edit.
const MERGE_DUPLICATES: usize = 2;

/// `duplicate-package`: one normalized name on several lines, which only a merged lockfile
/// (several targets' resolutions in one file) has. A lockfile with several such names gets one
/// more finding without a line, sorted before the per-line ones, that reports the merge.
fn duplicates(target: &TargetInputs, findings: &mut Vec<Finding>) {
    let by_name = target.lockfile.by_name();
    let duplicated = by_name.iter().filter(|(_, entries)| entries.len() > 1).count();
    if duplicated >= MERGE_DUPLICATES {
        findings.push(
            Finding::error(
                "duplicate-package",
                format!(
                    "this lockfile looks like a merge of several targets' lockfiles: {duplicated} packages \
                     are locked more than once, but each target needs its own file; recompile with \
                     `cargo xtask compile --arch all`"
                ),
            )
            .target(&target.target.name)
            .at(&target.file, None),
        );
    }
    for (name, entries) in by_name {
        if entries.len() < 2 {
            continue;
        }
        let lines: Vec<String> = entries.iter().map(|entry| entry.line.to_string()).collect();
        for entry in &entries[1..] {
            findings.push(
                Finding::error(
                    "duplicate-package",
                    format!(
                        "{name} is locked {} times (lines {}): this is a merged lockfile, but each \
                         target needs its own file; recompile with `cargo xtask compile --arch all`",
                        entries.len(),
                        lines.join(", ")
                    ),
                )
                .target(&target.target.name)
                .package(name)
                .at(&target.file, Some(entry.line)),
            );
        }
    }
}

/// `extras-in-lockfile`: pip-compile's `--strip-extras` never writes `pkg[extra]==`.
fn extras(target: &TargetInputs, findings: &mut Vec<Finding>) {
    for entry in target.lockfile.packages.iter().filter(|entry| !entry.extras.is_empty()) {
        findings.push(
            Finding::error(
                "extras-in-lockfile",
                format!(
                    "{}[{}] carries extras, which a lockfile compiled with --strip-extras never \
                     does; recompile with `cargo xtask compile --arch {}`",
                    entry.name,
                    entry.extras.join(","),
                    target.target.name
                ),
            )
            .target(&target.target.name)
            .package(&entry.name)
            .at(&target.file, Some(entry.line)),
        );
    }
}

/// `header-mismatch`: whether the header's command reproduces this lockfile for this target.
///
/// Accepted forms: pip-compile's own (`pip-compile --output-file=LOCKFILE --strip-extras
/// requirements.in`), `uv pip compile` with `-o LOCKFILE` and the target's
/// `--python-platform`, and the xtask's canonical header (`cargo xtask compile --arch NAME`),
/// whose generator line may end with `for <uv platform>`.
fn header(inputs: &Inputs, target: &TargetInputs, findings: &mut Vec<Finding>) {
    let name = &target.target.name;
    let Some(header) = &target.lockfile.header else {
        findings.push(
            Finding::warning(
                "header-mismatch",
                format!(
                    "the lockfile has no header, so nothing records the command that produced it; \
                     recompile with `cargo xtask compile --arch {name}`"
                ),
            )
            .target(name)
            .at(&target.file, None),
        );
        return;
    };
    let line = header.command_line.or(Some(1));
    let mut problems = Vec::new();
    let mut unknown = Vec::new();

    if let Some(platform) = generator_platform(&target.text) {
        if platform != target.target.uv_platform {
            problems.push(format!("it was resolved for {platform}, but {name} is {}", target.target.uv_platform));
        }
    }

    let words = header.command_words();
    let program = words.first().map(|word| word.rsplit('/').next().unwrap_or(word)).unwrap_or("");
    let rest: &[&str] = words.get(1..).unwrap_or(&[]);
    match program {
        "pip-compile" => pip_compile_command(inputs, target, rest, &mut problems, &mut unknown),
        "uv" if rest.starts_with(&["pip", "compile"]) => {
            uv_command(inputs, target, &rest[2..], &mut problems, &mut unknown)
        }
        "cargo" if rest.first() == Some(&"xtask") => {
            xtask_command(target, header, &rest[1..], &mut problems)
        }
        "xtask" => xtask_command(target, header, rest, &mut problems),
        "" => problems.push("the header records no command".to_string()),
        other => problems.push(format!("`{other}` is not a command that writes lockfiles")),
    }

    let command = header.command.clone().unwrap_or_default();
    for problem in problems {
        findings.push(
            Finding::error("header-mismatch", format!("`{command}` would not reproduce this lockfile for {name}: {problem}"))
                .target(name)
                .at(&target.file, line),
        );
    }
    for option in unknown {
        findings.push(
            Finding::warning(
                "header-mismatch",
                format!("`{command}` uses `{option}`, which may change the resolution; check that it belongs there"),
            )
            .target(name)
            .at(&target.file, line),
        );
    }
}

/// The uv platform after "for" on the generator line, as the xtask's uv backend writes it.
fn generator_platform(text: &str) -> Option<&str> {
    let line = text.lines().take_while(|line| line.starts_with('#')).find(|line| line.contains("autogenerated by"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let index = words.iter().position(|word| *word == "for")?;
    words.get(index + 1).copied()
}

/// Options that only add information to a lockfile, or change nothing in the resolution.
const INFORMATIONAL: &[&str] = &[
    "--generate-hashes",
    "--allow-unsafe",
    "--annotate",
    "--header",
    "--emit-index-url",
    "--emit-trusted-host",
    "--emit-find-links",
    "--emit-options",
    "--strip-extras",
    "--no-strip-markers",
    "--reuse-hashes",
    "--verbose",
    "-v",
    "--quiet",
    "-q",
    "--no-emit-package",
    "--build-isolation",
    "--cache-dir",
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--trusted-host",
    "--no-index",
    "--resolver",
    "--annotation-style",
    "--python-version",
    "--python-platform",
    "--output-file",
    "-o",
    "--no-emit-index-url",
    "--build-constraints",
    "--constraint",
    "-c",
];

/// Options that take a value as the next word when not written `--option=value`.
const WITH_VALUE: &[&str] = &[
    "--output-file",
    "-o",
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--trusted-host",
    "--resolver",
    "--annotation-style",
    "--python-version",
    "--python-platform",
    "--pip-args",
    "--upgrade-package",
    "-P",
    "--cache-dir",
    "--no-emit-package",
    "--build-constraints",
    "--constraint",
    "-c",
    "--arch",
    "--platform",
];

/// A command line split into options (with their values) and positional arguments.
struct CommandLine<'a> {
    options: Vec<(&'a str, Option<&'a str>)>,
    positional: Vec<&'a str>,
}

impl<'a> CommandLine<'a> {
    fn parse(words: &[&'a str]) -> CommandLine<'a> {
        let mut options = Vec::new();
        let mut positional = Vec::new();
        let mut index = 0;
        while index < words.len() {
            let word = words[index];
            index += 1;
            if !word.starts_with('-') || word == "-" {
                positional.push(word);
                continue;
            }
            if let Some((flag, value)) = word.split_once('=') {
                options.push((flag, Some(value)));
            } else if WITH_VALUE.contains(&word) {
                options.push((word, words.get(index).copied()));
                index += 1;
            } else if word.len() > 2 && !word.starts_with("--") && WITH_VALUE.contains(&&word[..2]) {
                options.push((&word[..2], Some(&word[2..])));
            } else {
                options.push((word, None));
            }
        }
        CommandLine { options, positional }
    }

    fn value(&self, names: &[&str]) -> Option<&'a str> {
        self.options.iter().rev().find(|(flag, _)| names.contains(flag)).and_then(|(_, value)| *value)
    }

    fn has(&self, names: &[&str]) -> bool {
        self.options.iter().any(|(flag, _)| names.contains(flag))
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn check_output_and_input(
    inputs: &Inputs,
    target: &TargetInputs,
    command: &CommandLine,
    problems: &mut Vec<String>,
) {
    let lockfile = &target.target.lockfile;
    match command.value(&["--output-file", "-o"]) {
        Some(output) if file_name(output) == lockfile => {}
        Some(output) => problems.push(format!("it writes {output}, not {lockfile}")),
        None => problems.push(format!("it names no --output-file, so it would not write {lockfile}")),
    }
    let expected = &inputs.requirements_in_name;
    match command.positional.as_slice() {
        [only] if file_name(only) == expected => {}
        [] => problems.push(format!("it names no input file, not {expected}")),
        other => problems.push(format!("it reads {}, not {expected} alone", other.join(" "))),
    }
}

fn common_rejections(command: &CommandLine, problems: &mut Vec<String>) {
    if command.has(&["--universal"]) {
        problems.push("--universal resolves for every platform at once".to_string());
    }
    if command.has(&["--upgrade", "-U"]) {
        problems.push("--upgrade ignores the existing pins".to_string());
    }
    if command.has(&["--upgrade-package", "-P"]) {
        problems.push("--upgrade-package ignores an existing pin".to_string());
    }
}

fn pip_compile_command(
    inputs: &Inputs,
    target: &TargetInputs,
    words: &[&str],
    problems: &mut Vec<String>,
    unknown: &mut Vec<String>,
) {
    let command = CommandLine::parse(words);
    check_output_and_input(inputs, target, &command, problems);
    common_rejections(&command, problems);
    if !command.has(&["--strip-extras"]) || command.has(&["--no-strip-extras"]) {
        problems.push("it lacks --strip-extras, so extras would appear in the lockfile".to_string());
    }
    if let Some(pip_args) = command.value(&["--pip-args"]) {
        let platform_options = ["--platform", "--python-version", "--abi", "--implementation"];
        if platform_options.iter().any(|option| pip_args.contains(option)) {
            problems.push(format!("--pip-args `{pip_args}` resolves for another platform"));
        }
    }
    for (flag, _) in &command.options {
        let known = INFORMATIONAL.contains(flag)
            || ["--universal", "--upgrade", "-U", "--upgrade-package", "-P", "--no-strip-extras", "--pip-args"].contains(flag);
        if !known {
            unknown.push(flag.to_string());
        }
    }
}

fn uv_command(
    inputs: &Inputs,
    target: &TargetInputs,
    words: &[&str],
    problems: &mut Vec<String>,
    unknown: &mut Vec<String>,
) {
    let command = CommandLine::parse(words);
    check_output_and_input(inputs, target, &command, problems);
    common_rejections(&command, problems);
    if command.has(&["--no-strip-extras"]) {
        problems.push("--no-strip-extras writes extras into the lockfile".to_string());
    }
    match command.value(&["--python-platform"]) {
        Some(platform) if platform == target.target.uv_platform => {}
        Some(platform) => problems.push(format!(
            "--python-platform {platform} resolves for another platform than {}",
            target.target.uv_platform
        )),
        None => problems.push(format!(
            "it has no --python-platform, so it resolves for the host rather than {}",
            target.target.uv_platform
        )),
    }
    for (flag, _) in &command.options {
        let known = INFORMATIONAL.contains(flag)
            || ["--universal", "--upgrade", "-U", "--upgrade-package", "-P", "--no-strip-extras"].contains(flag);
        if !known {
            unknown.push(flag.to_string());
        }
    }
}

fn xtask_command(
    target: &TargetInputs,
    header: &crate::requirements::header::Header,
    words: &[&str],
    problems: &mut Vec<String>,
) {
    let name = &target.target.name;
    let command = CommandLine::parse(words);
    match command.positional.first() {
        Some(&"compile") | Some(&"converge") => {}
        Some(other) => problems.push(format!("`{other}` does not write lockfiles")),
        None => problems.push("it names no xtask command".to_string()),
    }
    let arches: Vec<&str> = command
        .options
        .iter()
        .filter(|(flag, _)| *flag == "--arch")
        .filter_map(|(_, value)| *value)
        .flat_map(|value| value.split(','))
        .collect();
    if !arches.is_empty() && !arches.iter().any(|arch| *arch == name || *arch == "all") {
        problems.push(format!("--arch {} does not name {name}", arches.join(",")));
    }
    if arches.is_empty() {
        problems.push(format!("it has no --arch, so it does not say it compiled {name}"));
    }
    common_rejections(&command, problems);
    if let Some(resolver) = command.value(&["--resolver"]) {
        let tool = header.tool.as_str();
        if !tool.is_empty() && resolver != tool {
            problems.push(format!("--resolver {resolver} differs from the generator `{tool}`"));
        }
    }
    if let (Some(version), Some(recorded)) = (command.value(&["--python-version"]), &header.python_version) {
        if version != recorded {
            problems.push(format!("--python-version {version} differs from the recorded Python {recorded}"));
        }
    }
}

/// Returns whether a path or URL is absolute or tied to one machine.
pub fn is_machine_specific(path: &str) -> bool {
    let path = path.trim_matches(['"', '\'']);
    path.starts_with('/')
        || path.starts_with('~')
        || path.starts_with("file:/")
        || path.starts_with("\\\\")
        || (path.len() > 2 && path.as_bytes()[1] == b':' && path.as_bytes()[0].is_ascii_alphabetic() && matches!(path.as_bytes()[2], b'\\' | b'/'))
}

/// `absolute-path` in a lockfile: its header command, `-r`/`-c` lines and `# via` annotations.
fn lockfile_paths(target: &TargetInputs, findings: &mut Vec<Finding>) {
    let name = &target.target.name;
    if let Some(header) = &target.lockfile.header {
        for word in header.command_words() {
            let value = word.split_once('=').map_or(word, |(_, value)| value);
            if is_machine_specific(value) {
                findings.push(
                    Finding::error(
                        "absolute-path",
                        format!("the header's command contains the machine-specific path `{value}`; use a path relative to the requirements folder"),
                    )
                    .target(name)
                    .at(&target.file, header.command_line),
                );
            }
        }
    }
    for option in &target.lockfile.options {
        if let RequirementsOption::Requirement(path) | RequirementsOption::Constraint(path) = &option.option {
            if is_machine_specific(path) {
                findings.push(
                    Finding::error("absolute-path", format!("`{path}` is a machine-specific path; use a relative one"))
                        .target(name)
                        .at(&target.file, Some(option.line)),
                );
            }
        }
    }
    for entry in &target.lockfile.packages {
        for item in &entry.via {
            let path = item.strip_prefix("-r ").or_else(|| item.strip_prefix("-c "));
            if let Some(path) = path.filter(|path| is_machine_specific(path.trim())) {
                findings.push(
                    Finding::error(
                        "absolute-path",
                        format!("{}'s `# via {item}` names the machine-specific path {}; recompile from the requirements folder", entry.name, path.trim()),
                    )
                    .target(name)
                    .package(&entry.name)
                    .at(&target.file, Some(entry.line)),
                );
            }
        }
    }
}

/// `absolute-path` on `-r`/`-c` lines of requirements.in and the files it includes.
fn requirements_paths(inputs: &Inputs, findings: &mut Vec<Finding>) {
    for (file, option) in inputs.tree.options() {
        if let RequirementsOption::Requirement(path) | RequirementsOption::Constraint(path) = &option.option {
            if is_machine_specific(path) {
                findings.push(
                    Finding::error("absolute-path", format!("`{path}` is a machine-specific path; use one relative to this file"))
                        .at(&file.display().to_string(), Some(option.line)),
                );
            }
        }
    }
}

fn credentials_finding(url: &str, file: &str, line: Option<usize>) -> Finding {
    Finding::error(
        "index-credentials",
        format!(
            "{} carries credentials; remove them and let pip read them from a keyring or netrc",
            redact_url(url)
        ),
    )
    .at(file, line)
}

/// `index-credentials` in requirements.in (options and direct URLs) and the target table.
fn requirements_credentials(inputs: &Inputs, findings: &mut Vec<Finding>) {
    for (file, option) in inputs.tree.options() {
        if let Some(url) = option.option.url().filter(|url| url_has_credentials(url)) {
            findings.push(credentials_finding(url, &file.display().to_string(), Some(option.line)));
        }
    }
    for pin in inputs.tree.pins() {
        if let Some(pep508_rs::VersionOrUrl::Url(url)) = &pin.requirement.version_or_url {
            let url = url.to_string();
            if url_has_credentials(&url) {
                findings.push(credentials_finding(&url, &pin.file.display().to_string(), Some(pin.line)).package(&pin.name));
            }
        }
    }
    for target in &inputs.targets {
        for url in target.target.extra_index_urls.iter().filter(|url| url_has_credentials(url)) {
            findings.push(credentials_finding(url, &inputs.manifest, None).target(&target.target.name));
        }
    }
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    Some(host_port)
}

/// `index-credentials` and `undeclared-index` for a lockfile's option lines and URL entries.
fn lockfile_indexes(inputs: &Inputs, target: &TargetInputs, findings: &mut Vec<Finding>) {
    let name = &target.target.name;
    let declared_urls: Vec<&str> = inputs
        .tree
        .options()
        .filter_map(|(_, option)| option.option.url())
        .chain(target.target.extra_index_urls.iter().map(String::as_str))
        .collect();
    let declared_hosts: Vec<&str> = inputs
        .tree
        .options()
        .filter_map(|(_, option)| match &option.option {
            RequirementsOption::TrustedHost(host) => Some(host.as_str()),
            _ => None,
        })
        .collect();

    for option in &target.lockfile.options {
        if let Some(url) = option.option.url() {
            if url_has_credentials(url) {
                findings.push(credentials_finding(url, &target.file, Some(option.line)).target(name));
            }
            if !declared_urls.iter().any(|declared| same_url(declared, url)) {
                findings.push(
                    Finding::error(
                        "undeclared-index",
                        format!(
                            "`{}` is declared neither in {} nor in the target table; it probably \
                             came from the host's pip settings; recompile with `cargo xtask compile --arch {name}`",
                            option.option.lockfile_line().map(|line| redact_url(&line)).unwrap_or_default(),
                            inputs.requirements_in_name
                        ),
                    )
                    .target(name)
                    .at(&target.file, Some(option.line)),
                );
            }
        }
        if let RequirementsOption::TrustedHost(host) = &option.option {
            let declared = declared_hosts.contains(&host.as_str())
                || declared_urls.iter().any(|url| host_of(url).is_some_and(|url_host| {
                    url_host == host || url_host.split(':').next() == Some(host.as_str())
                }));
            if !declared {
                findings.push(
                    Finding::error(
                        "undeclared-index",
                        format!("`--trusted-host {host}` is declared neither in {} nor in the target table", inputs.requirements_in_name),
                    )
                    .target(name)
                    .at(&target.file, Some(option.line)),
                );
            }
        }
    }
    for entry in &target.lockfile.packages {
        if let Some(url) = entry.url.as_deref().filter(|url| url_has_credentials(url)) {
            findings.push(credentials_finding(url, &target.file, Some(entry.line)).target(name).package(&entry.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_specific_paths() {
        assert!(is_machine_specific("/tmp/x/requirements.in"));
        assert!(is_machine_specific("~/req.in"));
        assert!(is_machine_specific("C:\\work\\req.in"));
        assert!(is_machine_specific("file:///opt/wheels"));
        assert!(!is_machine_specific("requirements.in"));
        assert!(!is_machine_specific("../base.in"));
        assert!(!is_machine_specific("https://download.pytorch.org/whl/cu116"));
    }

    #[test]
    fn command_line_forms() {
        let words = ["--output-file=a.txt", "-o", "b.txt", "--strip-extras", "-Pfoo", "req.in"];
        let command = CommandLine::parse(&words);
        assert_eq!(command.value(&["--output-file", "-o"]), Some("b.txt"));
        assert_eq!(command.value(&["-P"]), Some("foo"));
        assert!(command.has(&["--strip-extras"]));
        assert_eq!(command.positional, ["req.in"]);
    }

    #[test]
    fn generator_platform_read() {
        let text = "#\n# This file is autogenerated by uv 0.13.9 with Python 3.11 for x86_64-manylinux_2_36\n# by the following command:\n";
        assert_eq!(generator_platform(text), Some("x86_64-manylinux_2_36"));
        assert_eq!(generator_platform("#\n# This file is autogenerated by pip-compile with Python 3.9\n"), None);
    }
}
