//! Gotify: the server's `/message`, the application token in a header
//! (never in the URL).

use serde_json::json;

use super::text::untitled;
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};
use crate::kind::Severity;

pub const KEYS: &[Key] = &[
    Key::new(
        "GOTIFY_URL",
        "",
        "Gotify server (with `GOTIFY_TOKEN`: both or neither)",
    ),
    Key::new(
        "GOTIFY_TOKEN",
        "",
        "Gotify application token (sent in `X-Gotify-Key`, never in the URL)",
    )
    .secret(),
];

#[derive(Debug, Clone)]
pub struct Gotify {
    url: String,
    token: Secret,
}

impl Gotify {
    pub fn configure(r: &Reader) -> Option<Gotify> {
        let [url, token] = r.together([KEYS[0].name, KEYS[1].name])?;
        r.check(
            KEYS[0].name,
            url.starts_with("http://") || url.starts_with("https://"),
            "expected the Gotify server's http:// or https:// URL",
        );
        Some(Gotify {
            url,
            token: Secret::new(token),
        })
    }
}

impl Service for Gotify {
    fn endpoint(&self) -> String {
        format!("{}/message", self.url.trim_end_matches('/'))
    }

    fn limit(&self) -> Option<usize> {
        Some(4000)
    }

    fn payload(&self, msg: &Message, _: Origin) -> Payload {
        let mut p = Payload::json(&json!({
            "title": msg.title,
            "message": untitled(msg, self.limit()).trim_start(),
            "priority": match msg.severity {
                Severity::Error => 8,
                Severity::Warning => 5,
                Severity::Info => 2,
            },
        }));
        p.headers
            .push(("X-Gotify-Key", self.token.expose().to_string()));
        p
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.token.expose()]
    }
}
