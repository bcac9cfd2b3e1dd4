//! The HTTP probe: one bounded GET and a verdict.
//!
//! `HEALTH_CHECK_HTTP_TIMEOUT` covers everything from DNS to the last byte
//! read; at most `BODY_CAP` bytes of the body are read (a 10 MB or endless
//! body costs nothing more). Healthy means: status in `SELFHEAL_EXPECT_STATUS`
//! and `SELFHEAL_EXPECT_BODY` found in that capped body. Every resolved
//! address is tried in turn (ureq does this), so `localhost` works whether the
//! service listens on 127.0.0.1 or ::1. Loopback targets never go through a
//! proxy from the environment. This module does not log or record; callers do.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

use crate::config::Config;
use crate::fmt::fmt_secs;

/// The most of a body that is read.
pub const BODY_CAP: u64 = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Probe {
    /// Why it is not healthy; `None`: healthy.
    pub failure: Option<Failure>,
    /// None when no HTTP response was received.
    pub status: Option<u16>,
    pub latency: Duration,
    /// One line: `HTTP 200`, `connection refused`, `timeout after 10s`, ...
    pub reason: String,
}

/// Why a probe failed, as decisions need it (the words are in `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing listens: the connection was refused.
    Refused,
    /// No answer within the probe's timeout (connecting, or reading).
    Timeout,
    /// The connection was reset or closed without a response.
    Dropped,
    /// The host name did not resolve.
    Dns,
    /// No route to the host.
    Unreachable,
    /// TLS: the certificate or the handshake.
    Tls,
    /// An answer whose status is not a healthy one.
    Status,
    /// A healthy status, but the body lacks the expected text (or could not
    /// be read).
    Body,
    /// Anything else: a bad HTTP response, an I/O error.
    Other,
    /// Live, but its readiness endpoint says it is not ready (`ready`).
    NotReady,
}

/// What a service's readiness endpoint says (`SELFHEAL_READY_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// A 5xx: not ready; what it names as failing (its JSON's `failing`),
    /// cleaned of control characters, at most ten.
    NotReady(Vec<String>),
    /// Ready or not, the service holds these back itself (its `suppressed`:
    /// OpenClaw's restart-loop breaker keeps channels stopped after repeated
    /// crashes at start, and starts them itself once its 5-minute window
    /// holds no other crash: measured, 6 minutes after the boot), and how
    /// long it has been up, when it says (`uptimeMs`). Not an incident
    /// while its own recovery may still come (`HELD_LONGER`): a restart
    /// would only start that wait again.
    HeldBack(Vec<String>, Option<Duration>),
    /// No answer, or one that is neither (a 404 of a version without the
    /// endpoint): not counted either way.
    Unknown(String),
}

/// Longer than OpenClaw's own recovery of what it holds back can take: its
/// channel monitor first looks a minute after the boot, then every 5
/// minutes, for a 5-minute window without crashes — at most 11 minutes
/// (measured: 6). Still held back by a gateway up for longer, that recovery
/// did not come; its window has drained, so a restart no longer trips the
/// breaker, and starts the channels.
pub const HELD_LONGER: Duration = Duration::from_secs(15 * 60);

