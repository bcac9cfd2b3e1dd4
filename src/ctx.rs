//! The per-run context handed down to every step: configuration, log, mode,
//! clock, HTTP agents and the persisted state. No globals; a step that needs
//! something takes it from here.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::probe::{self, Probe};
use crate::state::{self, State, Step};
use crate::sys::clock::Clock;
use crate::sys::log::{self, Log};
use crate::sys::metrics::{self, Metric, HEALTH_FILE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Real,
    /// Read and probe; print what would be run, written or sent; change nothing.
    DryRun,
}

pub struct Ctx<'a> {
    pub config: &'a Config,
    pub log: Log,
    pub mode: Mode,
    pub clock: &'a dyn Clock,
    pub http: ureq::Agent,
    /// Loaded by commands that hold the run lock; empty otherwise.
    pub state: State,
    /// Whether `state` was loaded (only then is it saved: a command that did
    /// not load it must not overwrite the file with an empty one).
    state_loaded: bool,
    /// The last save of the state failed (a full disk): what it holds is
    /// not on disk.
    unsaved: bool,
    /// `state::UNSAVED_PAGE_FILE` was found: removed once a save succeeds.
    page_marker: bool,
    pub host: String,
    webhooks: OnceCell<ureq::Agent>,
    /// This run went beyond the probe (healing began): its heartbeat
    /// carries the log.
    pub healing: bool,
    /// Healing a service that is live but not ready: a probe counts it
    /// healthy only once its readiness URL says ready.
    pub needs_ready: bool,
    /// Where commands' output goes: `CAPTURE_FILE`, or a file of its own
    /// for a command that runs beside a check (`why`).
    capture: PathBuf,
}

/// Where restart and repair commands write their output.
const CAPTURE_FILE: &str = ".command-output";

