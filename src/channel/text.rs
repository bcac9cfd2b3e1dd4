//! Text for channels: a message shaped to a service's limit (long lines
//! cut first, so that the title and the commands survive), the escapes and
//! encodings some services need.

use super::Message;

/// Percent-encoding of everything but unreserved characters (RFC 3986).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The details and commands alone, for services that take the title in a
/// field of its own (ntfy, Pushover, Gotify).
pub(super) fn untitled(msg: &Message, limit: Option<usize>) -> String {
    let body = Message {
        title: String::new(),
        ..msg.clone()
    };
    shape(&body, false, limit)
}

/// Title, details, commands; details cut (with "…") to fit `limit`.
pub(super) fn shape(msg: &Message, markdown: bool, limit: Option<usize>) -> String {
    let title = if markdown && !msg.title.is_empty() {
        format!("**{}**", msg.title)
    } else {
        msg.title.clone()
    };
    let commands = match (msg.commands.split_first(), markdown) {
        (None, _) => String::new(),
        (Some((head, cmds)), true) => format!("\n\n{head}\n```\n{}\n```", cmds.join("\n")),
        (Some(_), false) => format!("\n\n{}", msg.commands.join("\n")),
    };
    let join = |lines: &[String]| {
        if lines.is_empty() {
            String::new()
        } else {
            format!("\n\n{}", lines.join("\n"))
        }
    };
    let len = |s: &str| s.encode_utf16().count();
    let mut details = join(&msg.lines);
    let Some(limit) = limit else {
        return format!("{title}{details}{commands}");
    };
    let fixed = len(&title) + len(&commands);
    let room = limit.saturating_sub(fixed);
    if len(&details) <= room {
        return format!("{title}{details}{commands}");
    }
    // First shorten the long lines, so that every line keeps its head
    // (a huge command output must not push the other levels out)...
    let cap = (room / msg.lines.len().max(1)).max(80);
    let capped: Vec<String> = msg.lines.iter().map(|l| cut_to(l, cap)).collect();
    details = join(&capped);
    if len(&details) <= room {
        return format!("{title}{details}{commands}");
    }
    // ...then, if that is not enough, cut the end; and if the title and the
    // commands alone exceed a tiny limit, cut everything.
    let text = format!("{title}{}{commands}", cut_to(&details, room));
    cut_to(&text, limit)
}

/// `text` in at most `max` UTF-16 units, ending in "…" when cut.
pub fn cut_to(text: &str, max: usize) -> String {
    if text.encode_utf16().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 1;
    for c in text.chars() {
        used += c.len_utf16();
        if used > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Discord's Markdown made literal where it could mislead: a backslash
/// before what starts a masked link (`[reset your key](https://…)` would
/// show as a link that hides its target), a mention or timestamp (`<`), a
/// spoiler (`|`), code, emphasis (`*`, `~`), and a heading or quote
/// at the start of a line. Discord shows escaped text exactly as it
/// was; `_` and parentheses, common in names and harmless, stay as they are.
pub(super) fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let body = line.trim_start();
        out.push_str(&line[..line.len() - body.len()]);
        if body.starts_with('#') {
            out.push('\\');
        }
        for c in body.chars() {
            if "\\[]<>|`*~".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Slack's three control characters.
pub(super) fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// HTTP header values must be visible ASCII: non-ASCII text goes as an
/// RFC 2047 encoded word, which ntfy decodes.
pub(super) fn header_text(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", base64(text.as_bytes()))
    }
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{render, Facts};
    use crate::kind::Kind;

    fn message(detail: &str) -> Message {
        let facts = Facts {
            host: "mini".into(),
            url: "http://localhost:18789/".into(),
            status: "000".into(),
            reason: detail.into(),
            commands: vec!["openclaw status".into(), "openclaw gateway restart".into()],
            ..Facts::default()
        };
        render(Kind::Failed, &facts, crate::key::values::Lang::En)
    }

    #[test]
    fn long_details_are_cut_and_commands_survive() {
        let m = message(&"x".repeat(10_000));
        for (limit, markdown) in [(2000, true), (4096, false)] {
            let text = shape(&m, markdown, Some(limit));
            assert!(text.encode_utf16().count() <= limit, "{limit}");
            assert!(text.contains('…'));
            assert!(
                text.trim_end_matches("\n```")
                    .ends_with("openclaw gateway restart"),
                "{text}"
            );
            assert!(text.contains("every automatic recovery failed"));
        }
        let korean = message(&"장애".repeat(5000));
        assert!(shape(&korean, true, Some(2000)).encode_utf16().count() <= 2000);
    }

    #[test]
    fn short_messages_are_whole() {
        let m = message("connection refused");
        assert_eq!(shape(&m, false, Some(4096)), m.plain());
    }

    #[test]
    fn base64_and_headers() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(header_text("plain"), "plain");
        assert!(header_text("✅ ok").starts_with("=?UTF-8?B?"));
    }

    #[test]
    fn discord_markup_from_outside_is_made_literal() {
        assert_eq!(
            markdown_escape("see [docs](https://x.example) ||hidden|| <@123>"),
            "see \\[docs\\](https://x.example) \\|\\|hidden\\|\\| \\<@123\\>"
        );
        assert_eq!(markdown_escape("# big\n  > quote"), "\\# big\n  \\> quote");
        assert_eq!(
            markdown_escape("SELFHEAL_AGENT_CMD (x)"),
            "SELFHEAL_AGENT_CMD (x)"
        );
    }
}
