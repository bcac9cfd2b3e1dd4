//! Parser for the `KEY=VALUE` env file shared with OpenClaw.
//!
//! Pure: bytes in, entries and problems out. It never executes, expands or
//! looks anything up; `$(...)`, backticks and `$VAR` stay literal text. The
//! only expansion selfheal does (a leading `~/`) happens in `config`, which
//! also decides which problems are fatal (those on keys selfheal reads).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    /// 1-based line number, for error messages.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    /// The key the line was meant to set, when one could be read.
    pub key: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

/// Parses an env file. Accepts a UTF-8 BOM, CRLF line ends, `export KEY=...`,
/// `#` comments (whole-line, or after whitespace in an unquoted value), and
/// values in matching single or double quotes.
pub fn parse(bytes: &[u8]) -> Parsed {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut parsed = Parsed::default();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = String::from_utf8_lossy(raw);
        match parse_line(&text) {
            Ok(None) => {}
            Ok(Some((key, value))) => {
                if matches!(text, std::borrow::Cow::Owned(_)) {
                    parsed.problems.push(Problem {
                        line,
                        key: Some(key),
                        reason: "value is not valid UTF-8".into(),
                    });
                } else {
                    parsed.entries.push(Entry { key, value, line });
                }
            }
            Err((key, reason)) => parsed.problems.push(Problem { line, key, reason }),
        }
    }
    parsed
}

type LineResult = Result<Option<(String, String)>, (Option<String>, String)>;

fn parse_line(text: &str) -> LineResult {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let text = match text.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => text,
    };
    let Some((key, rest)) = text.split_once('=') else {
        let word = text.split_whitespace().next().unwrap_or("").to_string();
        return Err((
            valid_key(&word).then_some(word),
            "expected KEY=VALUE".into(),
        ));
    };
    let key = key.trim_end();
    if !valid_key(key) {
        return Err((None, format!("{key:?} is not a valid variable name")));
    }
    let key = key.to_string();
    match parse_value(rest.trim_start()) {
        Ok(value) => Ok(Some((key, value))),
        Err(reason) => Err((Some(key), reason)),
    }
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn parse_value(rest: &str) -> Result<String, String> {
    let mut chars = rest.char_indices();
    let quote = match chars.next() {
        None => return Ok(String::new()),
        Some((_, q @ ('"' | '\''))) => q,
        Some(_) => return Ok(unquoted(rest)),
    };
    let mut value = String::new();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            let tail = rest[i + 1..].trim();
            if tail.is_empty() || tail.starts_with('#') {
                return Ok(value);
            }
            let other = if quote == '"' { '\'' } else { '"' };
            // No part of the value: it may be a secret, and the message
            // goes to stderr (cron mails it) and the log.
            return Err(format!(
                "unexpected text after the closing {quote} (to keep the quotes in the value, \
                 wrap the whole value in {other} quotes)"
            ));
        }
        if c == '\\' && quote == '"' {
            // The escapes bash honours inside double quotes; other
            // backslashes stay, as they do in bash.
            if let Some((_, e @ ('"' | '\\' | '$' | '`'))) = chars.clone().next() {
                chars.next();
                value.push(e);
                continue;
            }
        }
        value.push(c);
    }
    Err(format!("unterminated {quote} quote"))
}

/// An unquoted value ends at a `#` that follows whitespace (a comment).
fn unquoted(rest: &str) -> String {
    let mut end = rest.len();
    let bytes = rest.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
            end = i;
            break;
        }
    }
    rest[..end].trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (String, String) {
        let p = parse(text.as_bytes());
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.entries.len(), 1, "{:?}", p.entries);
        (p.entries[0].key.clone(), p.entries[0].value.clone())
    }

    #[test]
    fn plain_export_quotes_comments() {
        assert_eq!(one("A=b"), ("A".into(), "b".into()));
        assert_eq!(one("export A=b"), ("A".into(), "b".into()));
        assert_eq!(one("  A = b  "), ("A".into(), "b".into()));
        assert_eq!(one("A=\"b c\""), ("A".into(), "b c".into()));
        assert_eq!(one("A='b \"c\"'"), ("A".into(), "b \"c\"".into()));
        assert_eq!(one("A=b # note"), ("A".into(), "b".into()));
        assert_eq!(one("A=b#c"), ("A".into(), "b#c".into()));
        assert_eq!(one("A=\"b # c\" # note"), ("A".into(), "b # c".into()));
        assert_eq!(
            one("A=\"say \\\"hi\\\" \\n\""),
            ("A".into(), "say \"hi\" \\n".into())
        );
        assert_eq!(one("A="), ("A".into(), "".into()));
        assert_eq!(one("exporter=1"), ("exporter".into(), "1".into()));
    }

    #[test]
    fn bom_crlf_and_comments() {
        let p = parse(b"\xEF\xBB\xBF# c\r\nA=1\r\n\r\nB='2'\r\n");
        assert!(p.problems.is_empty());
        let kv: Vec<_> = p
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(kv, vec![("A", "1", 2), ("B", "2", 4)]);
    }

    #[test]
    fn shell_syntax_stays_literal() {
        assert_eq!(one("A=$(rm -rf ~)"), ("A".into(), "$(rm -rf ~)".into()));
        assert_eq!(one("A=`id`"), ("A".into(), "`id`".into()));
        assert_eq!(one("A=\"$HOME\""), ("A".into(), "$HOME".into()));
    }

    #[test]
    fn problems_name_line_and_key() {
        let p = parse(b"A=\"open\nnot a line\n1X=2\nB='x' y\nC=\xff\n");
        let got: Vec<_> = p
            .problems
            .iter()
            .map(|p| (p.line, p.key.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Some("A")),
                (2, Some("not")),
                (3, None),
                (4, Some("B")),
                (5, Some("C"))
            ]
        );
        assert!(p.entries.is_empty());
    }
}
