//! Level 3's rung: whether an AI agent may start now (configured, not in its
//! cooldown after a failure, tmux and an agent installed), the "escalating"
//! alert before it does, the run's step in the state while it works, and
//! the fix it wrote kept when it healed (`runbook`). The agent itself is
//! `crate::agent`. Also the agent check on the healthy path (`readiness`).

use std::time::Duration;

use super::{level4, runbook, Climb, Outcome, Rung};
use crate::agent::ready;
use crate::agent::{self, Recovery};
use crate::alert::outbox::{self, Spool};
use crate::alert::{incident, Kind, LevelOutcome};
use crate::config::Config;
use crate::ctx::{Ctx, Mode};
use crate::error::Result;
use crate::fmt::fmt_secs;
use crate::key::shellwords;
use crate::probe::Probe;
use crate::state::{AgentCheck, Step};
use crate::sys::clock::unix_now;
use crate::sys::metrics::{Metric, EMERGENCY_FILE};

/// Level 3: the agent, when the gate lets it start.
pub struct Agent;
pub const AGENT: Agent = Agent;

impl Rung for Agent {
    fn step(&self) -> Step {
        Step::Level3
    }

    fn bound(&self, c: &Config) -> Duration {
        match c.agents.is_empty() {
            true => Duration::ZERO,
            // The budget, the dialog wait, and slack for tmux calls and the
            // report grace.
            false => {
                c.recovery_timeout + c.startup_wait + c.trust_timeout + Duration::from_secs(90)
            }
        }
    }

    fn plan(&self, ctx: &Ctx, _: &Climb) -> Vec<String> {
        let c = ctx.config;
        vec![match c.agents.first() {
            None => "would skip level 3 (SELFHEAL_AGENT_CMD is empty)".into(),
            Some(agent) => format!(
                "would start level 3: {} in a private tmux session (budget {})",
                shellwords::join(&agent.argv),
                fmt_secs(c.recovery_timeout)
            ),
        }]
    }

    #[inline(never)]
    fn run(&self, ctx: &mut Ctx, climb: &mut Climb) -> Result<Option<Outcome>> {
        if let Some(i) = ctx.state.incident.as_mut() {
            i.status = climb.probe.status_text();
            i.reason = climb.probe.reason.clone();
        }
        let outcome = match gate(ctx, climb)? {
            Err(skipped) => {
                climb.level3 = Some(skipped);
                return Ok(None);
            }
            Ok(()) => {
                let settle = super::boot::wait(ctx.config).limit;
                let ev = climb.ev.markdown(ctx.config, &ctx.host);
                crate::agent::recover(ctx, &climb.probe, &ev, settle)?
            }
        };
        ctx.set_step(Step::Level4);
        if !outcome.recovered() {
            climb.level3 = Some(format!(
                "{} (log: {})",
                outcome.detail,
                outcome.log_path.display()
            ));
            climb.probe = ctx.probe();
            return Ok(None);
        }
        if let Some(fix) = &outcome.fix {
            runbook::learn(ctx, &climb.ev.signature, fix, outcome.root_cause.as_deref());
        }
        climb.probe = ctx.probe();
        Ok(Some(Outcome::ByAgent(outcome)))
    }
}

