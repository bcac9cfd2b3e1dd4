//! Slack: an incoming webhook; Markdown-ish text with its three control
//! characters escaped.

use serde_json::json;

use super::text::{shape, slack_escape};
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};

pub const KEYS: &[Key] = &[Key::new("SLACK_WEBHOOK_URL", "", "Slack incoming webhook").secret()];

#[derive(Debug, Clone)]
pub struct Slack {
    url: Secret,
}

impl Slack {
    pub fn configure(r: &Reader) -> Option<Slack> {
        r.secret_url(KEYS[0].name).map(|url| Slack { url })
    }
}

impl Service for Slack {
    fn endpoint(&self) -> String {
        self.url.expose().to_string()
    }

    fn limit(&self) -> Option<usize> {
        Some(39_000)
    }

    fn payload(&self, msg: &Message, _: Origin) -> Payload {
        let text = shape(msg, true, self.limit());
        Payload::json(&json!({"text": slack_escape(&text)}))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.url.expose()]
    }
}
