//! ntfy: a topic URL; the title and priority in headers, the text as the
//! body.

use super::text::{header_text, untitled};
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};
use crate::kind::Severity;

pub const KEYS: &[Key] = &[Key::new("NTFY_URL", "", "ntfy topic URL").secret()];

#[derive(Debug, Clone)]
pub struct Ntfy {
    url: Secret,
}

impl Ntfy {
    pub fn configure(r: &Reader) -> Option<Ntfy> {
        r.secret_url(KEYS[0].name).map(|url| Ntfy { url })
    }
}

impl Service for Ntfy {
    fn endpoint(&self) -> String {
        self.url.expose().to_string()
    }

    fn limit(&self) -> Option<usize> {
        Some(4000)
    }

    fn payload(&self, msg: &Message, _: Origin) -> Payload {
        let body = untitled(msg, self.limit());
        let priority = match msg.severity {
            Severity::Info => "default",
            Severity::Warning => "high",
            Severity::Error => "urgent",
        };
        Payload {
            put: false,
            path: String::new(),
            content_type: "text/plain; charset=utf-8",
            body: body.trim_start().as_bytes().to_vec(),
            headers: vec![
                ("Title", header_text(&msg.title)),
                ("Priority", priority.into()),
                ("Tags", format!("selfheal,{}", msg.severity.name())),
            ],
        }
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.url.expose()]
    }
}
