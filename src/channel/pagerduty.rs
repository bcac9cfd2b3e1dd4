//! PagerDuty, Events API v2: only what pages (trigger) and what ends a page
//! (resolve), with one dedup key per problem — the service's outage (per host
//! and service), selfheal not running — so that an incident is one
//! PagerDuty incident and a resolve closes only its own; its summary ≤ 1024
//! characters.

use serde_json::json;

use super::text::cut_to;
use super::{Message, Origin, Payload, Service};
use crate::key::{Key, Reader, Secret};
use crate::kind::{Kind, Page, Severity};

pub const KEYS: &[Key] = &[
    Key::new(
        "PAGERDUTY_ROUTING_KEY",
        "",
        "PagerDuty Events API v2 integration key: a page triggers, healthy again resolves \
         (one dedup key per host and service)",
    )
    .secret(),
    Key::new(
        "SELFHEAL_PAGERDUTY_API",
        "https://events.pagerduty.com",
        "PagerDuty API base (EU accounts keep this; tests point it at loopback)",
    ),
];

#[derive(Debug, Clone)]
pub struct PagerDuty {
    api: String,
    key: Secret,
}

impl PagerDuty {
    pub fn configure(r: &Reader) -> Option<PagerDuty> {
        let api = r.url(KEYS[1].name);
        let key = r.optional(KEYS[0].name)?;
        Some(PagerDuty {
            api,
            key: Secret::new(key),
        })
    }
}

impl Service for PagerDuty {
    fn endpoint(&self) -> String {
        format!("{}/v2/enqueue", self.api.trim_end_matches('/'))
    }

    fn limit(&self) -> Option<usize> {
        Some(1024)
    }

    fn takes(&self, kind: Kind) -> bool {
        kind.page() != Page::Tells
    }

    fn payload(&self, msg: &Message, from: Origin) -> Payload {
        let key = self.key.expose();
        // One PagerDuty incident per problem: the service's outage (host and
        // service make the key, so every page of it is one incident and
        // "resolved" ends that one), and selfheal itself not running — whose
        // end must never resolve an outage still open.
        let problem = match msg.kind {
            Kind::CannotRun | Kind::RunsAgain => "/selfheal-cannot-run",
            _ => "",
        };
        let dedup = format!("selfheal/{}/{}{problem}", from.host, from.service);
        if msg.kind.page() == Page::Ends {
            return Payload::json(&json!({
                "routing_key": key,
                "event_action": "resolve",
                "dedup_key": dedup,
            }));
        }
        Payload::json(&json!({
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup,
            "client": "selfheal",
            "payload": {
                "summary": cut_to(&msg.title, 1024),
                "source": from.host,
                "severity": match msg.severity {
                    Severity::Error => "critical",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                },
                "custom_details": {"text": cut_to(&msg.plain(), 16_000)},
            },
        }))
    }

    fn secrets(&self) -> Vec<&str> {
        vec![self.key.expose()]
    }
}
