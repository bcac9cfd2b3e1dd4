//! Redaction of secrets before anything is logged, printed or recorded.
//!
//! Webhook URLs carry their token in the path, heartbeat URLs in a UUID, bot
//! tokens in the path of the Telegram API: all that may ever be shown of them
//! is the scheme and host. Ordinary URLs (the probed service) keep their path
//! but lose user info and query, where tokens tend to live.

/// `https://discord.com/api/webhooks/1/abc` → `https://discord.com/…`
pub fn secret_url(url: &str) -> String {
    let (scheme, rest) = split_scheme(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    format!("{scheme}{host}/…")
}

/// Removes user info and the query: `http://u:p@h/x?token=1` → `http://h/x?…`
pub fn url(url: &str) -> String {
    let (scheme, rest) = split_scheme(url);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest[..end].rsplit('@').next().unwrap_or("");
    let tail = &rest[end..];
    let (path, had_query) = match tail.find(['?', '#']) {
        Some(i) => (&tail[..i], true),
        None => (tail, false),
    };
    format!("{scheme}{host}{path}{}", if had_query { "?…" } else { "" })
}

fn split_scheme(url: &str) -> (&str, &str) {
    match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    }
}

/// Replaces every occurrence of any of `secrets` in `text` (for text that
/// comes from outside, such as a command's output, that might echo one).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(*s) {
            out = out.replace(*s, "<redacted>");
        }
    }
    out
}

/// Names under which secrets appear in logs and config files.
/// (Not a bare `key`: "Unrecognized key: \"port\"" is the cause, not a secret.)
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "privatekey",
    "private_key",
    "auth",
    "bearer",
    "webhook",
];