impl<'a> Ctx<'a> {
    pub fn new(config: &'a Config, log: Log, mode: Mode, clock: &'a dyn Clock) -> Ctx<'a> {
        Ctx {
            config,
            log,
            mode,
            clock,
            http: probe::agent(config),
            state: State::default(),
            state_loaded: false,
            unsaved: false,
            page_marker: false,
            host: hostname(),
            webhooks: OnceCell::new(),
            healing: false,
            needs_ready: false,
            capture: config.memory_dir.join(CAPTURE_FILE),
        }
    }

    /// Whether the service is the OpenClaw gateway: as the configuration
    /// says, or (`SELFHEAL_SERVICE=auto`) as its own process showed when it
    /// was last seen healthy.
    pub fn openclaw(&self) -> bool {
        self.config.is_openclaw()
            || (self.config.service == crate::key::values::ServiceKind::Auto
                && self
                    .state
                    .service
                    .as_ref()
                    .is_some_and(|s| crate::openclaw::is_its_process(&s.identity.cmdline)))
    }

    pub fn probe(&self) -> Probe {
        let live = probe::probe(&self.http, self.config);
        if !self.needs_ready || !live.healthy() {
            return live;
        }
        match self.readiness().not_ready() {
            Some(failing) => Probe {
                failure: Some(probe::Failure::NotReady),
                status: Some(503),
                latency: live.latency,
                reason: probe::not_ready_reason(&failing),
            },
            None => live,
        }
    }

    /// Where the service says whether it is ready (`SELFHEAL_READY_URL`):
    /// `auto` is OpenClaw's `/readyz` on the gateway's address.
    pub fn ready_url(&self) -> Option<String> {
        use crate::key::values::ReadyUrl;
        match &self.config.ready_url {
            ReadyUrl::Off => None,
            ReadyUrl::Url(u) => Some(u.clone()),
            ReadyUrl::Auto if self.openclaw() => {
                probe::origin(&self.config.url).map(|o| format!("{o}/readyz"))
            }
            ReadyUrl::Auto => None,
        }
    }

    /// What the readiness URL says now (`Unknown` when there is none).
    pub fn readiness(&self) -> probe::Readiness {
        match self.ready_url() {
            Some(url) => probe::readiness(
                &self.http,
                &url,
                self.config.gateway_token.as_ref().map(|t| t.expose()),
            ),
            None => probe::Readiness::Unknown("no readiness URL".into()),
        }
    }

    /// The agent for webhooks and heartbeats, built on first use.
    pub fn webhooks(&self) -> &ureq::Agent {
        self.webhooks
            .get_or_init(|| crate::sys::http::webhook_agent(self.config.alert_timeout))
    }

    /// Appends a metric line (or, in a dry run, prints it). A metrics file
    /// that cannot be written is a warning: healing matters more.
    pub fn record(&mut self, file: &str, metric: Metric) {
        match self.mode {
            Mode::DryRun => {
                let line = String::from_utf8_lossy(&metric.to_line()).into_owned();
                log::print(&format!("would record in {file}: {line}"));
            }
            Mode::Real => {
                if self.state_loaded {
                    self.count(&metric);
                }
                if let Err(e) = metrics::append(&self.config.memory_dir, file, &metric) {
                    self.log.warn(format!("metrics not recorded: {e}"));
                }
            }
        }
    }

    /// The Prometheus counters a metric line adds to.
    fn count(&mut self, metric: &Metric) {
        let state = &mut self.state;
        *state
            .counters
            .entry(format!("{}:{}", metric.metric, metric.result))
            .or_default() += 1;
        match (metric.metric, metric.result.as_str()) {
            ("recovery", "success" | "self_healed") => {
                let by = metric.extra.iter().find(|(k, _)| *k == "by");
                if let Some((_, serde_json::Value::String(by))) = by {
                    *state.heals.entry(by.clone()).or_default() += 1;
                }
            }
            ("incident", "resolved") if metric.duration.is_finite() && metric.duration > 0.0 => {
                state.downtime_seconds = state
                    .downtime_seconds
                    .saturating_add(metric.duration.round() as u64);
            }
            _ => {}
        }
    }

    /// Appends the `http_check` line of a probe.
    pub fn record_probe(&mut self, probe: &Probe) {
        self.record(
            HEALTH_FILE,
            Metric::new(
                "http_check",
                probe.status_text(),
                probe.latency.as_secs_f64(),
            ),
        );
    }

    /// Records which step of the ladder this run is in (saved with the
    /// next `save_state`).
    pub fn set_step(&mut self, step: Step) {
        if let Some(r) = self.state.running.as_mut() {
            r.step = step;
        }
    }

    /// Loads the state file (real runs only); a corrupt one is reported, a
    /// forged one refused.
    pub fn load_state(&mut self) -> crate::error::Result<()> {
        if self.mode == Mode::Real {
            let (state, warning) = state::load(&self.config.memory_dir)?;
            self.state = state;
            self.state_loaded = true;
            if let Some(w) = warning {
                self.log.warn(format!("warning: {w}"));
            }
            if let Some(at) = state::unsaved_page(&self.config.memory_dir) {
                self.page_marker = true;
                self.recall_page(at);
            }
        }
        Ok(())
    }

    /// Writes the state atomically (never in a dry run). False when it
    /// could not be written (a full disk): the caller must not claim that
    /// anything it holds was kept.
    pub fn save_state(&mut self) -> bool {
        if self.mode == Mode::Real && self.state_loaded {
            if let Err(e) = state::save(&self.config.memory_dir, &self.state) {
                self.log.warn(format!("state not saved: {e}"));
                self.unsaved = true;
                return false;
            }
            self.unsaved = false;
            if self.page_marker {
                state::clear_unsaved_page(&self.config.memory_dir);
                self.page_marker = false;
            }
        }
        true
    }

    /// A page went out that the state file could not record: an empty
    /// marker (no data block needed) keeps the next run from paging again.
    pub fn remember_unsaved_page(&mut self) {
        if self.mode == Mode::Real && self.unsaved {
            match state::mark_unsaved_page(&self.config.memory_dir) {
                Ok(()) => {
                    self.page_marker = true;
                    self.log.warn(
                        "the state could not be saved after a page went out; \
                         the next run will know it paged (marker file)",
                    );
                }
                Err(e) => self.log.warn(format!(
                    "the state could not be saved after a page went out, nor a marker ({e}): \
                     the next run may page again"
                )),
            }
        }
    }

    /// The incident whose page the marker stands for is over: the marker
    /// goes (removing a file needs no free space), so that the next outage
    /// pages and no later healthy run sends "resolved" again.
    pub fn forget_unsaved_page(&mut self) {
        if self.page_marker {
            state::clear_unsaved_page(&self.config.memory_dir);
            self.page_marker = false;
        }
    }

    /// The run before this one paged at `at` but could not save it: the
    /// incident counts as paged (no new page; a resolved when it ends).
    fn recall_page(&mut self, at: i64) {
        let incident = self
            .state
            .incident
            .get_or_insert_with(crate::state::Incident::default);
        if incident.paged() {
            return;
        }
        incident.started = incident.started.min(at);
        incident.alerted.push(crate::kind::Kind::Failed);
        incident.last_alert = Some(incident.last_alert.unwrap_or(at).max(at));
        self.log.warn(
            "an earlier run paged but could not save its state (full disk?): \
             not paging again for this incident",
        );
    }

    /// Runs a restart, repair or learned command (`process::run`), with its
    /// process group in the state while it runs: if this run is killed, the
    /// next one ends the command instead of leaving it running.
    pub fn run_command(
        &mut self,
        argv: &[String],
        timeout: std::time::Duration,
    ) -> crate::error::Result<crate::sys::process::Finished> {
        let capture = self.capture_path();
        let secrets = self.config.secrets();
        let keep = self.mode == Mode::Real && self.state_loaded;
        let dir = &self.config.memory_dir;
        let state = &mut self.state;
        let done =
            crate::sys::process::run(argv, timeout, &capture, self.clock, &secrets, &mut |g| {
                if let Some(r) = state.running.as_mut() {
                    r.child = Some(g.clone());
                    if keep {
                        let _ = state::save(dir, state);
                    }
                }
            });
        if let Some(r) = self.state.running.as_mut() {
            r.child = None;
        }
        done
    }

    /// Probes every `SELFHEAL_POLL_INTERVAL` for up to `limit`, returning the
    /// first healthy probe, or the last one when time is up. Probes at least once.
    pub fn wait_healthy(&mut self, limit: Duration) -> crate::error::Result<Probe> {
        let (clock, poll) = (self.clock, self.config.poll_interval);
        let mut polls = 0u32;
        let mut progress = Progress::new(clock.now(), limit);
        let probe = poll_until(clock, limit, poll, || {
            polls += 1;
            let p = self.probe();
            progress.report(self, "waiting for it to be healthy", &p);
            (p, false)
        })?;
        self.log
            .debug(format!("probed {polls} time(s): {}", probe.reason));
        Ok(probe)
    }

    pub fn capture_path(&self) -> PathBuf {
        self.capture.clone()
    }

    /// Commands' output to a file of this process's own, so that a command
    /// run without the lock never overwrites a check's.
    pub fn capture_apart(&mut self) {
        self.capture = self
            .config
            .memory_dir
            .join(format!("{CAPTURE_FILE}.{}", std::process::id()));
    }
}

