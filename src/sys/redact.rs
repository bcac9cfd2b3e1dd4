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

#[cfg(test)]
mod tests {
    use super::*;

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
