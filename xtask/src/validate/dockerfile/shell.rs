//! Enough of a POSIX shell reader to tell, for one platform, which requirement files a RUN
//! script installs and whether the install is reached.
//!
//! Values the reader cannot know (an unset variable, most command substitutions) become
//! [`UNKNOWN`], and any comparison involving one is [`Reach::Maybe`].

use std::collections::BTreeMap;

/// Stands for a value that is not known when reading the Dockerfile.
pub const UNKNOWN: char = '\u{0}';

/// Whether a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Yes,
    No,
    Maybe,
}

impl Reach {
    fn from_bool(value: bool) -> Reach {
        if value {
            Reach::Yes
        } else {
            Reach::No
        }
    }

    pub fn and(self, other: Reach) -> Reach {
        match (self, other) {
            (Reach::No, _) | (_, Reach::No) => Reach::No,
            (Reach::Yes, Reach::Yes) => Reach::Yes,
            _ => Reach::Maybe,
        }
    }

    pub fn or(self, other: Reach) -> Reach {
        match (self, other) {
            (Reach::Yes, _) | (_, Reach::Yes) => Reach::Yes,
            (Reach::No, Reach::No) => Reach::No,
            _ => Reach::Maybe,
        }
    }

    pub fn not(self) -> Reach {
        match self {
            Reach::Yes => Reach::No,
            Reach::No => Reach::Yes,
            Reach::Maybe => Reach::Maybe,
        }
    }
}

/// One requirement file installed by a RUN instruction.
#[derive(Debug, Clone, PartialEq)]
pub struct Install {
    /// The path after expansion; [`UNKNOWN`] marks parts that could not be expanded.
    pub path: String,
    /// 1-based line of the RUN instruction.
    pub line: usize,
    pub reach: Reach,
}

impl Install {
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    pub fn is_unresolved(&self) -> bool {
        self.path.contains(UNKNOWN)
    }

    /// Renders the path with unknown parts shown as `…`.
    pub fn display(&self) -> String {
        self.path.replace(UNKNOWN, "…")
    }
}

/// The outputs of `$(uname -m)` and `$(dpkg --print-architecture)` on the platform.
pub struct Context {
    pub machine: String,
    pub docker_arch: String,
}

type Variables = BTreeMap<String, Option<String>>;

/// A word as written (quotes and `$` expressions kept), or an operator.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Operator(&'static str),
}

const OPERATORS: &[&str] = &[";;", "&&", "||", ";", "|", "&", "(", ")", "\n"];

/// Splits a line into words as written, without expansion (for ARG and ENV).
pub fn split_words(text: &str) -> Vec<String> {
    split_raw(text)
        .into_iter()
        .filter_map(|token| match token {
            Token::Word(word) => Some(word),
            Token::Operator(_) => None,
        })
        .collect()
}

/// Splits a script into words as written and operators. Quotes, `$(...)`, `${...}` and
/// backquotes stay inside their word, so that words are expanded only when their command
/// runs, with the variables set by then.
fn split_raw(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut index = 0;

    while index < chars.len() {
        let c = chars[index];
        if c == '#' && !in_word {
            while index < chars.len() && chars[index] != '\n' {
                index += 1;
            }
            continue;
        }
        if c == ' ' || c == '\t' || c == '\r' {
            if in_word {
                tokens.push(Token::Word(std::mem::take(&mut word)));
                in_word = false;
            }
            index += 1;
            continue;
        }
        let operator = OPERATORS.iter().find(|op| op.chars().enumerate().all(|(offset, op_char)| chars.get(index + offset) == Some(&op_char)));
        if let Some(operator) = operator {
            if in_word {
                tokens.push(Token::Word(std::mem::take(&mut word)));
                in_word = false;
            }
            tokens.push(Token::Operator(operator));
            index += operator.len();
            continue;
        }
        in_word = true;
        let end = match c {
            '\'' => closing(&chars, index + 1, '\''),
            '"' => double_quote_end(&chars, index + 1),
            '\\' => (index + 2).min(chars.len()),
            '`' => closing(&chars, index + 1, '`'),
            '$' if chars.get(index + 1) == Some(&'(') => substitution_end(&chars, index + 2),
            '$' if chars.get(index + 1) == Some(&'{') => closing(&chars, index + 2, '}'),
            _ => index + 1,
        };
        word.extend(&chars[index..end]);
        index = end;
    }
    if in_word {
        tokens.push(Token::Word(word));
    }
    tokens
}