/// Masks what looks like a secret in text from outside (a service's log): the
/// value after a secret-looking name (`token=…`, `"apiKey": "…"`, `Bearer …`)
/// and provider keys (`sk-…`). For text selfheal did not write, on top of
/// `scrub` (which removes the configured secrets exactly).
pub fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, value, after)) = next_secret(rest) {
        out.push_str(before);
        out.push_str(if value.is_empty() { "" } else { "<redacted>" });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The first secret value in `text`: (text before it, the value, text after).
fn next_secret(text: &str) -> Option<(&str, &str, &str)> {
    let lower = text.to_ascii_lowercase();
    let key_char = |c: char| c.is_ascii_alphanumeric() || "-_./+=:~".contains(c);
    let mut best: Option<(usize, usize)> = None;
    let mut consider = |start: usize, end: usize| {
        if end > start && best.is_none_or(|(b, _)| start < b) {
            best = Some((start, end));
        }
    };
    // Provider keys anywhere: `sk-…` (OpenAI, Anthropic), `AKIA…`/`ASIA…`
    // (AWS access key ids), `ghp_…`/`github_pat_…`, `xox?-…` (Slack).
    for prefix in [
        "sk-",
        "akia",
        "asia",
        "ghp_",
        "github_pat_",
        "xoxb-",
        "xoxp-",
    ] {
        if let Some(i) = lower.find(prefix) {
            let len = text[i..]
                .find(|c: char| !key_char(c))
                .unwrap_or(text.len() - i);
            if len >= 12 {
                consider(i, i + len);
            }
        }
    }
    // The user info of a URL: `https://user:pass@host`.
    if let Some(i) = text.find("://") {
        let auth_end = text[i + 3..]
            .find(['/', ' ', '"', '\'', '?', '#'])
            .map_or(text.len(), |n| i + 3 + n);
        if let Some(at) = text[i + 3..auth_end].rfind('@') {
            consider(i + 3, i + 3 + at);
        }
    }
    for word in SECRET_WORDS {
        let mut from = 0;
        while let Some(at) = lower[from..].find(word) {
            let name_end = from + at + word.len();
            from = name_end;
            // The rest of the name (`apiKey`, `token_v2`), then `=`, `:`, quotes, spaces, tabs.
            let sep = text[name_end..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .map_or(text.len(), |n| name_end + n);
            let skip = |from: usize| {
                text[from..]
                    .find(|c: char| !matches!(c, '=' | ':' | '"' | '\'' | ' ' | '\t'))
                    .map_or(text.len(), |n| from + n)
            };
            let mut value_start = skip(sep);
            // `Authorization: Bearer <token>`: the scheme is not the secret.
            for scheme in ["bearer ", "basic "] {
                if lower[value_start..].starts_with(scheme) {
                    value_start = skip(value_start + scheme.len());
                }
            }
            let between = &text[sep..value_start];
            if between.is_empty() || !between.contains(['=', ':', ' ', '\t']) {
                continue;
            }
            // A quoted value runs to its closing quote (punctuation and all);
            // a bare one to the next space or separator.
            let len = match between.chars().last() {
                Some(q @ ('"' | '\'')) => text[value_start..]
                    .find(q)
                    .unwrap_or(text.len() - value_start),
                _ => text[value_start..]
                    .find(|c: char| c.is_whitespace() || "\"',;&)]}<>".contains(c))
                    .unwrap_or(text.len() - value_start),
            };
            if len >= 1 {
                consider(value_start, value_start + len);
            }
            break;
        }
    }
    let (start, end) = best?;
    Some((&text[..start], &text[start..end], &text[end..]))
}

/// `printable` for text of many lines: each line's control characters
/// made visible, the line breaks kept. Also the bidirectional overrides,
/// which reorder what a reader sees.
pub fn visible(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            printable(line)
                .chars()
                .map(|c| match c {
                    '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '\u{fffd}',
                    c => c,
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text from outside (a process's command line, a log line) made safe to
/// show on a terminal or in a message: control characters become visible
/// (`^[` for ESC, `\r`), so that none can move the cursor, hide a line or
/// inject one.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("^["),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(visible("a\u{1b}[K\nb\u{202e}c"), "a^[[K\nb\u{fffd}c");
        assert_eq!(printable("a\u{1b}[2Kb\rc\u{7}"), "a^[[2Kb\\rc\\u{7}");
        assert_eq!(printable("plain text"), "plain text");
    }

    #[test]
    fn secret_shapes_are_masked() {
        for (text, secret) in [
            ("password=p@ss!w0rd#1 next", "p@ss!w0rd#1"),
            ("\"password\": \"a, b; c\"", "a, b; c"),
            ("token:\tshort", "short"),
            ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
            ("url https://admin:hunter2@example.org/x", "admin:hunter2"),
            ("secret: x", "x"),
            (
                "apiKey = \"sk-ant-0123456789abcdef\"",
                "sk-ant-0123456789abcdef",
            ),
        ] {
            let masked = mask_secrets(text);
            assert!(!masked.contains(secret), "{text} -> {masked}");
            assert!(masked.contains("<redacted>"), "{text} -> {masked}");
        }
        // Not a secret: the cause of an OpenClaw config error.
        let cause = "gateway: Unrecognized key: \"bogusKey\"";
        assert_eq!(mask_secrets(cause), cause);
    }

    #[test]
    fn secrets_in_log_lines_are_masked() {
        for (line, secret) in [
            ("auth failed: token=abcdef123456 for user", "abcdef123456"),
            (r#"{"apiKey": "AbCdEf0123456789"}"#, "AbCdEf0123456789"),
            ("Authorization: Bearer eyJhbGciOi.x.y", "eyJhbGciOi.x.y"),
            (
                "anthropic 401 with key sk-ant-api03-XYZxyz0123",
                "sk-ant-api03-XYZxyz0123",
            ),
            (
                "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/1/zz",
                "discord.com",
            ),
        ] {
            let masked = mask_secrets(line);
            assert!(!masked.contains(secret), "{line} -> {masked}");
            assert!(masked.contains("<redacted>"), "{masked}");
        }
        let plain = "Gateway failed to start: gateway: Unrecognized key: \"bogusKey\"";
        assert_eq!(mask_secrets(plain), plain);
    }

    #[test]
    fn secret_urls_keep_only_the_host() {
        assert_eq!(
            secret_url("https://discord.com/api/webhooks/123/SECRET"),
            "https://discord.com/…"
        );
        assert_eq!(
            secret_url("https://u:p@hc-ping.com/uuid"),
            "https://hc-ping.com/…"
        );
        assert_eq!(secret_url("weird"), "weird/…");
    }

    #[test]
    fn urls_lose_userinfo_and_query() {
        assert_eq!(url("http://localhost:18789/"), "http://localhost:18789/");
        assert_eq!(url("http://u:p@h:1/x?token=1#f"), "http://h:1/x?…");
        assert_eq!(url("http://h"), "http://h");
    }

    #[test]
    fn scrub_replaces_secrets() {
        assert_eq!(
            scrub("key sk-123456 end", &["sk-123456", ""]),
            "key <redacted> end"
        );
    }
}
