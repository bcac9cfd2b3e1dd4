//! Level 4: telling people. `crate::kind` is the vocabulary, `message` the words,
//! `channels` the delivery to each service, `incident` the policy (once per
//! incident, reminders, resolved, heartbeat) and `outbox` what could not be
//! delivered yet.

pub mod channels;
pub mod incident;
pub mod message;
pub mod outbox;

pub use crate::kind::{Kind, Severity};
pub use message::{render, Facts, LevelOutcome, Message};
