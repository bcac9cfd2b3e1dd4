//! A generic JSON webhook: every field of the message, for a program.

use serde_json::json;

use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};

pub const KEYS: &[Key] = &[Key::new("SELFHEAL_WEBHOOK_URL", "", "generic JSON webhook").secret()];

#[derive(Debug, Clone)]
pub struct Webhook {
    url: Secret,
}

impl Webhook {
    pub fn configure(r: &Reader) -> Option<Webhook> {
        r.secret_url(KEYS[0].name).map(|url| Webhook { url })
    }
}

impl Service for Webhook {
    fn endpoint(&self) -> String {
        self.url.expose().to_string()
    }

    fn limit(&self) -> Option<usize> {
        None
    }

    fn payload(&self, msg: &Message, from: Origin) -> Payload {
        Payload::json(&json!({
            "source": "selfheal",
            "host": from.host,
            "kind": msg.kind.key(),
            "severity": msg.severity.name(),
            "title": msg.title,
            "text": msg.plain(),
            "lines": msg.lines,
            // The commands alone; the first entry is the heading ("Try:").
            "commands": msg.commands.get(1..).unwrap_or_default(),
            "timestamp": crate::sys::clock::unix_now(),
        }))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.url.expose()]
    }
}
