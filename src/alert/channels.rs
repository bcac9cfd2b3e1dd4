//! Level 4 delivery: every configured channel gets every message, each send
//! bounded, retried only when retrying can help, and never lost.
//!
//! Channels: Discord, Slack, Telegram, ntfy, generic JSON webhook, PagerDuty
//! (Events API v2), Pushover, Gotify, Matrix. Payloads are built with
//! serde_json and shaped per service (Discord ≤ 2000, Telegram ≤ 4096,
//! Pushover ≤ 1024 characters, PagerDuty's summary ≤ 1024; cut in the detail
//! lines so that the title and the commands at the end survive). PagerDuty
//! gets only what pages (trigger) and what ends it (resolve), with one dedup
//! key per host and service, so an incident is one PagerDuty incident. One attempt is bounded by
//! `SELFHEAL_ALERT_TIMEOUT`; 408, 429, 5xx and transport errors are retried
//! with backoff that honours `Retry-After`, Discord's `retry_after` and
//! Telegram's `parameters.retry_after`, within three attempt-timeouts per
//! message and channel; other 4xx (deleted webhook, wrong token, blocked bot)
//! are permanent. This module sends and classifies; the caller decides what
//! to queue, record and log. URLs with tokens are only shown redacted.

use std::io::Read;
use std::time::Duration;

use serde_json::{json, Value};

use crate::alert::{Kind, Message, Severity};
use crate::config::Config;
use crate::error::Result;
use crate::kind::Page;
use crate::sys::clock::Clock;
use crate::sys::redact;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Discord,
    Slack,
    Telegram,
    Ntfy,
    Webhook,
    PagerDuty,
    Pushover,
    Gotify,
    Matrix,
}

pub const ALL: [Channel; 9] = [
    Channel::Discord,
    Channel::Slack,
    Channel::Telegram,
    Channel::Ntfy,
    Channel::Webhook,
    Channel::PagerDuty,
    Channel::Pushover,
    Channel::Gotify,
    Channel::Matrix,
];

