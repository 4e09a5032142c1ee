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
/// As pip 26's `join_lines` does, a physical line ending in a backslash continues onto the
/// next one, even after an inline comment, and a comment-only line ends a continuation. The
/// comment is removed from the joined line afterwards, so a backslash after `# note` makes the
/// next line part of the comment.
pub fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut result = Vec::new();
    let mut pending: Option<(usize, String)> = None;

    for (index, physical) in text.lines().enumerate() {
        let number = index + 1;
        let comment_only = physical.trim_start().starts_with('#');
        if physical.ends_with('\\') && !comment_only {
            let (_, joined) = pending.get_or_insert_with(|| (number, String::new()));
            joined.push_str(physical.trim_matches('\\'));
            continue;
        }
        match pending.take() {
            Some((line, mut joined)) => {
                if comment_only {
                    joined.push(' ');
                }
                joined.push_str(physical);
                push(&mut result, line, &joined);
            }
            None => push(&mut result, number, physical),
        }
    }
    if let Some((line, joined)) = pending {
        push(&mut result, line, &joined);
    }
    result
}

fn push(result: &mut Vec<LogicalLine>, line: usize, joined: &str) {
    let (content, comment) = split_comment(joined);
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
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].content, "foo==1.0");
        assert_eq!(lines[0].comment.as_deref(), Some(" note"));
        assert_eq!(lines[1].content, "bar==2");
        assert_eq!(lines[1].line, 3);
    }

    #[test]
    fn backslash_after_inline_comment_continues() {
        let lines = logical_lines("six==1.16.0 # note \\\nrequests==2.0\nidna==3.7\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].content, "six==1.16.0");
        assert_eq!(lines[1].content, "idna==3.7");
        assert_eq!(lines[1].line, 3);
    }

    #[test]
    fn trailing_space_after_backslash_ends_line() {
        let lines = logical_lines("six==1.16.0 \\ \nidna==3.7\n");
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn continuation_at_end_of_file() {
        let lines = logical_lines("foo==1.0 \\");
        assert_eq!(lines[0].content, "foo==1.0");
    }
}
