//! Level 4: telling people. `crate::kind` is the vocabulary, `message` the words,
//! `deliver` the bounded delivery to one channel (`crate::channel` builds
//! each service's request), `incident` the policy (once per
//! incident, reminders, resolved, heartbeat) and `outbox` what could not be
//! delivered yet.

pub mod backoff;
pub mod deliver;
pub mod incident;
pub mod message;
pub mod outbox;

pub use crate::channel::Message;
pub use crate::kind::{Kind, Severity};
pub use message::{render, Facts, LevelOutcome};
