//! Discord: a channel webhook. `content` ≤ 2000 characters, Markdown, no
//! mentions (text from a failing service or an agent must not be able to
//! ping @everyone) and no markup in the details (nor hide a link).

use serde_json::json;

use super::text::{markdown_escape, shape};
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
        // The details carry text from outside (log lines, command output,
        // an agent's words): literal, never markup. The title and the
        // commands (in a code block) are selfheal's.
        let literal = Message {
            lines: msg.lines.iter().map(|l| markdown_escape(l)).collect(),
            ..msg.clone()
        };
        let text = shape(&literal, true, self.limit());
        Payload::json(&json!({"content": text, "allowed_mentions": {"parse": []}}))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.url.expose()]
    }
}