/// The keys that configure a channel, as a sentence's list.
pub const KEYS_HINT: &str = "DISCORD_WEBHOOK_URL, SLACK_WEBHOOK_URL, \
    TELEGRAM_BOT_TOKEN + TELEGRAM_CHAT_ID, NTFY_URL, SELFHEAL_WEBHOOK_URL, \
    PAGERDUTY_ROUTING_KEY, PUSHOVER_TOKEN + PUSHOVER_USER, GOTIFY_URL + GOTIFY_TOKEN \
    or MATRIX_HOMESERVER + MATRIX_ROOM_ID + MATRIX_ACCESS_TOKEN";

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Discord => "discord",
            Channel::Slack => "slack",
            Channel::Telegram => "telegram",
            Channel::Ntfy => "ntfy",
            Channel::Webhook => "webhook",
            Channel::PagerDuty => "pagerduty",
            Channel::Pushover => "pushover",
            Channel::Gotify => "gotify",
            Channel::Matrix => "matrix",
        }
    }

    /// Whether this channel takes `kind`: PagerDuty only what pages and what
    /// ends a page (an info digest must not open an incident there).
    pub fn takes(self, kind: Kind) -> bool {
        self != Channel::PagerDuty || pagerduty_action(kind).is_some()
    }

    pub fn from_name(name: &str) -> Option<Channel> {
        ALL.into_iter().find(|c| c.name() == name)
    }

    /// The endpoint, with its secret; never log it (use `shown_endpoint`).
    fn endpoint(self, config: &Config) -> Option<String> {
        match self {
            Channel::Discord => config
                .discord_webhook
                .as_ref()
                .map(|s| s.expose().to_string()),
            Channel::Slack => config
                .slack_webhook
                .as_ref()
                .map(|s| s.expose().to_string()),
            Channel::Telegram => config.telegram_token.as_ref().map(|t| {
                format!(
                    "{}/bot{}/sendMessage",
                    config.telegram_api.trim_end_matches('/'),
                    t.expose()
                )
            }),
            Channel::Ntfy => config.ntfy_url.as_ref().map(|s| s.expose().to_string()),
            Channel::Webhook => config.webhook_url.as_ref().map(|s| s.expose().to_string()),
            Channel::PagerDuty => config
                .pagerduty_key
                .as_ref()
                .map(|_| format!("{}/v2/enqueue", config.pagerduty_api.trim_end_matches('/'))),
            Channel::Pushover => config.pushover.as_ref().map(|_| {
                format!(
                    "{}/1/messages.json",
                    config.pushover_api.trim_end_matches('/')
                )
            }),
            Channel::Gotify => config
                .gotify
                .as_ref()
                .map(|(url, _)| format!("{}/message", url.trim_end_matches('/'))),
            // The transaction id is added per message (`Payload::path`).
            Channel::Matrix => config.matrix.as_ref().map(|(server, room, _)| {
                format!(
                    "{}/_matrix/client/v3/rooms/{}/send/m.room.message/",
                    server.trim_end_matches('/'),
                    percent_encode(room)
                )
            }),
        }
    }

    pub fn shown_endpoint(self, config: &Config) -> String {
        self.endpoint(config)
            .map(|e| redact::secret_url(&e))
            .unwrap_or_default()
    }

    /// Character limit of the service, counted in UTF-16 units as the
    /// services count them; `None` for no practical limit.
    fn limit(self) -> Option<usize> {
        match self {
            Channel::Discord => Some(2000),
            Channel::Telegram => Some(4096),
            Channel::Slack => Some(39_000),
            Channel::Ntfy => Some(4000),
            Channel::Webhook => None,
            // The summary of an event; the message of a push.
            Channel::PagerDuty | Channel::Pushover => Some(1024),
            Channel::Gotify => Some(4000),
            // An event is at most 64 KiB of JSON.
            Channel::Matrix => Some(30_000),
        }
    }
}

/// The channels that have an endpoint configured (and, with
/// `SELFHEAL_CHANNELS`, are among those named).
pub fn configured(config: &Config) -> Vec<Channel> {
    ALL.into_iter()
        .filter(|c| c.endpoint(config).is_some())
        .filter(|c| {
            config
                .channels_only
                .as_ref()
                .is_none_or(|only| only.iter().any(|n| n == c.name()))
        })
        .collect()
}

/// What happened to one message on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Worth trying again later: timeout, 429, 5xx, connection error.
    Retryable(String),
    /// Will never work as configured: 4xx, blocked bot, deleted webhook.
    Permanent(String),
}

/// The request body (and, for ntfy, headers) for `channel`.
pub struct Payload {
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Headers; some carry a secret (Gotify's key, Matrix's token): never
    /// logged.
    pub headers: Vec<(&'static str, String)>,
    /// PUT instead of POST (Matrix).
    pub put: bool,
    /// Appended to the endpoint (Matrix's transaction id).
    pub path: String,
}

/// PagerDuty's `event_action` for `kind`: trigger what pages, resolve what
/// ends it; nothing else goes there.
fn pagerduty_action(kind: Kind) -> Option<&'static str> {
    match kind.page() {
        Page::Calls => Some("trigger"),
        Page::Ends => Some("resolve"),
        Page::Tells => None,
    }
}

