//! Splitting a requirements file into logical lines the way pip does: backslash continuations
//! are joined, and `#` starts a comment at the start of a line or after whitespace.

/// One logical line: physical lines joined across trailing backslashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// 1-based number of the first physical line.
    pub line: usize,
    /// Content without the comment, trimmed; empty for comment-only and blank lines.
    pub content: String,
    /// Comment text after `#`, without the `#`.
    pub comment: Option<String>,
}

/// Splits `text` into logical lines, dropping blank ones.
///
/// As in pip, a comment line ends a continuation, and a continued line's comment is removed
/// before the next physical line is appended.
pub fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut result = Vec::new();
    let mut pending: Option<(usize, String)> = None;

    for (index, physical) in text.lines().enumerate() {
        let number = index + 1;
        let (content, comment) = split_comment(physical);

        if content.trim().is_empty() && comment.is_some() {
            if let Some((line, joined)) = pending.take() {
                push(&mut result, line, joined, None);
            }
            push(&mut result, number, String::new(), comment);
            continue;
        }

        let (content, continues) = match content.trim_end().strip_suffix('\\') {
            Some(stripped) => (stripped.to_string(), true),
            None => (content.to_string(), false),
        };
        let (line, mut joined) = pending.take().unwrap_or((number, String::new()));
        joined.push_str(&content);
        if continues && comment.is_none() {
            pending = Some((line, joined));
        } else {
            push(&mut result, line, joined, comment);
        }
    }
    if let Some((line, joined)) = pending {
        push(&mut result, line, joined, None);
    }
    result
}

fn push(result: &mut Vec<LogicalLine>, line: usize, content: String, comment: Option<String>) {
    let content = content.trim().to_string();
    if content.is_empty() && comment.is_none() {
        return;
    }
    result.push(LogicalLine { line, content, comment });
}

/// Splits a physical line at its comment: a `#` at the start or preceded by whitespace.
pub fn split_comment(line: &str) -> (&str, Option<String>) {
    let bytes = line.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'#' && (index == 0 || bytes[index - 1].is_ascii_whitespace()) {
            return (&line[..index], Some(line[index + 1..].to_string()));
        }
    }
    (line, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_comment_split() {
        let lines = logical_lines("pynvml==11.5.0 # For cuda utilization\n");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].content, "pynvml==11.5.0");
        assert_eq!(lines[0].comment.as_deref(), Some(" For cuda utilization"));
    }

    #[test]
    fn hash_inside_url_is_not_comment() {
        let lines = logical_lines("pkg @ https://host/pkg.whl#sha256=abc\n");
        assert_eq!(lines[0].content, "pkg @ https://host/pkg.whl#sha256=abc");
        assert_eq!(lines[0].comment, None);
    }

    #[test]
    fn continuation_joins_and_keeps_first_line() {
        let text = "\nfoo==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\nbar==2\n";
        let lines = logical_lines(text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].line, 2);
        assert_eq!(lines[0].content, "foo==1.0     --hash=sha256:aa     --hash=sha256:bb");
        assert_eq!(lines[1].line, 5);
    }

    #[test]
    fn comment_line_ends_continuation() {
        let lines = logical_lines("foo==1.0 \\\n# note\nbar==2\n");
        assert_eq!(lines[0].content, "foo==1.0");
        assert_eq!(lines[1].comment.as_deref(), Some(" note"));
        assert_eq!(lines[2].content, "bar==2");
    }

    #[test]
    fn continuation_at_end_of_file() {
        let lines = logical_lines("foo==1.0 \\");
        assert_eq!(lines[0].content, "foo==1.0");
    }
}