/// Whether an agent may start now: `Err` says why not. Sends "escalating"
/// when it may.
fn gate(ctx: &mut Ctx, climb: &Climb) -> Result<std::result::Result<(), String>> {
    let c = ctx.config;
    let Some(agent) = c.agents.first() else {
        ctx.log.warn("level 3 skipped: SELFHEAL_AGENT_CMD is empty");
        return Ok(Err("disabled (SELFHEAL_AGENT_CMD is empty)".into()));
    };
    if let Some(left) = cooldown_left(ctx) {
        let why = format!(
            "cooldown: an AI recovery failed recently; no agent is started for another {}",
            fmt_secs(left)
        );
        ctx.log.warn(format!("level 3 skipped: {why}"));
        ctx.record(
            EMERGENCY_FILE,
            Metric::new("emergency_recovery", Recovery::Cooldown.as_str(), 0.0),
        );
        return Ok(Err(why));
    }
    if ctx.mode == Mode::DryRun {
        return Ok(Err("dry run".into()));
    }
    if let Err(missing) = agent::preflight(c) {
        ctx.log.warn(format!("level 3 cannot start: {missing}"));
        ctx.record(
            EMERGENCY_FILE,
            Metric::new(
                "emergency_recovery",
                Recovery::DependencyFailed.as_str(),
                0.0,
            )
            .with("reason", missing.as_str()),
        );
        return Ok(Err(format!("could not start: {missing}")));
    }
    let mut f = level4::facts(ctx, &climb.probe, climb.failed_levels(), Some(&climb.ev));
    f.levels.push(LevelOutcome {
        level: 3,
        ok: false,
        detail: format!(
            "starting {} (up to {})",
            shellwords::join(&agent.argv),
            fmt_secs(c.recovery_timeout)
        ),
    });
    incident::alert_once(ctx, Kind::Escalating, &f)?;
    ctx.set_step(Step::Level3);
    ctx.save_state();
    Ok(Ok(()))
}

/// How long the cooldown after a failed level 3 still holds.
fn cooldown_left(ctx: &Ctx) -> Option<Duration> {
    let until = ctx.state.agent_cooldown_until?;
    let now = unix_now();
    // A clock that jumped back must not stretch the cooldown.
    let until = until.min(now.saturating_add(ctx.config.agent_cooldown.as_secs() as i64));
    (until > now).then(|| crate::fmt::between(now, until))
}

/// While the service is healthy, at most once per
/// `SELFHEAL_AGENT_CHECK_INTERVAL`: can the agent (or its fallback) work?
/// One warning when it cannot, one info when it can again — learned in the
/// afternoon, not at 3 a.m.
pub fn readiness(ctx: &mut Ctx, probe: &Probe) -> Result<()> {
    let c = ctx.config;
    let every = c.agent_check_interval.as_secs() as i64;
    let Some(agent) = c.agents.first() else {
        return Ok(());
    };
    if every == 0 || ctx.mode == Mode::DryRun {
        return Ok(());
    }
    let now = unix_now();
    let last = ctx.state.agent_check.clone();
    if last
        .as_ref()
        .is_some_and(|l| l.at <= now && now - l.at < every)
    {
        return Ok(());
    }
    let mut ready = ready::ask(c, agent, ctx.clock)?;
    if let Some(fallback) = c.agents.get(1).filter(|_| !ready.works()) {
        let answer = ready::ask(c, fallback, ctx.clock)?;
        if answer.works() {
            ready = answer;
        }
    }
    let took = match ready {
        ready::Ready::Works(t) => t.as_secs_f64(),
        _ => 0.0,
    };
    ctx.record(
        EMERGENCY_FILE,
        Metric::new("agent_check", ready.key(), took),
    );
    let was = last.and_then(|l| l.problem);
    let problem = (!ready.works()).then(|| ready.describe());
    ctx.state.agent_check = Some(AgentCheck {
        at: now,
        problem: problem.clone(),
    });
    ctx.save_state();
    let said = format!(
        "agent check ({}): {}",
        shellwords::join(&agent.argv),
        ready.describe()
    );
    let mut f = level4::facts(ctx, probe, Vec::new(), None);
    match (was, problem) {
        (None, Some(_)) => {
            let fix = ready.fix(agent.profile);
            ctx.log.warn(format!("{said}; fix: {fix}"));
            f.note = Some(format!(
                "{said}.\nFix: {fix}.\nThe service is healthy; this is so that level 3 works \
                 when it is needed. (`selfheal doctor --agent` checks again.)"
            ));
            outbox::send(ctx, Kind::AgentBroken, &f, Spool::Outbox)?;
        }
        (Some(_), None) => {
            ctx.log.info(&said);
            f.note = Some(format!("{said}."));
            outbox::send(ctx, Kind::AgentReady, &f, Spool::Outbox)?;
        }
        _ => ctx.log.info(&said),
    }
    Ok(())
}