impl Readiness {
    /// What is not ready, when the answer counts as not ready: a 5xx, or
    /// something held back past the service's own recovery (`HELD_LONGER`).
    pub fn not_ready(&self) -> Option<Vec<String>> {
        match self {
            Readiness::NotReady(failing) => Some(failing.clone()),
            Readiness::HeldBack(names, Some(up)) if *up >= HELD_LONGER => Some(
                names
                    .iter()
                    .map(|n| format!("{n} (held back, up {})", crate::fmt::fmt_secs(*up)))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Asks the readiness endpoint once, with the run's agent (the probe's
/// timeout). `token`: the `Authorization: Bearer` a gateway wants from a
/// caller that is not on loopback; never logged.
pub fn readiness(agent: &Agent, url: &str, token: Option<&str>) -> Readiness {
    let mut request = agent.get(url);
    if let Some(t) = token {
        request = request.header("Authorization", &format!("Bearer {t}"));
    }
    let mut response = match request.call() {
        Ok(r) => r,
        Err(e) => return Readiness::Unknown(format!("{url}: {e}")),
    };
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let _ = response
        .body_mut()
        .as_reader()
        .take(BODY_CAP)
        .read_to_end(&mut body);
    judge_readiness(status, &body)
}

/// What a readiness answer says: a 2xx is ready, a 5xx not ready (its
/// JSON's `failing` names what), either with a `suppressed` list held back;
/// any other status says nothing.
pub fn judge_readiness(status: u16, body: &[u8]) -> Readiness {
    let ready = (200..300).contains(&status);
    if !ready && !(500..600).contains(&status) {
        return Readiness::Unknown(format!("status {status}"));
    }
    let json = serde_json::from_slice::<serde_json::Value>(body).unwrap_or_default();
    let held = names(&json["suppressed"]);
    if !held.is_empty() {
        let up = json["uptimeMs"]
            .as_f64()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_secs_f64((ms / 1000.0).min(1e12)));
        return Readiness::HeldBack(held, up);
    }
    match ready {
        true => Readiness::Ready,
        false => Readiness::NotReady(names(&json["failing"])),
    }
}

/// The probe's words for a live service that is not ready.
pub fn not_ready_reason(failing: &[String]) -> String {
    match failing {
        [] => "live but not ready".to_string(),
        f => format!("live but not ready: {}", f.join(", ")),
    }
}

/// `scheme://host:port` of a URL (its origin), if it has one.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// The names of a readiness answer's list (`"failing":[…]`), cleaned of
/// control characters, at most ten of at most 80 characters.
fn names(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .take(10)
        .map(|s| crate::sys::redact::printable(&s.chars().take(80).collect::<String>()))
        .collect()
}

impl Probe {
    pub fn healthy(&self) -> bool {
        self.failure.is_none()
    }

    /// Whether nothing listens (the connection was refused).
    pub fn refused(&self) -> bool {
        self.failure == Some(Failure::Refused)
    }

    /// The status as the metrics file writes it: `"200"`, or `"000"`.
    pub fn status_text(&self) -> String {
        match self.status {
            Some(s) => format!("{s:03}"),
            None => "000".into(),
        }
    }

    /// The reason with the status, said once: `connection refused (status
    /// 000)`, but `status 404 (expected 200)` as it is.
    pub fn with_status(&self) -> String {
        if self.reason.starts_with("status ") {
            self.reason.clone()
        } else {
            format!("{} (status {})", self.reason, self.status_text())
        }
    }

    pub fn latency_ms(&self) -> u128 {
        self.latency.as_millis()
    }
}

/// The HTTP agent for a run: built once, used for every probe of the run.
pub fn agent(config: &Config) -> Agent {
    agent_with(config, config.http_timeout)
}

/// An agent whose probes take at most `timeout`.
pub fn agent_with(config: &Config, timeout: Duration) -> Agent {
    let mut builder = Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .max_idle_connections(0)
        .user_agent(concat!("selfheal/", env!("CARGO_PKG_VERSION")));
    if is_loopback(&config.url) {
        builder = builder.proxy(None);
    }
    // TLS (the CA bundle read) only when a URL this agent asks needs it.
    #[cfg(feature = "tls")]
    if config.url.starts_with("https:")
        || matches!(&config.ready_url, crate::key::values::ReadyUrl::Url(u) if u.starts_with("https:"))
    {
        builder = builder.tls_config(crate::sys::tls::config());
    }
    Agent::with_parts(
        builder.build(),
        DefaultConnector::default(),
        LoopbackFirst::default(),
    )
}

fn host_of(uri: &Uri) -> &str {
    let host = uri.host().unwrap_or("");
    host.trim_start_matches('[').trim_end_matches(']')
}

fn is_localhost(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost")
}

fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<Uri>() else {
        return false;
    };
    let host = host_of(&uri);
    is_localhost(host) || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Resolves IP literals and `localhost` without a resolver thread, and makes
/// `localhost` mean both 127.0.0.1 and ::1 (RFC 6761) even where /etc/hosts
/// names only one, so a service on either is found. Other names go to
/// ureq's resolver, bounded by the probe's timeout.
#[derive(Debug, Default)]
struct LoopbackFirst(DefaultResolver);

impl Resolver for LoopbackFirst {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = host_of(uri);
        let ips: &[IpAddr] = if let Ok(ip) = host.parse::<IpAddr>() {
            &[ip]
        } else if is_localhost(host) {
            &[
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        } else {
            return self.0.resolve(uri, config, timeout);
        };
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let mut out = self.empty();
        for ip in ips {
            out.push(SocketAddr::new(*ip, port));
        }
        Ok(out)
    }
}

/// Probes `config.url` once.
pub fn probe(agent: &Agent, config: &Config) -> Probe {
    let start = Instant::now();
    let result = agent.get(&config.url).call();
    let mut response = match result {
        Ok(r) => r,
        Err(e) => {
            let (failure, reason) = describe(&e, config.http_timeout);
            return Probe {
                failure: Some(failure),
                status: None,
                latency: start.elapsed(),
                reason,
            };
        }
    };
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let read = response
        .body_mut()
        .as_reader()
        .take(BODY_CAP)
        .read_to_end(&mut body);
    let latency = start.elapsed();
    let (failure, reason) = match read {
        Err(e) => read_error(&e, config.http_timeout),
        Ok(_) if !config.expect_status.contains(status) => (
            Some(Failure::Status),
            format!("status {status} (expected {})", config.expect_status),
        ),
        Ok(_) if !contains(&body, config.expect_body.as_bytes()) => (
            Some(Failure::Body),
            format!(
                "status {status} but the body lacks {:?} (first {} KiB read)",
                config.expect_body,
                BODY_CAP / 1024
            ),
        ),
        Ok(_) => (None, format!("HTTP {status}")),
    };
    Probe {
        failure,
        status: Some(status),
        latency,
        reason,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn describe(e: &ureq::Error, timeout: Duration) -> (Failure, String) {
    use std::io::ErrorKind as K;
    let timed_out = || {
        (
            Failure::Timeout,
            format!("timeout after {}", fmt_secs(timeout)),
        )
    };
    match e {
        ureq::Error::Timeout(_) => timed_out(),
        ureq::Error::HostNotFound => (Failure::Dns, "DNS: host not found".into()),
        ureq::Error::Io(io) => match io.kind() {
            K::ConnectionRefused => (Failure::Refused, "connection refused".into()),
            K::ConnectionReset | K::ConnectionAborted => {
                (Failure::Dropped, "connection reset".into())
            }
            K::UnexpectedEof => (
                Failure::Dropped,
                "connection closed without a response".into(),
            ),
            K::TimedOut | K::WouldBlock => timed_out(),
            K::HostUnreachable | K::NetworkUnreachable => {
                (Failure::Unreachable, "network unreachable".into())
            }
            // rustls reports certificate and handshake failures as InvalidData.
            K::InvalidData if crate::sys::tls::bundle().is_none() => (
                Failure::Tls,
                format!("TLS: {io}; {}", crate::sys::tls::MISSING_HINT),
            ),
            K::InvalidData => (Failure::Tls, format!("TLS: {io}")),
            _ => (Failure::Other, format!("I/O error: {io}")),
        },
        ureq::Error::Protocol(p) => (Failure::Other, format!("bad HTTP response: {p}")),
        #[cfg(feature = "tls")]
        ureq::Error::Rustls(t) if crate::sys::tls::bundle().is_none() => (
            Failure::Tls,
            format!("TLS: {t}; {}", crate::sys::tls::MISSING_HINT),
        ),
        #[cfg(feature = "tls")]
        ureq::Error::Rustls(t) => (Failure::Tls, format!("TLS: {t}")),
        ureq::Error::Tls(t) => (Failure::Tls, format!("TLS: {t}")),
        ureq::Error::ConnectionFailed => (Failure::Other, "connection failed".into()),
        other => {
            let text = other.to_string();
            if text.contains("https") || text.contains("TLS") || text.contains("tls") {
                (Failure::Tls, format!("TLS: {text}"))
            } else {
                (Failure::Other, format!("error: {text}"))
            }
        }
    }
}

fn read_error(e: &std::io::Error, timeout: Duration) -> (Option<Failure>, String) {
    // ureq reports its own errors through io::Error while a body is read.
    let text = e.to_string();
    if e.kind() == std::io::ErrorKind::TimedOut || text.contains("timeout") {
        (
            Some(Failure::Timeout),
            format!("timeout after {} while reading the body", fmt_secs(timeout)),
        )
    } else {
        (
            Some(Failure::Body),
            format!("body could not be read: {text}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_answers() {
        let judge = |status, body: &str| judge_readiness(status, body.as_bytes());
        assert_eq!(
            judge(200, r#"{"ready":true,"failing":[]}"#),
            Readiness::Ready
        );
        assert_eq!(judge(200, "not json"), Readiness::Ready);
        // OpenClaw's restart-loop breaker: ready, channels held back.
        assert_eq!(
            judge(
                200,
                r#"{"ready":true,"failing":[],"suppressed":["telegram"],"uptimeMs":3562}"#
            ),
            Readiness::HeldBack(vec!["telegram".into()], Some(Duration::from_millis(3562)))
        );
        assert_eq!(
            judge(
                503,
                r#"{"ready":false,"failing":["telegram","x\u001b[2J"]}"#
            ),
            Readiness::NotReady(vec!["telegram".into(), "x^[[2J".into()])
        );
        assert_eq!(
            judge(
                503,
                r#"{"failing":["a"],"suppressed":["whatsapp"],"uptimeMs":-1}"#
            ),
            Readiness::HeldBack(vec!["whatsapp".into()], None)
        );
        assert_eq!(
            judge(503, r#"{"suppressed":[1,{}]}"#),
            Readiness::NotReady(vec![])
        );
        assert_eq!(judge(503, ""), Readiness::NotReady(vec![]));
        assert!(matches!(judge(404, "{}"), Readiness::Unknown(_)));
        // Held back: not ready only past the service's own recovery.
        let held = |ms: u64| {
            judge(
                200,
                &format!(r#"{{"suppressed":["telegram"],"uptimeMs":{ms}}}"#),
            )
            .not_ready()
        };
        assert_eq!(held(660_000), None);
        assert_eq!(
            held(900_000),
            Some(vec!["telegram (held back, up 15m00s)".into()])
        );
        assert_eq!(judge(200, r#"{"suppressed":["x"]}"#).not_ready(), None);
        let huge = judge(200, r#"{"suppressed":["x"],"uptimeMs":1e308}"#);
        assert_eq!(huge.not_ready().map(|v| v.len()), Some(1));
        let many = format!(r#"{{"failing":[{}]}}"#, vec![r#""y""#; 50].join(","));
        assert!(matches!(judge(500, &many), Readiness::NotReady(f) if f.len() == 10));
    }

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://localhost:1/",
            "http://127.0.0.1/",
            "http://[::1]:8/x",
            "http://a.localhost/",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://example.com/",
            "http://10.0.0.1/",
            "http://localhost.example/",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    #[test]
    fn body_search() {
        assert!(contains(b"abc", b""));
        assert!(contains(b"{\"ok\":true}", b"\"ok\":true"));
        assert!(!contains(b"ab", b"abc"));
    }
}
