//! `selfheal notify MESSAGE`: a message of the user's through the same
//! delivery as the alerts (the way to test the channels). It does not use the
//! outbox, because it runs beside `check` without the lock.

use super::Verdict;
use crate::alert::deliver;
use crate::alert::outbox::{self, Spool};
use crate::alert::{Facts, Kind, Severity};
use crate::channel::Channel;
use crate::ctx::{Ctx, Mode};
use crate::error::{Error, Result};
use crate::sys::log;

pub fn run(ctx: &mut Ctx, severity: Severity, message: &str) -> Result<Verdict> {
    if deliver::configured(ctx.config).is_empty() {
        return Err(Error::Setup(format!(
            "notify: no alert channel is configured; set {} \
             (README \"Configuration\", contrib/selfheal.env.example)",
            Channel::keys_hint()
        )));
    }
    let facts = Facts {
        host: ctx.host.clone(),
        note: Some(message.to_string()),
        ..Facts::default()
    };
    let summary = outbox::send(ctx, Kind::Custom(severity), &facts, Spool::Drop)?;
    if ctx.mode == Mode::Real {
        log::print(&format!(
            "notify: {} sent, {} failed\n",
            summary.sent,
            summary.failed + summary.queued
        ));
    }
    Ok(if summary.failed + summary.queued == 0 {
        Verdict::Ok
    } else {
        Verdict::Unhealthy
    })
}
