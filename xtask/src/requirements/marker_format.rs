//! Markers printed the way pip-compile prints them: packaging's `Marker.__str__`
//! (`_format_marker` in packaging 24 to 26), which pip-compile 7.7 writes after ` ; `.
//!
//! Values are double-quoted, operators and keywords separated by single spaces, legacy
//! variable names (`os.name`, `python_implementation`) replaced by their PEP 508 names, and
//! parentheses kept only around groups of more than one comparison.

/// A token of a marker expression.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A quoted value, without its quotes.
    Value(String),
    /// A variable name, an operator or a keyword.
    Word(String),
    Open,
    Close,
}

/// A parsed marker: comparisons and groups joined by `and`/`or`, as packaging's nested lists.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Comparison(String),
    Keyword(String),
    Group(Vec<Node>),
}

/// Formats a marker as packaging prints it, or returns the trimmed input unchanged when it
/// cannot be tokenized (the PEP 508 parser has already accepted it, so that does not happen
/// for markers read from requirements files).
pub fn normalize_marker_text(marker: &str) -> String {
    let Some(tokens) = tokenize(marker) else { return marker.trim().to_string() };
    let mut position = 0;
    let Some(nodes) = parse_list(&tokens, &mut position) else { return marker.trim().to_string() };
    if position != tokens.len() {
        return marker.trim().to_string();
    }
    format_list(&nodes, true)
}

fn tokenize(marker: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = marker.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if c.is_whitespace() {
            index += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[index + 1..].iter().position(|&next| next == c)? + index + 1;
            tokens.push(Token::Value(chars[index + 1..end].iter().collect()));
            index = end + 1;
        } else if c == '(' {
            tokens.push(Token::Open);
            index += 1;
        } else if c == ')' {
            tokens.push(Token::Close);
            index += 1;
        } else if "=!<>~".contains(c) {
            let end = chars[index..].iter().position(|next| !"=!<>~".contains(*next)).map_or(chars.len(), |offset| index + offset);
            tokens.push(Token::Word(chars[index..end].iter().collect()));
            index = end;
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let end = chars[index..]
                .iter()
                .position(|next| !(next.is_alphanumeric() || *next == '_' || *next == '.'))
                .map_or(chars.len(), |offset| index + offset);
            tokens.push(Token::Word(chars[index..end].iter().collect()));
            index = end;
        } else {
            return None;
        }
    }
    Some(tokens)
}

/// Parses `item (and|or item)*` up to a closing parenthesis or the end.
fn parse_list(tokens: &[Token], position: &mut usize) -> Option<Vec<Node>> {
    let mut nodes = vec![parse_item(tokens, position)?];
    while let Some(Token::Word(word)) = tokens.get(*position) {
        if word != "and" && word != "or" {
            return None;
        }
        nodes.push(Node::Keyword(word.clone()));
        *position += 1;
        nodes.push(parse_item(tokens, position)?);
    }
    Some(nodes)
}

fn parse_item(tokens: &[Token], position: &mut usize) -> Option<Node> {
    if tokens.get(*position) == Some(&Token::Open) {
        *position += 1;
        let inner = parse_list(tokens, position)?;
        if tokens.get(*position) != Some(&Token::Close) {
            return None;
        }
        *position += 1;
        return Some(Node::Group(inner));
    }
    let left = operand(tokens.get(*position)?)?;
    *position += 1;
    let mut operator = match tokens.get(*position)? {
        Token::Word(word) => word.clone(),
        _ => return None,
    };
    *position += 1;
    if operator == "not" {
        match tokens.get(*position)? {
            Token::Word(word) if word == "in" => operator = "not in".to_string(),
            _ => return None,
        }
        *position += 1;
    }
    let right = operand(tokens.get(*position)?)?;
    *position += 1;
    Some(Node::Comparison(format!("{left} {operator} {right}")))
}

fn operand(token: &Token) -> Option<String> {
    match token {
        Token::Value(value) => Some(format!("\"{value}\"")),
        Token::Word(name) => Some(canonical_variable(name)),
        _ => None,
    }
}

/// PEP 508 names for the legacy spellings packaging still accepts.
fn canonical_variable(name: &str) -> String {
    match name {
        "python_implementation" | "platform.python_implementation" => "platform_python_implementation".to_string(),
        other => other.replace('.', "_"),
    }
}

fn format_list(nodes: &[Node], first: bool) -> String {
    // As in packaging, a list of one element drops its parentheses and formats that element
    // as a top-level marker.
    if let [only] = nodes {
        match only {
            Node::Group(inner) => return format_list(inner, true),
            Node::Comparison(text) => return text.clone(),
            Node::Keyword(_) => {}
        }
    }
    let inner: Vec<String> = nodes.iter().map(format_node).collect();
    if first {
        inner.join(" ")
    } else {
        format!("({})", inner.join(" "))
    }
}

fn format_node(node: &Node) -> String {
    match node {
        Node::Comparison(text) | Node::Keyword(text) => text.clone(),
        Node::Group(inner) => format_list(inner, false),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_marker_text;

    #[test]
    fn formats_like_packaging() {
        let cases = [
            ("platform_machine=='aarch64'  or platform_machine == \"arm64\"", "platform_machine == \"aarch64\" or platform_machine == \"arm64\""),
            ("(python_version<'3.10' and sys_platform!='win32')", "python_version < \"3.10\" and sys_platform != \"win32\""),
            ("(platform_machine==\"x86_64\")", "platform_machine == \"x86_64\""),
            ("platform_machine=='x86_64' and (python_version>'3')", "platform_machine == \"x86_64\" and python_version > \"3\""),
            ("\"x86_64\"==platform_machine or(os_name=='nt' and python_version<'3.9')", "\"x86_64\" == platform_machine or (os_name == \"nt\" and python_version < \"3.9\")"),
            ("'linux' not  in sys_platform", "\"linux\" not in sys_platform"),
            ("os.name == 'posix'", "os_name == \"posix\""),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_marker_text(input), expected, "input: {input}");
        }
    }
}