/// A line at most once a minute during a long wait (with `-v`), so that
/// someone watching knows the run is alive and what it waits for.
pub struct Progress {
    start: std::time::Instant,
    last: std::time::Instant,
    limit: std::time::Duration,
}

impl Progress {
    pub const EVERY: std::time::Duration = std::time::Duration::from_secs(60);

    pub fn new(now: std::time::Instant, limit: std::time::Duration) -> Progress {
        Progress {
            start: now,
            last: now,
            limit,
        }
    }

    /// Whether a line is due at `now` (and from then on, the next minute).
    pub fn due(&mut self, now: std::time::Instant) -> bool {
        if now.saturating_duration_since(self.last) < Self::EVERY {
            return false;
        }
        self.last = now;
        true
    }

    pub fn report(&mut self, ctx: &mut Ctx, what: &str, probe: &crate::probe::Probe) {
        if ctx.log.is_verbose() && self.due(ctx.clock.now()) {
            let waited = ctx.clock.now().saturating_duration_since(self.start);
            ctx.log.debug(format!(
                "{what}: {} of up to {}; last probe: {}",
                crate::fmt::fmt_secs(waited),
                crate::fmt::fmt_secs(self.limit),
                probe.reason
            ));
        }
    }
}

pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "this host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    if name.is_empty() {
        "this host".into()
    } else {
        name
    }
}

/// The polling loop, apart from probing, so that it can be tested with a
/// fake clock: `look` probes and says whether to give up; until healthy,
/// given up, or the limit.
pub fn poll_until(
    clock: &dyn Clock,
    limit: Duration,
    poll: Duration,
    mut look: impl FnMut() -> (Probe, bool),
) -> crate::error::Result<Probe> {
    let deadline = clock.now() + limit;
    loop {
        let now = clock.now();
        clock.sleep(poll.min(deadline.saturating_duration_since(now)))?;
        let (p, give_up) = look();
        if p.healthy() || clock.now() >= deadline || give_up {
            return Ok(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::clock::{Clock, FakeClock};

    #[test]
    fn progress_is_due_at_most_once_a_minute() {
        let clock = FakeClock::default();
        let mut progress = Progress::new(clock.now(), std::time::Duration::from_secs(600));
        let mut lines = 0;
        // Five minutes of polls every 2 s.
        for _ in 0..150 {
            let _ = clock.sleep(std::time::Duration::from_secs(2));
            lines += usize::from(progress.due(clock.now()));
        }
        assert_eq!(lines, 5);
    }
}