/// Returns the index after the next `close` at or after `start`.
fn closing(chars: &[char], start: usize, close: char) -> usize {
    chars[start.min(chars.len())..].iter().position(|&c| c == close).map_or(chars.len(), |offset| start + offset + 1)
}

/// Returns the index after the `"` that closes a double-quoted string starting at `start`.
fn double_quote_end(chars: &[char], start: usize) -> usize {
    let mut index = start;
    while index < chars.len() {
        match chars[index] {
            '"' => return index + 1,
            '\\' => index += 2,
            '$' if chars.get(index + 1) == Some(&'(') => index = substitution_end(chars, index + 2),
            _ => index += 1,
        }
    }
    chars.len()
}

/// Returns the index after the `)` that closes a command substitution whose body starts at `start`.
fn substitution_end(chars: &[char], start: usize) -> usize {
    let mut depth = 1;
    let mut index = start;
    while index < chars.len() {
        match chars[index] {
            '\'' => index = closing(chars, index + 1, '\''),
            '"' => index = double_quote_end(chars, index + 1),
            '(' => {
                depth += 1;
                index += 1;
            }
            ')' => {
                depth -= 1;
                index += 1;
                if depth == 0 {
                    return index;
                }
            }
            _ => index += 1,
        }
    }
    chars.len()
}

/// Expands variables, command substitutions and quotes in one word as written.
pub fn expand_word(text: &str, variables: &Variables, context: &Context) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut index = 0;
    while index < chars.len() {
        match chars[index] {
            '\'' => {
                let end = closing(&chars, index + 1, '\'');
                out.extend(&chars[index + 1..end.saturating_sub(1).max(index + 1)]);
                index = end;
            }
            '"' => {
                index += 1;
                while index < chars.len() && chars[index] != '"' {
                    match chars[index] {
                        '\\' if index + 1 < chars.len() => {
                            out.push(chars[index + 1]);
                            index += 2;
                        }
                        '$' => index = expand_at(&chars, index, variables, context, &mut out),
                        c => {
                            out.push(c);
                            index += 1;
                        }
                    }
                }
                index += 1;
            }
            '\\' => {
                if let Some(&next) = chars.get(index + 1) {
                    out.push(next);
                }
                index += 2;
            }
            '$' => index = expand_at(&chars, index, variables, context, &mut out),
            '`' => {
                let end = closing(&chars, index + 1, '`');
                let command: String = chars[index + 1..end.saturating_sub(1).max(index + 1)].iter().collect();
                out.push_str(&substitute(&command, context));
                index = end;
            }
            c => {
                out.push(c);
                index += 1;
            }
        }
    }
    out
}

/// Expands the `$` expression at `index` into `out` and returns the index after it.
fn expand_at(chars: &[char], index: usize, variables: &Variables, context: &Context, out: &mut String) -> usize {
    match chars.get(index + 1).copied() {
        Some('(') => {
            let end = substitution_end(chars, index + 2);
            let command: String = chars[index + 2..end.saturating_sub(1).max(index + 2)].iter().collect();
            out.push_str(&substitute(&command, context));
            end
        }
        Some('{') => {
            let end = closing(chars, index + 2, '}');
            let body: String = chars[index + 2..end.saturating_sub(1).max(index + 2)].iter().collect();
            let name_end = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
            let (name, modifier) = body.split_at(name_end);
            let value = variables.get(name).cloned().flatten();
            let default = modifier.strip_prefix(":-").or_else(|| modifier.strip_prefix('-'));
            match (value, default) {
                (Some(value), Some(_)) if !value.is_empty() || modifier.starts_with('-') => out.push_str(&value),
                (_, Some(default)) => out.push_str(&expand_word(default, variables, context)),
                (Some(value), None) if modifier.is_empty() => out.push_str(&value),
                _ => out.push(UNKNOWN),
            }
            end
        }
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            let mut end = index + 1;
            while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            let name: String = chars[index + 1..end].iter().collect();
            match variables.get(&name).cloned().flatten() {
                Some(value) => out.push_str(&value),
                None => out.push(UNKNOWN),
            }
            end
        }
        _ => {
            out.push('$');
            index + 1
        }
    }
}

