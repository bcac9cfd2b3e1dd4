//! Telegram: a bot's `sendMessage` to one chat, ≤ 4096 characters.

use serde_json::json;

use super::text::shape;
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};

pub const KEYS: &[Key] = &[
    Key::new(
        "TELEGRAM_BOT_TOKEN",
        "",
        "Telegram bot token (with `TELEGRAM_CHAT_ID`: both or neither)",
    )
    .secret(),
    Key::new("TELEGRAM_CHAT_ID", "", "the chat the bot writes to"),
    Key::new(
        "SELFHEAL_TELEGRAM_API",
        "https://api.telegram.org",
        "Telegram API base (tests point it at loopback)",
    ),
];

#[derive(Debug, Clone)]
pub struct Telegram {
    api: String,
    token: Secret,
    chat: String,
}

impl Telegram {
    pub fn configure(r: &Reader) -> Option<Telegram> {
        let api = r.url(KEYS[2].name);
        let [token, chat] = r.together([KEYS[0].name, KEYS[1].name])?;
        r.check(
            KEYS[0].name,
            !token.contains(['/', '?', '#', ' ']),
            "not a bot token (like 123456:ABC-DEF...)",
        );
        Some(Telegram {
            api,
            token: Secret::new(token),
            chat,
        })
    }
}

impl Service for Telegram {
    fn endpoint(&self) -> String {
        format!(
            "{}/bot{}/sendMessage",
            self.api.trim_end_matches('/'),
            self.token.expose()
        )
    }

    fn limit(&self) -> Option<usize> {
        Some(4096)
    }

    fn payload(&self, msg: &Message, _: Origin) -> Payload {
        Payload::json(&json!({
            "chat_id": self.chat,
            "text": shape(msg, false, self.limit()),
            "disable_web_page_preview": true,
        }))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.token.expose()]
    }
}
