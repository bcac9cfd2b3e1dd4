//! The persisted state between runs: the open incident, the alert outbox,
//! which step a run is in, the level 3 cooldown and the Prometheus counters.
//! (The maintenance window has a file of its own: `PAUSE_FILE`.)
//!
//! One JSON file, `.selfheal-state.json`, replaced atomically (temp file,
//! fsync, rename) so that a crash or `kill -9` at any moment leaves either the
//! old or the new state, never half of one. A corrupt file is set aside (not
//! deleted) and the run starts from an empty state with a warning. Only the
//! process holding the run lock writes it. Secrets are never stored here:
//! queued alerts keep the channel's name and the text, and the URL is taken
//! from the configuration when they are sent.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::error::Result;
use crate::kind::{Kind, Severity};
use crate::sys::files;

pub const STATE_FILE: &str = ".selfheal-state.json";

/// Read by `from_value`, field by field (an outbox entry by entry): one bad
/// field costs that field, never the open incident or the queued alerts.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct State {
    pub incident: Option<Incident>,
    pub outbox: Vec<Queued>,
    /// Set while a run is healing; a run that finds it set (and holds the
    /// lock) knows the previous run died mid-ladder.
    pub running: Option<Running>,
    /// Unix time before which no agent is started again (level 3).
    pub agent_cooldown_until: Option<i64>,
    /// Events recorded so far, `metric:result` → count (Prometheus counters).
    pub counters: std::collections::BTreeMap<String, u64>,
    /// Incidents healed, by what healed them (`recovery`'s `by`): counters.
    pub heals: std::collections::BTreeMap<String, u64>,
    /// Seconds of downtime of every resolved incident, summed: a counter
    /// (time to heal = its increase over the resolved incidents').
    pub downtime_seconds: u64,
    /// The install, and the last installs that worked (`ladder::install`).
    pub install: Option<crate::sys::install::InstallState>,
    /// The crash-loop brake and flapping: what happened within the window.
    pub brake: Brake,
    /// The last check that the agent can work (`SELFHEAL_AGENT_CHECK_INTERVAL`).
    pub agent_check: Option<AgentCheck>,
    /// The start (unix time) of the last period whose digest went out.
    pub digest_sent: Option<i64>,
    /// Early warnings: the episodes in progress.
    pub early: Early,
    /// The service's own process, as last seen healthy (`ladder::service`).
    pub service: Option<ServiceProc>,
    /// Alert channels that are failing, by name (`alert::backoff`).
    pub channels: std::collections::BTreeMap<String, ChannelHealth>,
    /// Live but not ready (`ladder::ready`): since when, how many checks
    /// in a row, and what it named as failing.
    pub not_ready: Option<NotReady>,
    /// What the service holds back itself (its readiness answer's
    /// `suppressed`): since when, and the names (`ladder::ready`).
    pub held_back: Option<HeldBack>,
    /// A rollback between its restore and its verdict: a run that dies
    /// there leaves the user's files replaced; the next run finishes or
    /// undoes it (`ladder::rollback::unfinished`) and says which.
    pub rollback: Option<RollbackRecord>,
}

/// What a service holds back itself, and since when (unix time).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HeldBack {
    pub since: i64,
    pub names: Vec<String>,
}

/// A live service that says it is not ready.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NotReady {
    /// Unix time of the first not-ready check of this episode.
    pub since: i64,
    pub checks: u32,
    pub failing: Vec<String>,
}

/// The files a rollback in progress replaced.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RollbackRecord {
    /// Unix time of the restore.
    pub at: i64,
    pub files: Vec<Replaced>,
}

/// One watched file a rollback replaced with its last working version.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Replaced {
    pub file: PathBuf,
    /// Where the user's version was moved (`None`: there was none).
    pub aside: Option<PathBuf>,
    /// The kept version that was written in its place.
    pub good: PathBuf,
}

/// A channel that could not deliver: since when, and when it is tried again.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ChannelHealth {
    /// Unix time of the first failure of this episode.
    pub since: i64,
    pub failures: u32,
    /// Unix time before which it is not tried again (but for a page).
    pub next_try: i64,
    /// The last error, in words.
    pub error: String,
}

