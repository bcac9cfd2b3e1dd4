//! Discord: a channel webhook. `content` ≤ 2000 characters, Markdown, no
//! mentions (text from a failing service or an agent must not be able to
//! ping @everyone).

use serde_json::json;

use super::text::shape;
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};

pub const KEYS: &[Key] = &[Key::new("DISCORD_WEBHOOK_URL", "", "Discord channel webhook").secret()];

#[derive(Debug, Clone)]
pub struct Discord {
    url: Secret,
}

impl Discord {
    pub fn configure(r: &Reader) -> Option<Discord> {
        r.secret_url(KEYS[0].name).map(|url| Discord { url })
    }
}

impl Service for Discord {
    fn endpoint(&self) -> String {
        self.url.expose().to_string()
    }

    fn limit(&self) -> Option<usize> {
        Some(2000)
    }

    fn payload(&self, msg: &Message, _: Origin) -> Payload {
        let text = shape(msg, true, self.limit());
        Payload::json(&json!({"content": text, "allowed_mentions": {"parse": []}}))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.url.expose()]
    }
}
