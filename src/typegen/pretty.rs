//! Lays out a declaration as ts-rs writes it (on one line, doc comments on lines of
//! their own): an object with several fields or a doc comment gets a field per line,
//! indented; small objects stay inline.

/// One piece of a declaration: `{`, `}`, `,`, a doc comment, or the text between
/// them (string literals kept whole, so a brace or comma in one is text).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'a> {
    Open,
    Close,
    Comma,
    Comment(&'a str),
    Text(&'a str),
}

fn tokens(decl: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let (mut start, mut rest) = (0, decl);
    while let Some(c) = rest.chars().next() {
        let at = decl.len() - rest.len();
        let (token, len) = match c {
            '{' => (Some(Token::Open), 1),
            '}' => (Some(Token::Close), 1),
            ',' => (Some(Token::Comma), 1),
            '/' if rest.starts_with("/**") => {
                let len = rest.find("*/").map_or(rest.len(), |end| end + 2);
                (Some(Token::Comment(&rest[..len])), len)
            }
            '"' => (None, rest[1..].find('"').map_or(rest.len(), |end| end + 2)),
            c => (None, c.len_utf8()),
        };
        if let Some(token) = token {
            if start < at {
                out.push(Token::Text(&decl[start..at]));
            }
            out.push(token);
            start = at + len;
        }
        rest = &rest[len..];
    }
    if start < decl.len() {
        out.push(Token::Text(&decl[start..]));
    }
    out
}

/// Whether the object whose fields begin `after` its `{` gets a line per field: it
/// has a doc comment, or a comma between two fields (outside `<…>`).
fn expands(after: &[Token]) -> bool {
    let (mut depth, mut angle) = (0, 0);
    for (i, token) in after.iter().enumerate() {
        match token {
            Token::Open => depth += 1,
            Token::Close if depth == 0 => return false,
            Token::Close => depth -= 1,
            Token::Comment(_) if depth == 0 => return true,
            Token::Comma if depth == 0 && angle == 0 => {
                let next = after[i + 1..].iter().find(|t| **t != Token::Text(" "));
                if next.is_some_and(|t| *t != Token::Close) {
                    return true;
                }
            }
            Token::Text(text) => angle += nesting(text),
            _ => {}
        }
    }
    false
}

/// How many `<` more than `>` `text` opens.
fn nesting(text: &str) -> i32 {
    text.chars()
        .map(|c| match c {
            '<' => 1,
            '>' => -1,
            _ => 0,
        })
        .sum()
}

/// The lines being written and the open objects.
#[derive(Default)]
struct Layout {
    lines: Vec<String>,
    line: String,
    /// Per open `{`: whether it expands, and the `<…>` depth it opened at.
    open: Vec<(bool, i32)>,
    angle: i32,
}

impl Layout {
    fn indent(&self) -> String {
        "  ".repeat(self.open.iter().filter(|(expanded, _)| *expanded).count())
    }

    fn flush(&mut self) {
        let line = std::mem::take(&mut self.line);
        if !line.trim().is_empty() {
            self.lines.push(line.trim_end().to_string());
        }
    }

    fn text(&mut self, text: &str) {
        let text = text.replace('\n', "");
        self.angle += nesting(&text);
        if self.line.trim().is_empty() {
            self.line = self.indent() + text.trim_start();
        } else {
            self.line.push_str(&text);
        }
    }

    /// A doc comment on lines of its own: `/** text */` when its text is one line.
    fn comment(&mut self, comment: &str) {
        self.flush();
        let indent = self.indent();
        let text: Vec<&str> = (comment.lines().map(str::trim))
            .filter(|line| *line != "/**" && *line != "*/")
            .map(|line| line.trim_start_matches('*').trim_start())
            .collect();
        match text[..] {
            [one] => self.lines.push(format!("{indent}/** {one} */")),
            _ => {
                self.lines.push(format!("{indent}/**"));
                for line in text {
                    self.lines
                        .push(format!("{indent} * {line}").trim_end().to_string());
                }
                self.lines.push(format!("{indent} */"));
            }
        }
    }
}

/// `decl` laid out on lines, ending with a newline.
pub fn pretty(decl: &str) -> String {
    let tokens = tokens(decl);
    let mut out = Layout::default();
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            Token::Open => {
                let expand = expands(&tokens[i + 1..]);
                out.text("{");
                out.open.push((expand, out.angle));
                if expand {
                    out.flush();
                }
            }
            Token::Close => match out.open.pop() {
                Some((true, _)) => {
                    out.flush();
                    out.line = out.indent() + "}";
                }
                _ => {
                    let kept = out.line.trim_end().trim_end_matches(',').trim_end().len();
                    out.line.truncate(kept);
                    out.line.push_str(" }");
                }
            },
            Token::Comma => {
                out.line.push(',');
                if out.open.last() == Some(&(true, out.angle)) {
                    out.flush();
                }
            }
            Token::Comment(comment) => out.comment(comment),
            Token::Text(text) => out.text(text),
        }
    }
    out.flush();
    out.lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::pretty;

    #[test]
    fn objects_with_fields_or_docs_get_a_line_per_field() {
        let decl = "type F = { \"type\": \"text\" } | { \"type\": \"json\", \n/**\n * The \
                    schema, {a, b}.\n */\nschema?: Record<string, unknown>, m: { [key in \
                    string]: number }, n: { a: 1, }, };";
        let want = "type F = { \"type\": \"text\" } | {\n  \"type\": \"json\",\n  /** \
                    The schema, {a, b}. */\n  schema?: Record<string, unknown>,\n  m: { \
                    [key in string]: number },\n  n: { a: 1 },\n};\n";
        assert_eq!(pretty(decl), want);
    }
}
