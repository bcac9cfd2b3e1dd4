//! The alert channels, one file each: its keys (declared once, with their
//! help), its typed configuration read from them, and what it sends — the
//! endpoint, the request for one message, its length limit, which kinds it
//! takes and which failures are worth retrying. `channels!` below is the one
//! list of them; the name enum (`Channel`), the typed configuration
//! (`Target`) and the dispatch come from it.
//!
//! A channel builds requests; it sends nothing. Delivery (bounded
//! attempts, retries, the outbox) is `crate::alert`'s. Secrets stay inside
//! `Target`: only `shown_endpoint` may be logged.

use crate::key::{Key, Reader};
use crate::kind::{Kind, Severity};

mod text;

pub use text::{cut_to, percent_encode};

/// What a channel is given to send: rendered by `alert::message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub severity: Severity,
    /// One line, with the emoji.
    pub title: String,
    /// Detail lines; the part that is shortened when a service has a limit.
    pub lines: Vec<String>,
    pub commands: Vec<String>,
}

impl Message {
    /// Plain text: title, details, then the commands.
    pub fn plain(&self) -> String {
        let mut text = self.title.clone();
        if !self.lines.is_empty() {
            text.push_str("\n\n");
            text.push_str(&self.lines.join("\n"));
        }
        if !self.commands.is_empty() {
            text.push_str("\n\n");
            text.push_str(&self.commands.join("\n"));
        }
        text
    }
}

/// Who sends: the host and the service watched (as it may be shown).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub host: &'a str,
    pub service: &'a str,
}

/// One request.
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

impl Payload {
    pub fn json(v: &serde_json::Value) -> Payload {
        Payload {
            content_type: "application/json",
            body: serde_json::to_vec(v).unwrap_or_default(),
            headers: Vec::new(),
            put: false,
            path: String::new(),
        }
    }
}

/// What every channel does.
pub trait Service {
    /// The endpoint, with its secret: never log it (`Target::shown_endpoint`).
    fn endpoint(&self) -> String;
    /// The service's limit in UTF-16 units, as it counts; `None`: none that
    /// matters.
    fn limit(&self) -> Option<usize>;
    /// The request for one message.
    fn payload(&self, msg: &Message, from: Origin) -> Payload;
    /// Every secret it holds, to scrub from any text.
    fn secrets(&self) -> Vec<&str>;
    /// Whether it takes a message of `kind`.
    fn takes(&self, _kind: Kind) -> bool {
        true
    }
    /// Whether a failure with this HTTP status is worth another attempt.
    fn retries(&self, status: u16) -> bool {
        matches!(status, 408 | 429 | 500..=599)
    }
}

/// Declares the channels: `Variant(module) = "name"`. The module has
/// `KEYS`, a type named like the variant with `configure(&Reader)`, and
/// its `Service`.
macro_rules! channels {
    ($($variant:ident($module:ident) = $name:literal;)*) => {
        $(mod $module;)*

        /// A channel by name (`SELFHEAL_CHANNELS`, the outbox, the incident).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Channel {
            $($variant,)*
        }

        impl Channel {
            pub const ALL: &[Channel] = &[$(Channel::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Channel::$variant => $name,)*
                }
            }

            /// Its keys, declared in its file.
            pub fn keys(self) -> &'static [Key] {
                match self {
                    $(Channel::$variant => $module::KEYS,)*
                }
            }
        }

        /// A configured channel: its typed configuration.
        #[derive(Debug, Clone)]
        pub enum Target {
            $($variant($module::$variant),)*
        }

        impl Target {
            pub fn channel(&self) -> Channel {
                match self {
                    $(Target::$variant(_) => Channel::$variant,)*
                }
            }

            pub fn service(&self) -> &dyn Service {
                match self {
                    $(Target::$variant(s) => s,)*
                }
            }
        }

        /// Every channel whose keys are set, validated (errors go to `r`).
        pub fn configure(r: &Reader) -> Vec<Target> {
            let mut all = Vec::new();
            $(
                if let Some(t) = $module::$variant::configure(r) {
                    all.push(Target::$variant(t));
                }
            )*
            all
        }
    };
}

channels! {
    Discord(discord) = "discord";
    Slack(slack) = "slack";
    Telegram(telegram) = "telegram";
    Ntfy(ntfy) = "ntfy";
    Webhook(webhook) = "webhook";
    PagerDuty(pagerduty) = "pagerduty";
    Pushover(pushover) = "pushover";
    Gotify(gotify) = "gotify";
    Matrix(matrix) = "matrix";
}

impl Channel {
    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The keys that configure any channel, as a sentence's list:
    /// `DISCORD_WEBHOOK_URL, …, TELEGRAM_BOT_TOKEN + TELEGRAM_CHAT_ID, …`.
    pub fn keys_hint() -> String {
        let each: Vec<String> = Channel::ALL
            .iter()
            .map(|c| {
                let required: Vec<&str> = c
                    .keys()
                    .iter()
                    .filter(|k| k.default.is_empty())
                    .map(|k| k.name)
                    .collect();
                required.join(" + ")
            })
            .collect();
        match each.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => each.join(""),
        }
    }
}

impl Target {
    /// The endpoint as it may be shown: no token, no user info, no query.
    pub fn shown_endpoint(&self) -> String {
        crate::sys::redact::secret_url(&self.service().endpoint())
    }
}

/// Kept in files by name.
impl serde::Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A name this version does not know is an error (the caller drops what
/// holds it: a queued alert for a channel that no longer exists).
impl<'de> serde::Deserialize<'de> for Channel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Channel, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Channel::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown channel {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_names_every_channel_and_its_keys() {
        let hint = Channel::keys_hint();
        assert!(
            hint.starts_with(
                "DISCORD_WEBHOOK_URL, SLACK_WEBHOOK_URL, TELEGRAM_BOT_TOKEN + TELEGRAM_CHAT_ID"
            ),
            "{hint}"
        );
        assert!(
            hint.ends_with(" or MATRIX_HOMESERVER + MATRIX_ROOM_ID + MATRIX_ACCESS_TOKEN"),
            "{hint}"
        );
    }
}