/// Percent-encoding of everything but unreserved characters (RFC 3986).
fn percent_encode(text: &str) -> String {
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

pub fn payload(channel: Channel, config: &Config, msg: &Message, host: &str) -> Payload {
    let markdown = matches!(channel, Channel::Discord | Channel::Slack);
    let text = shape(msg, markdown, channel.limit());
    let json_body = |v: Value| Payload {
        content_type: "application/json",
        body: serde_json::to_vec(&v).unwrap_or_default(),
        headers: Vec::new(),
        put: false,
        path: String::new(),
    };
    match channel {
        // No mentions: text from a failing service or an agent must not
        // be able to ping @everyone.
        Channel::Discord => json_body(json!({"content": text, "allowed_mentions": {"parse": []}})),
        Channel::Slack => json_body(json!({"text": slack_escape(&text)})),
        Channel::Telegram => json_body(json!({
            "chat_id": config.telegram_chat_id.clone().unwrap_or_default(),
            "text": text,
            "disable_web_page_preview": true,
        })),
        Channel::Ntfy => {
            let body_text = untitled(msg, channel.limit());
            Payload {
                put: false,
                path: String::new(),
                content_type: "text/plain; charset=utf-8",
                body: body_text.trim_start().as_bytes().to_vec(),
                headers: vec![
                    ("Title", header_text(&msg.title)),
                    (
                        "Priority",
                        match msg.severity {
                            Severity::Info => "default",
                            Severity::Warning => "high",
                            Severity::Error => "urgent",
                        }
                        .into(),
                    ),
                    ("Tags", format!("selfheal,{}", msg.severity.name())),
                ],
            }
        }
        Channel::Webhook => json_body(json!({
            "source": "selfheal",
            "host": host,
            "kind": msg.kind.key(),
            "severity": msg.severity.name(),
            "title": msg.title,
            "text": msg.plain(),
            "lines": msg.lines,
            // The commands alone; the first entry is the heading ("Try:").
            "commands": msg.commands.get(1..).unwrap_or_default(),
            "timestamp": crate::sys::clock::unix_now(),
        })),
        Channel::PagerDuty => {
            let key = config
                .pagerduty_key
                .as_ref()
                .map(|k| k.expose().to_string())
                .unwrap_or_default();
            // One open incident per service: host and service make the key,
            // so every page of it is one PagerDuty incident, and "resolved"
            // ends that one.
            let dedup = format!("selfheal/{host}/{}", config.shown_url);
            let action = pagerduty_action(msg.kind).unwrap_or("trigger");
            if action == "resolve" {
                json_body(json!({"routing_key": key, "event_action": action, "dedup_key": dedup}))
            } else {
                json_body(json!({
                    "routing_key": key,
                    "event_action": action,
                    "dedup_key": dedup,
                    "client": "selfheal",
                    "payload": {
                        "summary": cut_to(&msg.title, 1024),
                        "source": host,
                        "severity": match msg.severity {
                            Severity::Error => "critical",
                            Severity::Warning => "warning",
                            Severity::Info => "info",
                        },
                        "custom_details": {"text": cut_to(&msg.plain(), 16_000)},
                    },
                }))
            }
        }
        Channel::Pushover => {
            let (token, user) = config
                .pushover
                .as_ref()
                .map(|(t, u)| (t.expose(), u.expose()))
                .unwrap_or_default();
            let body_text = untitled(msg, channel.limit());
            // High (1) skips quiet hours; emergency (2) would need retry and
            // expire and an acknowledgement: not ours to decide.
            let priority = match msg.severity {
                Severity::Error => "1",
                Severity::Warning => "0",
                Severity::Info => "-1",
            };
            let form = [
                ("token", token),
                ("user", user),
                ("title", &cut_to(&msg.title, 250)),
                ("message", body_text.trim_start()),
                ("priority", priority),
            ]
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
            Payload {
                content_type: "application/x-www-form-urlencoded",
                body: form.into_bytes(),
                headers: Vec::new(),
                put: false,
                path: String::new(),
            }
        }
        Channel::Gotify => {
            let mut p = json_body(json!({
                "title": msg.title,
                "message": untitled(msg, channel.limit()).trim_start(),
                "priority": match msg.severity {
                    Severity::Error => 8,
                    Severity::Warning => 5,
                    Severity::Info => 2,
                },
            }));
            if let Some((_, token)) = &config.gotify {
                p.headers.push(("X-Gotify-Key", token.expose().to_string()));
            }
            p
        }
        Channel::Matrix => {
            let mut p = json_body(json!({"msgtype": "m.text", "body": text}));
            if let Some((_, _, token)) = &config.matrix {
                p.headers
                    .push(("Authorization", format!("Bearer {}", token.expose())));
            }
            p.put = true;
            // The same id for every attempt of this delivery: Matrix keeps one
            // event per transaction, so a retry after a lost answer is no
            // second message.
            p.path = format!(
                "selfheal-{}-{}",
                std::process::id(),
                crate::sys::clock::unix_now_nanos()
            );
            p
        }
    }
}

/// The details and commands alone, for services that take the title in a
/// field of its own (ntfy, Pushover, Gotify).
fn untitled(msg: &Message, limit: Option<usize>) -> String {
    let body = Message {
        title: String::new(),
        ..msg.clone()
    };
    shape(&body, false, limit)
}

/// Title, details, commands; details cut (with "…") to fit `limit`.
fn shape(msg: &Message, markdown: bool, limit: Option<usize>) -> String {
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
fn cut_to(text: &str, max: usize) -> String {
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

/// Slack's three control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// HTTP header values must be visible ASCII: non-ASCII text goes as an
/// RFC 2047 encoded word, which ntfy decodes.
fn header_text(text: &str) -> String {
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

/// One POST. Returns the outcome and, for retryable failures, how long the
/// service asked us to wait.
fn post_once(agent: &ureq::Agent, url: &str, p: &Payload) -> (Delivery, Option<Duration>) {
    let url = format!("{url}{}", p.path);
    let mut req = if p.put {
        agent.put(&url)
    } else {
        agent.post(&url)
    }
    .header("Content-Type", p.content_type);
    for (k, v) in &p.headers {
        req = req.header(*k, v.as_str());
    }
    let mut resp = match req.send(&p.body[..]) {
        Ok(r) => r,
        Err(e) => return (Delivery::Retryable(transport_reason(&e)), None),
    };
    let status = resp.status().as_u16();
    let header_wait = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok());
    let mut body = Vec::new();
    let _ = resp
        .body_mut()
        .as_reader()
        .take(16 * 1024)
        .read_to_end(&mut body);
    if (200..300).contains(&status) {
        return (Delivery::Sent, None);
    }
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let body_wait = parsed.as_ref().and_then(|v| {
        v.get("retry_after")
            .or_else(|| v.get("parameters").and_then(|p| p.get("retry_after")))
            .and_then(Value::as_f64)
            // Matrix: M_LIMIT_EXCEEDED says it in milliseconds.
            .or_else(|| {
                v.get("retry_after_ms")
                    .and_then(Value::as_f64)
                    .map(|ms| ms / 1000.0)
            })
    });
    let description = parsed
        .as_ref()
        .and_then(|v| {
            v.get("description")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                // Pushover: {"status":0,"errors":["user identifier is invalid"]}
                .or_else(|| v.get("errors").and_then(|e| e.get(0)))
        })
        .and_then(Value::as_str)
        .map(|d| d.chars().take(120).collect::<String>());
    let reason = match &description {
        Some(d) => format!("HTTP {status}: {d}"),
        None => format!("HTTP {status}"),
    };
    let wait = body_wait
        .or(header_wait)
        .filter(|w| w.is_finite() && *w >= 0.0)
        .map(|w| Duration::from_secs_f64(w.min(3600.0)));
    match status {
        408 | 429 | 500..=599 => (Delivery::Retryable(reason), wait),
        404 => (
            Delivery::Permanent(format!("{reason} (webhook deleted or URL wrong)")),
            None,
        ),
        401 | 403 => (
            Delivery::Permanent(format!("{reason} (token refused or bot blocked)")),
            None,
        ),
        _ => (Delivery::Permanent(reason), None),
    }
}

fn transport_reason(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timeout".into(),
        ureq::Error::HostNotFound => "DNS: host not found".into(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            if crate::sys::tls::bundle().is_none() {
                format!("TLS: {}", crate::sys::tls::MISSING_HINT)
            } else {
                // The text names the certificate problem, never the URL.
                format!("TLS: {io}")
            }
        }
        ureq::Error::Io(io) => format!("connection: {}", io.kind()),
        #[cfg(feature = "tls")]
        ureq::Error::Rustls(_) if crate::sys::tls::bundle().is_none() => {
            format!("TLS: {}", crate::sys::tls::MISSING_HINT)
        }
        #[cfg(feature = "tls")]
        ureq::Error::Rustls(t) => format!("TLS: {t}"),
        // ureq's messages can quote the URL, which holds the token.
        _ => "transport error".into(),
    }
}

/// Sends `payload` to `channel`, retrying within three attempt-timeouts.
pub fn deliver(
    agent: &ureq::Agent,
    config: &Config,
    channel: Channel,
    payload: &Payload,
    clock: &dyn Clock,
) -> Result<Delivery> {
    let Some(url) = channel.endpoint(config) else {
        return Ok(Delivery::Permanent("not configured".into()));
    };
    let start = clock.now();
    let deadline = start + config.alert_timeout * 3;
    let mut backoff = Duration::from_secs(1);
    loop {
        let (mut outcome, asked) = post_once(agent, &url, payload);
        if channel == Channel::Pushover {
            // Pushover: a 4xx (429 too: the monthly limit) is never worth
            // repeating; only 5xx and transport errors are.
            if let Delivery::Retryable(r) = &outcome {
                if r.starts_with("HTTP 4") {
                    outcome = Delivery::Permanent(format!("{r} (Pushover: not retried)"));
                }
            }
        }
        let Delivery::Retryable(reason) = &outcome else {
            return Ok(outcome);
        };
        let wait = asked.unwrap_or(backoff);
        let now = clock.now();
        // An attempt starts before the deadline and may take a whole
        // timeout: a channel's bound is four attempt-timeouts
        // (`outbox::round_bound`).
        if now + wait >= deadline {
            return Ok(Delivery::Retryable(reason.clone()));
        }
        clock.sleep(wait)?;
        backoff = (backoff * 2).min(Duration::from_secs(8));
    }
}

/// Pings the heartbeat URL with `suffix` (`/start`, `/fail`, `/1`, or none)
/// added to its path, once, bounded: a GET, or a POST of `body` (the run's
/// log, already scrubbed).
pub fn heartbeat(
    agent: &ureq::Agent,
    url: &str,
    suffix: &str,
    body: Option<&[u8]>,
) -> std::result::Result<(), String> {
    let target = match url.split_once('?') {
        Some((base, query)) => format!("{}{suffix}?{query}", base.trim_end_matches('/')),
        None if suffix.is_empty() => url.to_string(),
        None => format!("{}{suffix}", url.trim_end_matches('/')),
    };
    let sent = match body {
        Some(b) => agent
            .post(&target)
            .header("Content-Type", "text/plain; charset=utf-8")
            .send(b),
        None => agent.get(&target).call(),
    };
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) => Err(transport_reason(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{render, Facts, Kind};

    fn message(detail: &str) -> Message {
        let facts = Facts {
            host: "mini".into(),
            url: "http://localhost:18789/".into(),
            status: "000".into(),
            reason: detail.into(),
            commands: vec!["openclaw status".into(), "openclaw gateway restart".into()],
            ..Facts::default()
        };
        render(Kind::Failed, &facts, crate::config::Lang::En)
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
    fn the_configuration_knows_every_channel_by_name() {
        let names: Vec<&str> = ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, crate::config::keys::CHANNEL_NAMES);
    }

    #[test]
    fn base64_and_headers() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(header_text("plain"), "plain");
        assert!(header_text("✅ ok").starts_with("=?UTF-8?B?"));
    }
}
