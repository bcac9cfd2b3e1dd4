//! Splits a command line into words the way a POSIX shell quotes them, so that
//! the command can be run *without* a shell.
//!
//! Quoting only: `'...'`, `"..."` (with `\"`, `\\`, `\$`, `` \` `` escapes) and
//! backslash outside quotes. Unquoted shell syntax that would need a shell to
//! mean anything (`|`, `;`, `&`, `<`, `>`, `(`, `)`, `$`, backtick) is refused
//! with an error instead of being passed on as a literal word, so that a user
//! who wrote `restart.sh > log` learns it at configuration time, not at 3 a.m.

pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated ' quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some('\n') => {}
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err("unterminated \" quote".into()),
                        },
                        Some(c @ ('$' | '`')) => {
                            return Err(format!(
                                "{c:?} inside double quotes needs a shell; selfheal runs none \
                                 (use single quotes, or `sh -c '...'`)"
                            ))
                        }
                        Some(c) => word.push(c),
                        None => return Err("unterminated \" quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => return Err("trailing backslash".into()),
            },
            '|' | ';' | '&' | '<' | '>' | '(' | ')' | '$' | '`' => {
                return Err(format!(
                    "{c:?} is shell syntax and selfheal runs no shell \
                     (quote it, put the commands in a script, or use `sh -c '...'`)"
                ))
            }
            '#' if !in_word => break,
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Quotes words for display so that a human can paste them into a shell.
pub fn join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let safe = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
            if safe {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Vec<String> {
        split(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            ok("openclaw gateway restart"),
            ["openclaw", "gateway", "restart"]
        );
        assert_eq!(ok("  a\t b  "), ["a", "b"]);
        assert_eq!(ok("a 'b c' \"d e\" f\\ g"), ["a", "b c", "d e", "f g"]);
        assert_eq!(ok("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(ok("a '' b"), ["a", "", "b"]);
        assert_eq!(ok("sh -c 'x | y; $HOME'"), ["sh", "-c", "x | y; $HOME"]);
        assert_eq!(ok("a \"\\\"q\\\" \\n\""), ["a", "\"q\" \\n"]);
        assert_eq!(ok("a # comment"), ["a"]);
        assert_eq!(ok("a#b"), ["a#b"]);
        assert!(ok("").is_empty());
    }

    #[test]
    fn refuses_what_needs_a_shell() {
        for bad in [
            "a | b",
            "a; b",
            "a > f",
            "$(rm -rf ~)",
            "`id`",
            "a && b",
            "\"$HOME\"",
            "'open",
            "\"open",
            "a\\",
        ] {
            assert!(split(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn join_round_trips() {
        for line in ["a 'b c' d", "x \"it's\" y", "e ''"] {
            let words = ok(line);
            assert_eq!(ok(&join(&words)), words);
        }
    }
}