/// The service's process as last seen: the owner of its port.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServiceProc {
    /// 0: none found at the last look.
    pub pid: u32,
    /// When it started (`process::start_stamp`): a pid reused is another.
    pub started: String,
    /// Its executable and command line: how its processes are known.
    pub identity: crate::sys::procs::Identity,
    /// Unix time of the last search for it.
    pub looked: i64,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Early {
    /// Consecutive runs whose probe was slower than `SELFHEAL_WARN_LATENCY`.
    pub slow_runs: u32,
    /// Thresholds crossed whose warning went out (`rss`, `disk`, `latency`).
    pub active: Vec<String>,
    /// Consecutive checks with the service's memory over
    /// `SELFHEAL_RESTART_RSS` (`ladder::planned`).
    pub rss_over: u32,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AgentCheck {
    /// Unix time of the check.
    pub at: i64,
    /// What was wrong (`None`: it works); its warning went out.
    pub problem: Option<String>,
}

/// What the crash-loop brake and the flapping warning remember across runs.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Brake {
    /// Unix times of the restarts selfheal ran within the window.
    pub restarts: Vec<i64>,
    /// Restarts let through since the crash loop began: the backoff's exponent.
    pub level: u32,
    /// Unix times the service was healed without a human, within the window.
    pub heals: Vec<i64>,
    /// Unix time of the last confirmed failure.
    pub last_failure: Option<i64>,
    /// Since when the service is known to flap (its warning went out).
    pub flapping_since: Option<i64>,
}

/// Read field by field through `serde_json::Value` (whose parser the binary
/// has anyway): a field of the wrong type is ignored, never the whole state.
impl<'de> Deserialize<'de> for Brake {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Brake, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let times = |key: &str| -> Vec<i64> {
            v[key]
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect())
                .unwrap_or_default()
        };
        Ok(Brake {
            restarts: times("restarts"),
            level: v["level"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            heals: times("heals"),
            last_failure: v["last_failure"].as_i64(),
            flapping_since: v["flapping_since"].as_i64(),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Incident {
    /// Unix time of the first unhealthy probe.
    pub started: i64,
    /// Message kinds already sent (or queued) for this incident.
    pub alerted: Vec<Kind>,
    /// Unix time of the last alert or reminder.
    pub last_alert: Option<i64>,
    /// The latest reason, for reminders.
    pub reason: String,
    pub status: String,
    /// The (shown) URL of the service it is about: an incident of another
    /// service is not this one's to resolve.
    pub url: String,
    /// The channels a page of this incident went to (or is queued for): a
    /// channel configured later gets the page on the next run.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "known_channels"
    )]
    pub told: Vec<Channel>,
}

/// The channels of a list that this version knows (a newer version's or a
/// forged name is left out, not the incident).
fn known_channels<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<Channel>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    Ok(names.iter().filter_map(|n| Channel::from_name(n)).collect())
}

impl Default for Incident {
    fn default() -> Incident {
        Incident {
            started: crate::sys::clock::unix_now(),
            alerted: Vec::new(),
            last_alert: None,
            reason: String::new(),
            status: "000".into(),
            url: String::new(),
            told: Vec::new(),
        }
    }
}

impl Incident {
    pub fn was_alerted(&self, kind: Kind) -> bool {
        self.alerted.contains(&kind)
    }