/// Splits a `NAME=value` word into the variable name and raw value, or `None` for other words.
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((name, value))
}

/// Returns the output of a command substitution this reader can evaluate, else [`UNKNOWN`].
fn substitute(command: &str, context: &Context) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        ["uname", "-m"] | ["arch"] => context.machine.clone(),
        ["dpkg", "--print-architecture"] => context.docker_arch.clone(),
        _ => UNKNOWN.to_string(),
    }
}

/// An open `if`, `case` or loop.
#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// Whether the current branch runs.
    current: Reach,
    /// Whether an earlier branch ran, which rules out `elif`/`else`/later `case` arms.
    taken: Reach,
}

#[derive(Debug, PartialEq)]
enum FrameKind {
    If,
    /// `case WORD in`, with the expanded word, reading patterns until `)` when `in_patterns`.
    Case { word: String, in_patterns: bool, patterns: Vec<String> },
    Loop,
}

struct Reader<'a> {
    line: usize,
    frames: Vec<Frame>,
    /// Condition commands of an `if`/`elif` awaiting `then`, with the operator after each.
    condition: Option<Vec<(Vec<String>, Option<&'static str>)>>,
    /// Reach of the next command in the current and-or list.
    guard: Reach,
    installs: Vec<Install>,
    /// Dockerfile arguments and the shell variables the script has assigned so far.
    variables: Variables,
    context: &'a Context,
}

/// Lists the requirement files a script installs, with their reach.
pub fn installs(script: &str, line: usize, variables: &Variables, context: &Context) -> Vec<Install> {
    let tokens = split_raw(script);
    let mut reader = Reader {
        line,
        frames: Vec::new(),
        condition: None,
        guard: Reach::Yes,
        installs: Vec::new(),
        variables: variables.clone(),
        context,
    };

    let mut words: Vec<String> = Vec::new();
    for token in tokens.into_iter().chain([Token::Operator(";")]) {
        match token {
            Token::Word(word) => words.push(word),
            Token::Operator(operator) => {
                reader.command(std::mem::take(&mut words), operator);
            }
        }
    }
    reader.installs
}

