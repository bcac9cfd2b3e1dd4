//! Pushover: a form with the application token and the user key; the
//! message ≤ 1024 characters. A 4xx (429 too: the monthly limit) is never
//! worth repeating; only 5xx and transport errors are.

use super::text::{cut_to, percent_encode, untitled};
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};
use crate::kind::Severity;

pub const KEYS: &[Key] = &[
    Key::new(
        "PUSHOVER_TOKEN",
        "",
        "Pushover application token (with `PUSHOVER_USER`: both or neither)",
    )
    .secret(),
    Key::new("PUSHOVER_USER", "", "Pushover user (or group) key").secret(),
    Key::new(
        "SELFHEAL_PUSHOVER_API",
        "https://api.pushover.net",
        "Pushover API base",
    ),
];

#[derive(Debug, Clone)]
pub struct Pushover {
    api: String,
    token: Secret,
    user: Secret,
}

impl Pushover {
    pub fn configure(r: &Reader) -> Option<Pushover> {
        let api = r.url(KEYS[2].name);
        let [token, user] = r.together([KEYS[0].name, KEYS[1].name])?;
        Some(Pushover {
            api,
            token: Secret::new(token),
            user: Secret::new(user),
        })
    }
}

impl Service for Pushover {
    fn endpoint(&self) -> String {
        format!("{}/1/messages.json", self.api.trim_end_matches('/'))
    }

    fn limit(&self) -> Option<usize> {
        Some(1024)
    }

    fn retries(&self, status: u16) -> bool {
        status >= 500
    }

    fn payload(&self, msg: &Message, _: Origin) -> Payload {
        let body = untitled(msg, self.limit());
        // High (1) skips quiet hours; emergency (2) would need retry and
        // expire and an acknowledgement: not ours to decide.
        let priority = match msg.severity {
            Severity::Error => "1",
            Severity::Warning => "0",
            Severity::Info => "-1",
        };
        let form = [
            ("token", self.token.expose()),
            ("user", self.user.expose()),
            ("title", &cut_to(&msg.title, 250)),
            ("message", body.trim_start()),
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

    fn secrets(&self) -> Vec<&str> {
        vec![self.token.expose(), self.user.expose()]
    }
}