    /// Whether any message that calls for a human went out (then the
    /// incident ends with "resolved").
    pub fn paged(&self) -> bool {
        self.alerted.iter().any(|k| k.pages())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(from = "QueuedFile")]
pub struct Queued {
    /// Unix time the message was first tried.
    pub created: i64,
    pub channel: Channel,
    pub kind: Kind,
    pub severity: Severity,
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub attempts: u32,
}

/// A queued alert as the file has it: its kind is read with its severity
/// (a `notify` message's kind is `custom` of that severity).
#[derive(Deserialize)]
struct QueuedFile {
    created: i64,
    channel: Channel,
    kind: String,
    severity: Severity,
    title: String,
    text: String,
    #[serde(default)]
    attempts: u32,
}

impl From<QueuedFile> for Queued {
    fn from(q: QueuedFile) -> Queued {
        Queued {
            created: q.created,
            channel: q.channel,
            kind: Kind::from_key(&q.kind, q.severity),
            severity: q.severity,
            title: q.title,
            text: q.text,
            attempts: q.attempts,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Running {
    pub step: Step,
    pub pid: u32,
    pub since: i64,
    /// The command it was waiting on, if any: a run that finds this run
    /// dead ends the command too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<crate::sys::process::Group>,
}

/// The step of the ladder a run is in, as the state file spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Level2,
    Level3,
    Level4,
    /// A name this version does not know (a newer version's, or a forged
    /// file): never shown as written.
    Unknown,
}

impl Step {
    const KNOWN: [Step; 3] = [Step::Level2, Step::Level3, Step::Level4];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Level2 => "level 2",
            Step::Level3 => "level 3 (AI agent)",
            Step::Level4 => "level 4 (alerts)",
            Step::Unknown => "an unknown step",
        }
    }
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Step, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Step::KNOWN
            .into_iter()
            .find(|s| s.as_str() == name)
            .unwrap_or(Step::Unknown))
    }
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// Loads the state; a missing file is an empty state. A corrupt one is moved
/// aside and reported in the returned warning. A state file someone else
/// wrote or can write is refused (it could be forged: a fake outbox would be
/// delivered to the team's channels in selfheal's name).
pub fn load(dir: &Path) -> Result<(State, Option<String>)> {
    let path = path(dir);
    let bytes = match read_capped(&path) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok((State::default(), None)),
        Err(Read::Refused(e)) => return Err(e),
        Err(Read::Io(e)) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok((
                State::default(),
                Some(format!(
                    "{} is a symlink: not followed; it will be replaced by a file of selfheal's",
                    path.display()
                )),
            ))
        }
        Err(Read::Io(e)) => return Ok((State::default(), Some(format!("state not read: {e}")))),
    };
    Ok(match parse(&bytes) {
        Ok((mut state, dropped)) => {
            state.clamp_times(crate::sys::clock::unix_now());
            let warning = (!dropped.is_empty()).then(|| {
                format!(
                    "state file: dropped what could not be read ({}); kept the rest",
                    dropped.join("; ")
                )
            });
            (state, warning)
        }
        Err(e) => {
            let aside = dir.join(format!(
                "{STATE_FILE}.corrupt-{}",
                crate::sys::clock::unix_now()
            ));
            let _ = std::fs::rename(&path, &aside);
            (
                State::default(),
                Some(format!(
                    "state file was corrupt ({e}); moved to {} and started afresh",
                    aside.display()
                )),
            )
        }
    })
}

enum Read {
    Io(std::io::Error),
    /// Someone else's file, or one others can write.
    Refused(crate::error::Error),
}

fn read_capped(path: &Path) -> Result<Option<Vec<u8>>, Read> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: a FIFO here must not hang the run.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path);
    let file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Read::Io(e)),
    };
    let meta = file.metadata().map_err(Read::Io)?;
    if !meta.is_file() {
        return Err(Read::Io(std::io::Error::other("not a regular file")));
    }
    files::check_owned(&meta, path).map_err(Read::Refused)?;
    let mut bytes = Vec::new();
    file.take(4 << 20)
        .read_to_end(&mut bytes)
        .map_err(Read::Io)?;
    Ok(Some(bytes))
}

/// An empty file whose mtime says when a page went out that the state file
/// could not record (a full disk). Empty, so that it can be made when no
/// data block is free; read by the next run so that it does not page again.
pub const UNSAVED_PAGE_FILE: &str = ".selfheal-paged-unsaved";

/// When the page that the state could not record went out.
pub fn unsaved_page(dir: &Path) -> Option<i64> {
    let path = dir.join(UNSAVED_PAGE_FILE);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() || files::check_owned(&meta, &path).is_err() {
        return None;
    }
    use std::os::unix::fs::MetadataExt;
    Some(meta.mtime())
}

pub fn mark_unsaved_page(dir: &Path) -> Result<()> {
    let path = dir.join(UNSAVED_PAGE_FILE);
    let file = files::open_append(&path)?;
    file.set_modified(std::time::SystemTime::now())
        .map_err(|e| crate::error::Error::io("touch", &path, e))
}

pub fn clear_unsaved_page(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(UNSAVED_PAGE_FILE));
}

/// The maintenance window lives in a file of its own, so that `pause` works
/// while a long `check` holds the lock (and that check's save of the state
/// cannot undo it).
pub const PAUSE_FILE: &str = ".selfheal-pause";

/// The end of the maintenance window (unix time), if one was set.
pub fn paused_until(dir: &Path) -> Option<i64> {
    let bytes = read_capped(&dir.join(PAUSE_FILE)).ok().flatten()?;
    String::from_utf8_lossy(&bytes).trim().parse().ok()
}