impl Reader<'_> {
    fn reach(&self) -> Reach {
        self.frames.iter().fold(self.guard, |reach, frame| reach.and(frame.current))
    }

    /// Handles one simple command, written as `raw` words, followed by `operator`.
    fn command(&mut self, raw: Vec<String>, operator: &'static str) {
        if !raw.is_empty() && raw.iter().all(|word| assignment(word).is_some()) && self.condition.is_none() {
            self.assign(&raw, operator);
            if operator == ";;" {
                self.end_case_arm();
            }
            return;
        }
        let words: Vec<String> = raw.iter().map(|word| expand_word(word, &self.variables, self.context)).collect();
        if let Some(Frame { kind: FrameKind::Case { in_patterns: true, patterns, .. }, .. }) = self.frames.last_mut() {
            if operator == ")" {
                patterns.extend(words);
                self.start_case_arm();
                return;
            }
            if operator == "|" {
                patterns.extend(words);
                return;
            }
            if words.first().map(String::as_str) == Some("esac") {
                self.frames.pop();
                self.guard = Reach::Yes;
                return;
            }
            if words.is_empty() {
                return;
            }
        }
        if words.is_empty() {
            if operator == ";;" {
                self.end_case_arm();
            }
            return;
        }
        self.keyword_or_command(words, operator);
        if operator == ";;" {
            self.end_case_arm();
        }
    }

    fn keyword_or_command(&mut self, words: Vec<String>, operator: &'static str) {
        let first = words[0].as_str();
        let rest = words[1..].to_vec();
        match first {
            "if" => {
                self.frames.push(Frame { kind: FrameKind::If, current: Reach::No, taken: Reach::No });
                self.condition = Some(Vec::new());
                self.keyword_or_command_rest(rest, operator);
            }
            "elif" => {
                self.condition = Some(Vec::new());
                self.keyword_or_command_rest(rest, operator);
            }
            "then" => {
                let condition = self.condition.take().unwrap_or_default();
                let value = self.evaluate(&condition);
                if let Some(frame) = self.frames.last_mut() {
                    frame.current = frame.taken.not().and(value);
                    frame.taken = frame.taken.or(value);
                }
                self.guard = Reach::Yes;
                self.keyword_or_command_rest(rest, operator);
            }
            "else" => {
                if let Some(frame) = self.frames.last_mut() {
                    frame.current = frame.taken.not();
                    frame.taken = Reach::Yes;
                }
                self.guard = Reach::Yes;
                self.keyword_or_command_rest(rest, operator);
            }
            "fi" | "done" | "esac" => {
                self.frames.pop();
                self.guard = Reach::Yes;
                self.keyword_or_command_rest(rest, operator);
            }
            "case" => {
                let word = rest.first().cloned().unwrap_or_default();
                let patterns = rest.iter().skip_while(|word| *word != "in").skip(1).cloned().collect();
                self.frames.push(Frame {
                    kind: FrameKind::Case { word, in_patterns: true, patterns },
                    current: Reach::No,
                    taken: Reach::No,
                });
                if operator == ")" {
                    self.start_case_arm();
                }
            }
            "for" | "while" | "until" => {
                self.frames.push(Frame { kind: FrameKind::Loop, current: Reach::Maybe, taken: Reach::No });
            }
            "do" | "{" | "}" => self.keyword_or_command_rest(rest, operator),
            _ => {
                if let Some(condition) = &mut self.condition {
                    condition.push((words, Some(operator)));
                    return;
                }
                self.simple_command(&words, operator);
            }
        }
    }

    /// Sets shell variables from `NAME=value` words where the assignment runs; where it may
    /// run, the value becomes unknown.
    fn assign(&mut self, raw: &[String], operator: &'static str) {
        let reach = self.reach();
        for word in raw {
            let Some((name, value)) = assignment(word) else { continue };
            let value = expand_word(value, &self.variables, self.context);
            match reach {
                Reach::Yes => {
                    self.variables.insert(name.to_string(), Some(value));
                }
                Reach::Maybe => {
                    self.variables.insert(name.to_string(), Some(UNKNOWN.to_string()));
                }
                Reach::No => {}
            }
        }
        self.guard = match operator {
            "&&" | "|" => self.guard,
            "||" => self.guard.and(Reach::No),
            _ => Reach::Yes,
        };
    }

    fn keyword_or_command_rest(&mut self, rest: Vec<String>, operator: &'static str) {
        if !rest.is_empty() {
            self.keyword_or_command(rest, operator);
        } else if let Some(condition) = &mut self.condition {
            if let Some(last) = condition.last_mut() {
                last.1 = Some(operator);
            }
        }
    }

    fn start_case_arm(&mut self) {
        let Some(frame) = self.frames.last_mut() else { return };
        let FrameKind::Case { word, in_patterns, patterns } = &mut frame.kind else { return };
        let matched = patterns.iter().fold(Reach::No, |reach, pattern| reach.or(glob_match(pattern, word)));
        patterns.clear();
        *in_patterns = false;
        frame.current = frame.taken.not().and(matched);
        frame.taken = frame.taken.or(matched);
        self.guard = Reach::Yes;
    }

    fn end_case_arm(&mut self) {
        if let Some(Frame { kind: FrameKind::Case { in_patterns, .. }, current, .. }) = self.frames.last_mut() {
            *in_patterns = true;
            *current = Reach::No;
        }
        self.guard = Reach::Yes;
    }

    /// Evaluates an and-or list of test commands.
    fn evaluate(&self, condition: &[(Vec<String>, Option<&'static str>)]) -> Reach {
        let mut value: Option<Reach> = None;
        let mut pending: Option<&'static str> = None;
        for (words, operator) in condition {
            let this = test_value(words);
            value = Some(match (value, pending) {
                (None, _) => this,
                (Some(left), Some("||")) => left.or(this),
                (Some(left), _) => left.and(this),
            });
            pending = *operator;
        }
        value.unwrap_or(Reach::Maybe)
    }

    fn simple_command(&mut self, words: &[String], operator: &'static str) {
        let reach = self.reach();
        if matches!(words.first().map(String::as_str), Some("sh" | "bash")) && words.get(1).map(String::as_str) == Some("-c") {
            if let Some(script) = words.get(2) {
                let nested = installs(script, self.line, &self.variables, self.context);
                self.installs.extend(nested.into_iter().map(|install| Install { reach: install.reach.and(reach), ..install }));
            }
        }
        for path in installed_files(words) {
            self.installs.push(Install { path, line: self.line, reach });
        }

        let test = is_test(words).then(|| test_value(words));
        self.guard = match (operator, test) {
            ("&&", Some(value)) => self.guard.and(value),
            ("||", Some(value)) => self.guard.and(value.not()),
            ("&&", None) => self.guard,
            ("||", None) => self.guard.and(Reach::Maybe),
            ("|", _) => self.guard,
            _ => Reach::Yes,
        };
    }
}

fn is_test(words: &[String]) -> bool {
    let words: Vec<&str> = words.iter().map(String::as_str).skip_while(|word| *word == "!").collect();
    matches!(words.first(), Some(&"[") | Some(&"[[") | Some(&"test") | Some(&"true") | Some(&"false"))
}

/// Evaluates `[ A = B ]`, `[[ A == B ]]`, `test A != B`, `true` or `false`, possibly negated
/// with `!`; anything else is [`Reach::Maybe`].
fn test_value(words: &[String]) -> Reach {
    let negated = words.first().map(String::as_str) == Some("!");
    let words: Vec<&str> = words.iter().map(String::as_str).skip(usize::from(negated)).collect();
    let value = match words.as_slice() {
        ["true"] => Reach::Yes,
        ["false"] => Reach::No,
        ["[", left, operator, right, "]"] | ["test", left, operator, right] => compare(left, operator, right, false),
        ["[[", left, operator, right, "]]"] => compare(left, operator, right, true),
        _ => Reach::Maybe,
    };
    if negated {
        value.not()
    } else {
        value
    }
}

fn compare(left: &str, operator: &str, right: &str, pattern: bool) -> Reach {
    let equal = if pattern { glob_match(right, left) } else { exact(left, right) };
    match operator {
        "=" | "==" => equal,
        "!=" => equal.not(),
        _ => Reach::Maybe,
    }
}

fn exact(left: &str, right: &str) -> Reach {
    if left.contains(UNKNOWN) || right.contains(UNKNOWN) {
        Reach::Maybe
    } else {
        Reach::from_bool(left == right)
    }
}

/// Matches a shell pattern with `*` and `?` against a word.
fn glob_match(pattern: &str, word: &str) -> Reach {
    if pattern.contains(UNKNOWN) || word.contains(UNKNOWN) {
        return Reach::Maybe;
    }
    fn matches(pattern: &[char], word: &[char]) -> bool {
        match (pattern.first(), word.first()) {
            (None, None) => true,
            (Some('*'), _) => matches(&pattern[1..], word) || (!word.is_empty() && matches(pattern, &word[1..])),
            (Some('?'), Some(_)) => matches(&pattern[1..], &word[1..]),
            (Some(p), Some(w)) if p == w => matches(&pattern[1..], &word[1..]),
            _ => false,
        }
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let word: Vec<char> = word.chars().collect();
    Reach::from_bool(matches(&pattern, &word))
}

/// Lists the requirement files a simple command installs: `-r FILE` of `pip install` (also `pip3`,
/// `python -m pip`, `uv pip install`), and the files of `pip-sync` or `uv pip sync`.
fn installed_files(words: &[String]) -> Vec<String> {
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let program = |word: &str| word.rsplit('/').next().unwrap_or(word).to_string();
    let is_pip = |word: &str| {
        let name = program(word);
        name == "pip" || name.strip_prefix("pip").is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };

    let mut files = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let after = &words[index + 1..];
        if program(word) == "pip-sync" {
            files.extend(after.iter().filter(|word| !word.starts_with('-')).map(|word| word.to_string()));
            break;
        }
        if !is_pip(word) {
            continue;
        }
        let Some(subcommand) = after.iter().position(|word| !word.starts_with('-')) else { break };
        let arguments = &after[subcommand + 1..];
        match after[subcommand] {
            "install" => files.extend(requirement_options(arguments)),
            "sync" if index > 0 && program(words[index - 1]) == "uv" => {
                files.extend(arguments.iter().filter(|word| !word.starts_with('-')).map(|word| word.to_string()));
            }
            _ => {}
        }
        break;
    }
    files
}

fn requirement_options(arguments: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    let mut index = 0;
    while index < arguments.len() {
        let word = arguments[index];
        index += 1;
        if word == "-r" || word == "--requirement" {
            if let Some(file) = arguments.get(index) {
                files.push(file.to_string());
                index += 1;
            }
        } else if let Some(file) = word.strip_prefix("--requirement=") {
            files.push(file.to_string());
        } else if let Some(file) = word.strip_prefix("-r").filter(|file| !file.is_empty() && !word.starts_with("--")) {
            files.push(file.to_string());
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context { machine: "x86_64".into(), docker_arch: "amd64".into() }
    }

    fn reaches(script: &str) -> Vec<(String, Reach)> {
        let mut variables = Variables::new();
        variables.insert("TARGETARCH".into(), Some("amd64".into()));
        installs(script, 1, &variables, &context()).into_iter().map(|i| (i.path, i.reach)).collect()
    }

    #[test]
    fn elif_chain_takes_one_branch() {
        let found = reaches(
            "if [ \"$TARGETARCH\" = arm64 ]; then pip install -r a.txt; elif [ \"$TARGETARCH\" = amd64 ]; then pip install -r b.txt; else pip install -r c.txt; fi",
        );
        assert_eq!(found, [("a.txt".into(), Reach::No), ("b.txt".into(), Reach::Yes), ("c.txt".into(), Reach::No)]);
    }

    #[test]
    fn negated_test_and_or_guard() {
        let found = reaches("[ \"$TARGETARCH\" != amd64 ] || pip install -r a.txt; ! test $TARGETARCH = amd64 && pip install -r b.txt");
        assert_eq!(found, [("a.txt".into(), Reach::Yes), ("b.txt".into(), Reach::No)]);
    }

    #[test]
    fn unknown_variable_unresolved() {
        let found = reaches("pip install -r \"$LOCKFILE\"");
        assert_eq!(found[0].0, UNKNOWN.to_string());
        assert_eq!(found[0].1, Reach::Yes);
    }

    #[test]
    fn pip_forms_recognized() {
        let words = |text: &str| -> Vec<String> {
            let variables = Variables::new();
            split_words(text).iter().map(|word| expand_word(word, &variables, &context())).collect()
        };
        assert_eq!(installed_files(&words("python3 -m pip --no-cache-dir install --requirement=x.txt -r y.txt")), ["x.txt", "y.txt"]);
        assert_eq!(installed_files(&words("uv pip sync --system lock.txt")), ["lock.txt"]);
        assert_eq!(installed_files(&words("/usr/bin/pip3.11 install -rlock.txt")), ["lock.txt"]);
        assert!(installed_files(&words("pip download -r lock.txt")).is_empty());
        assert!(installed_files(&words("pipx install -r lock.txt")).is_empty());
    }

    #[test]
    fn nested_shell_script() {
        let found = reaches("bash -c 'if [ $(dpkg --print-architecture) = amd64 ]; then pip install -r a.txt; fi'");
        assert_eq!(found, [("a.txt".into(), Reach::Yes)]);
    }
}
