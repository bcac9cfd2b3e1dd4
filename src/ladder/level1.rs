//! Level 1 at work: when selfheal looks, the service's manager may already
//! be starting it (launchd `KeepAlive`, systemd `Restart=`, Docker's restart
//! policy, or a process of the service's own younger than its boot). That
//! start is left to boot, for as long as the service's boots take
//! (`boot`); a restart follows only when it evidently fails or outlasts that
//! bound. A come-back is level 1's: `self_healed`, no restart counted by the
//! brake, nobody paged.

use std::time::Duration;

use super::restart::wait_boot;
use super::start::{under_way, Start};
use super::{Climb, Outcome, Rung};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::fmt::fmt_secs;

pub struct Level1;
pub const WAIT: Level1 = Level1;

impl Rung for Level1 {
    fn bound(&self, c: &Config) -> Duration {
        super::boot::wait(c).limit + c.http_timeout
    }

    fn plan(&self, ctx: &Ctx, climb: &Climb) -> Vec<String> {
        match under_way(ctx, climb.boot.limit) {
            Some((why, _)) => vec![format!(
                "would leave the start under way to boot first ({why}), up to {}",
                fmt_secs(climb.boot.limit)
            )],
            None => Vec::new(),
        }
    }

    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        let Some((why, age)) = under_way(ctx, climb.boot.limit) else {
            return Ok(None);
        };
        let left = climb.boot.limit.saturating_sub(age);
        ctx.log.act(format!(
            "level 1: {why}; leaving it to boot for up to {} more before any restart",
            fmt_secs(left)
        ));
        let mut start = Start::already(ctx, age);
        let (probe, failed) = wait_boot(ctx, left, &mut start)?;
        ctx.record_probe(&probe);
        climb.probe = probe;
        if climb.probe.healthy() {
            return Ok(Some(Outcome::ByLevel1));
        }
        let said = match failed {
            Some(why) => format!("the start under way failed: {why}"),
            None => format!(
                "the start under way did not finish within {}",
                fmt_secs(climb.boot.limit)
            ),
        };
        ctx.log.warn(format!("level 1: {said}; restarting"));
        climb.ev.step(said.clone(), &ctx.config.secrets());
        climb.start_failed = Some(said);
        Ok(None)
    }
}