pub fn set_pause(dir: &Path, until: i64) -> Result<()> {
    files::write_atomic(&dir.join(PAUSE_FILE), format!("{until}\n").as_bytes())
}

pub fn clear_pause(dir: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(dir.join(PAUSE_FILE)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The state as it is, for reading only (`status`): nothing is moved aside.
pub fn peek(dir: &Path) -> Option<State> {
    let bytes = read_capped(&path(dir)).ok().flatten()?;
    parse(&bytes).ok().map(|(state, _)| state)
}

/// The state in a file's bytes, and what of it could not be read; `Err` when
/// they are not a JSON object at all. Never panics (fuzzed: `make fuzz`).
pub fn parse(bytes: &[u8]) -> std::result::Result<(State, Vec<String>), String> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v @ serde_json::Value::Object(_)) => {
            let mut dropped = Vec::new();
            let state = from_value(v, &mut dropped);
            Ok((state, dropped))
        }
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The state in `v`, each field on its own; what cannot be read is named in
/// `dropped` and left at its default.
fn from_value(mut v: serde_json::Value, dropped: &mut Vec<String>) -> State {
    fn field<T: serde::de::DeserializeOwned + Default>(
        v: &mut serde_json::Value,
        key: &str,
        dropped: &mut Vec<String>,
    ) -> T {
        match v.get_mut(key).map(serde_json::Value::take) {
            None | Some(serde_json::Value::Null) => T::default(),
            Some(x) => serde_json::from_value(x).unwrap_or_else(|e| {
                dropped.push(format!("{key}: {e}"));
                T::default()
            }),
        }
    }
    let entries: Vec<serde_json::Value> = field(&mut v, "outbox", dropped);
    let outbox = entries
        .into_iter()
        .filter_map(|e| {
            serde_json::from_value(e)
                .map_err(|e| dropped.push(format!("a queued alert: {e}")))
                .ok()
        })
        .collect();
    State {
        incident: field(&mut v, "incident", dropped),
        outbox,
        running: field(&mut v, "running", dropped),
        agent_cooldown_until: field(&mut v, "agent_cooldown_until", dropped),
        counters: field(&mut v, "counters", dropped),
        heals: field(&mut v, "heals", dropped),
        downtime_seconds: field(&mut v, "downtime_seconds", dropped),
        install: field(&mut v, "install", dropped),
        brake: field(&mut v, "brake", dropped),
        agent_check: field(&mut v, "agent_check", dropped),
        digest_sent: field(&mut v, "digest_sent", dropped),
        early: field(&mut v, "early", dropped),
        service: field(&mut v, "service", dropped),
        channels: field(&mut v, "channels", dropped),
        rollback: field(&mut v, "rollback", dropped),
        not_ready: field(&mut v, "not_ready", dropped),
        held_back: field(&mut v, "held_back", dropped),
    }
}

impl State {
    /// A time from the future (a clock set back, a forged file) must not
    /// hold anything back: when something happened is at most now; a
    /// digest or an agent check "done" in the future is not done. (How long
    /// a wait may still hold is bounded where it is read: the agent's
    /// cooldown, a channel's backoff, the brake's window.)
    pub fn clamp_times(&mut self, now: i64) {
        let past = |t: &mut i64| *t = (*t).min(now);
        if let Some(i) = &mut self.incident {
            past(&mut i.started);
            if let Some(t) = &mut i.last_alert {
                past(t);
            }
        }
        if let Some(r) = &mut self.running {
            past(&mut r.since);
        }
        for q in &mut self.outbox {
            past(&mut q.created);
        }
        self.digest_sent = self.digest_sent.filter(|&t| t <= now);
        self.agent_check = self.agent_check.take().filter(|c| c.at <= now);
        for h in self.channels.values_mut() {
            past(&mut h.since);
        }
        if let Some(s) = &mut self.service {
            past(&mut s.looked);
        }
        if let Some(t) = &mut self.brake.last_failure {
            past(t);
        }
        if let Some(t) = &mut self.brake.flapping_since {
            past(t);
        }
        if let Some(r) = &mut self.rollback {
            past(&mut r.at);
        }
        let since = [
            self.not_ready.as_mut().map(|n| &mut n.since),
            self.held_back.as_mut().map(|h| &mut h.since),
        ];
        since.into_iter().flatten().for_each(past);
    }
}

pub fn save(dir: &Path, state: &State) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    bytes.push(b'\n');
    files::write_atomic(&path(dir), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::current_dir().unwrap_or_default().join(format!(
            "target/unit-scratch/state-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        crate::sys::files::ensure_dir(&dir).expect("dir");
        dir
    }

    #[test]
    fn round_trip_and_missing_file() {
        let dir = scratch("rt");
        assert_eq!(load(&dir).expect("load"), (State::default(), None));
        let s = State {
            incident: Some(Incident {
                started: 5,
                ..Incident::default()
            }),
            ..State::default()
        };
        save(&dir, &s).expect("save");
        assert_eq!(load(&dir).expect("load").0, s);
    }

    #[test]
    fn corrupt_and_empty_files_are_set_aside() {
        for (name, bytes) in [
            ("corrupt", &b"{not json"[..]),
            ("empty", b""),
            ("binary", b"\xff\x00\xfe"),
        ] {
            let dir = scratch(name);
            std::fs::write(path(&dir), bytes).expect("write");
            let (s, warning) = load(&dir).expect("load");
            assert_eq!(s, State::default());
            assert!(warning.is_some_and(|w| w.contains("corrupt")), "{name}");
            assert!(!path(&dir).exists());
        }
    }

    #[test]
    fn steps_and_kinds_keep_their_names() {
        let dir = scratch("names");
        let text = br#"{"running": {"step": "level 3 (AI agent)", "pid": 1, "since": 2},
            "incident": {"started": 3, "alerted": ["escalating", "from_a_newer_version"]}}"#;
        std::fs::write(path(&dir), text).expect("write");
        let (s, warning) = load(&dir).expect("load");
        assert_eq!(warning, None);
        assert_eq!(s.running.map(|r| r.step), Some(Step::Level3));
        let incident = s.incident.expect("incident");
        assert!(incident.was_alerted(Kind::Escalating) && incident.paged());
        let saved = serde_json::to_string(&incident).expect("json");
        assert!(
            saved.contains(r#""alerted":["escalating","custom"]"#),
            "{saved}"
        );
        std::fs::write(
            path(&dir),
            br#"{"running": {"step": "x", "pid": 1, "since": 2}}"#,
        )
        .expect("write");
        assert_eq!(
            load(&dir).expect("load").0.running.map(|r| r.step),
            Some(Step::Unknown)
        );
    }

    #[test]
    fn the_brake_survives_a_bad_field() {
        let dir = scratch("brake");
        let text = br#"{"brake": {"restarts": [1, "x", 3], "level": "high", "last_failure": 9}}"#;
        std::fs::write(path(&dir), text).expect("write");
        let (s, warning) = load(&dir).expect("load");
        assert_eq!(warning, None);
        assert_eq!(s.brake.restarts, [1, 3]);
        assert_eq!(s.brake.level, 0);
        assert_eq!(s.brake.last_failure, Some(9));
        save(&dir, &s).expect("save");
        assert_eq!(load(&dir).expect("load").0.brake, s.brake);
    }

    #[test]
    fn one_bad_field_or_entry_costs_only_itself() {
        let dir = scratch("one-bad");
        let text = br#"{"incident": {"started": "yesterday"},
            "outbox": [
                {"created": 1, "channel": "slack", "kind": "failed", "severity": "error",
                 "title": "t", "text": "x"},
                {"created": "x"},
                {"created": 2, "channel": "ntfy", "kind": "failed", "severity": "error",
                 "title": "t", "text": "y"}],
            "agent_cooldown_until": 5}"#;
        std::fs::write(path(&dir), text).expect("write");
        let (s, warning) = load(&dir).expect("load");
        let channels: Vec<&str> = s.outbox.iter().map(|q| q.channel.name()).collect();
        assert_eq!(channels, ["slack", "ntfy"]);
        assert_eq!(s.incident, None);
        assert_eq!(s.agent_cooldown_until, Some(5));
        let warning = warning.expect("warning");
        assert!(
            warning.contains("incident") && warning.contains("a queued alert"),
            "{warning}"
        );
        assert!(path(&dir).exists(), "a readable file is not set aside");
    }

    #[test]
    fn unknown_and_missing_fields_are_tolerated() {
        let dir = scratch("fields");
        std::fs::write(path(&dir), br#"{"future_field": 1, "outbox": []}"#).expect("write");
        assert_eq!(load(&dir).expect("load"), (State::default(), None));
    }
}
