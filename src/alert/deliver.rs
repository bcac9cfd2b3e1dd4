//! Delivery of one message to one channel: each attempt bounded by
//! `SELFHEAL_ALERT_TIMEOUT`; 408, 429, 5xx and transport errors retried
//! with backoff that honours `Retry-After`, Discord's `retry_after` and
//! Telegram's `parameters.retry_after` (each channel may say which statuses
//! are worth it: `Service::retries`), within three attempt-timeouts per
//! message and channel; other 4xx (deleted webhook, wrong token, blocked
//! bot) are permanent. Also the heartbeat's one GET or POST. This module
//! sends and classifies; the caller decides what to queue, record and log.
//! Endpoints with tokens are only ever shown redacted.

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

use crate::channel::{Payload, Target};
use crate::config::Config;
use crate::error::Result;
use crate::sys::clock::Clock;

/// The channels that have an endpoint configured (and, with
/// `SELFHEAL_CHANNELS`, are among those named).
pub fn configured(config: &Config) -> Vec<&Target> {
    config
        .channels
        .iter()
        .filter(|t| {
            config
                .channels_only
                .as_ref()
                .is_none_or(|only| only.contains(&t.channel()))
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

/// One POST. Returns the outcome and, for retryable failures, how long the
/// service asked us to wait.
fn post_once(
    agent: &ureq::Agent,
    url: &str,
    p: &Payload,
    timeout: Duration,
    retries: &dyn Fn(u16) -> bool,
) -> (Delivery, Option<Duration>) {
    let host = host_of(url);
    let url = format!("{url}{}", p.path);
    let mut req = if p.put {
        agent.put(&url)
    } else {
        agent.post(&url)
    }
    .config()
    .timeout_global(Some(timeout))
    .build()
    .header("Content-Type", p.content_type);
    for (k, v) in &p.headers {
        req = req.header(*k, v.as_str());
    }
    let mut resp = match req.send(&p.body[..]) {
        Ok(r) => r,
        Err(e) => return (Delivery::Retryable(transport_reason(&e, &host)), None),
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
        s if retries(s) => (Delivery::Retryable(reason), wait),
        404 => (
            Delivery::Permanent(format!("{reason} (webhook deleted or URL wrong)")),
            None,
        ),
        401 | 403 => (
            Delivery::Permanent(format!("{reason} (token refused or bot blocked)")),
            None,
        ),
        408 | 429 | 500..=599 => (
            Delivery::Permanent(format!(
                "{reason}, which this service does not want retried"
            )),
            None,
        ),
        _ => (Delivery::Permanent(reason), None),
    }
}

/// The host of a URL (never its path or query, which may hold a token).
fn host_of(url: &str) -> String {
    url.parse::<ureq::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| "its host".into())
}

/// A transport failure in words a person acts on: "cannot resolve
/// discord.com", "connection refused by hooks.example", "TLS: …".
fn transport_reason(e: &ureq::Error, host: &str) -> String {
    use std::io::ErrorKind as K;
    match e {
        ureq::Error::Timeout(_) => format!("no answer from {host} in time"),
        ureq::Error::HostNotFound => format!("cannot resolve {host}"),
        ureq::Error::ConnectionFailed => format!("cannot connect to {host}"),
        ureq::Error::Io(io) if io.kind() == K::InvalidData => {
            if crate::sys::tls::bundle().is_none() {
                format!("TLS: {}", crate::sys::tls::MISSING_HINT)
            } else {
                // The text names the certificate problem, never the URL.
                format!("TLS with {host}: {io}")
            }
        }
        ureq::Error::Io(io) => match io.kind() {
            K::ConnectionRefused => format!("connection refused by {host}"),
            K::ConnectionReset | K::ConnectionAborted => format!("{host} dropped the connection"),
            K::TimedOut | K::WouldBlock => format!("no answer from {host} in time"),
            K::HostUnreachable | K::NetworkUnreachable => {
                format!("no route to {host} (network unreachable)")
            }
            K::UnexpectedEof => format!("{host} closed the connection without an answer"),
            // Name resolution that failed inside the resolver thread.
            _ if io.to_string().contains("resolve") || io.to_string().contains("lookup") => {
                format!("cannot resolve {host}")
            }
            kind => format!("connection to {host}: {kind}"),
        },
        #[cfg(feature = "tls")]
        ureq::Error::Rustls(_) if crate::sys::tls::bundle().is_none() => {
            format!("TLS: {}", crate::sys::tls::MISSING_HINT)
        }
        #[cfg(feature = "tls")]
        ureq::Error::Rustls(t) => format!("TLS with {host}: {t}"),
        ureq::Error::Tls(t) => format!("TLS with {host}: {t}"),
        ureq::Error::Protocol(_) => format!("{host} answered something that is not HTTP"),
        // ureq's other messages can quote the URL, which holds the token.
        _ => format!("could not reach {host}"),
    }
}

/// Sends `payload` to `target`: attempts of at most `timeout` each, retried
/// within three of them when `retry`, else one.
pub fn deliver(
    agent: &ureq::Agent,
    target: &Target,
    payload: &Payload,
    timeout: Duration,
    retry: bool,
    clock: &dyn Clock,
) -> Result<Delivery> {
    let service = target.service();
    let url = service.endpoint();
    let retries = |status| service.retries(status);
    let start = clock.now();
    let deadline = start + timeout * 3;
    let mut backoff = Duration::from_secs(1);
    loop {
        let (outcome, asked) = post_once(agent, &url, payload, timeout, &retries);
        if !retry {
            return Ok(outcome);
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
/// `suffix` appended to the URL's path: before its query, and with its
/// fragment dropped (a client never sends it; appended after `#`, `/fail`
/// would not be sent either and a failed run would ping success).
pub fn ping_url(url: &str, suffix: &str) -> String {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    if suffix.is_empty() {
        return url.to_string();
    }
    match url.split_once('?') {
        Some((base, query)) => format!("{}{suffix}?{query}", base.trim_end_matches('/')),
        None => format!("{}{suffix}", url.trim_end_matches('/')),
    }
}

pub fn heartbeat(
    agent: &ureq::Agent,
    url: &str,
    suffix: &str,
    body: Option<&[u8]>,
) -> std::result::Result<(), String> {
    let target = ping_url(url, suffix);
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
        Err(e) => Err(transport_reason(&e, &host_of(url))),
    }
}

#[cfg(test)]
mod tests {
    use super::ping_url;

    #[test]
    fn a_ping_goes_to_the_path_never_after_a_fragment() {
        for (url, suffix, want) in [
            (
                "https://hc.example/abc",
                "/fail",
                "https://hc.example/abc/fail",
            ),
            (
                "https://hc.example/abc/",
                "/start",
                "https://hc.example/abc/start",
            ),
            (
                "https://hc.example/abc?rid=1",
                "/fail",
                "https://hc.example/abc/fail?rid=1",
            ),
            (
                "https://hc.example/abc#note",
                "/fail",
                "https://hc.example/abc/fail",
            ),
            (
                "https://hc.example/abc?k=1#n?x",
                "/1",
                "https://hc.example/abc/1?k=1",
            ),
            ("https://hc.example/abc#frag", "", "https://hc.example/abc"),
        ] {
            assert_eq!(ping_url(url, suffix), want, "{url} + {suffix}");
        }
    }
}
