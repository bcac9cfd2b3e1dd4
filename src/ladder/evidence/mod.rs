//! Evidence, gathered once at a confirmed failure and used three times: in
//! every alert ("likely cause"), in the level 3 prompt, and by `selfheal why`.
//!
//! Each item is optional and bounded (a command ≤ 2 s, the OpenClaw config
//! check ≤ 5 s since it starts Node; a file read ≤ 64 KiB; a line ≤ 300
//! characters) and redacted (configured secrets exactly, anything that looks
//! like a token masked): the probe's reason, who holds the port, the service
//! manager's view, the last error lines of the service's own logs
//! (`SELFHEAL_SERVICE_LOGS`), OpenClaw's own config check, and what each
//! command of level 2 said. It is kept in `incident-YYYYMMDD-HHMMSS.md` in
//! the tool directory (0600, rotated like the logs). Nothing here changes the
//! service.

mod docker;
pub mod logs;
pub mod manager;
mod port;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::openclaw;
use crate::probe::Probe;
use crate::sys::clock::local_now;
use crate::sys::{files, log, redact};
pub use docker::Docker;
pub use logs::{error_lines, log_errors, log_files};
pub use manager::Manager;
pub use port::{listener_pid, port, port_owner};

/// How long one query command may take.
const QUERY: Duration = Duration::from_secs(2);
/// How much of the end of each service log is read.
const LOG_TAIL: u64 = 64 * 1024;
const LINE_MAX: usize = 300;
const LOG_LINES: usize = 5;
/// The most gathering can take: the port scan, the service manager, the
/// config check (file reads are bounded by size).
pub const BOUND: Duration = Duration::from_secs(2 + 2 + openclaw::CONFIG_CHECK.as_secs());

/// What is known about an incident.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The probe: `connection refused (status 000)`.
    pub probe: String,
    /// How the probe failed and its status, for the signature: `Refused
    /// 000`, `Status 500` (a fix for a 500 is not one for a 404).
    pub probe_kind: String,
    /// What the first restart's start said when it failed: the command's
    /// last line, or why the wait stopped (the service's own words).
    pub start_error: Option<String>,
    /// `port 18789 is held by python3 (pid 4242): python3 -m http.server`.
    pub port_owner: Option<String>,
    /// How the install differs from the last one that worked
    /// (`ladder::install`): an update, an executable gone.
    pub install_change: Option<String>,
    /// The service manager's view, one line.
    pub manager: Option<String>,
    /// The main process's last exit code, as the service manager reports it.
    pub exit_code: Option<String>,
    /// The service's own config check, when it found a problem (OpenClaw's
    /// `config validate`, run while the service boots: `Climb::settle`).
    pub config_error: Option<String>,
    /// (file, line): the last lines of the service's logs that look like errors.
    pub log_errors: Vec<(String, String)>,
    /// What each command of level 2 said: `restart … exited 1: <last line>`.
    pub steps: Vec<String>,
    /// The incident file, once written.
    pub path: Option<PathBuf>,
    /// What kind of incident this is (`compute_signature`), fixed when
    /// gathered: the key of a learned fix.
    pub signature: String,
    /// Which log lines are this incident's.
    pub scope: logs::Scope,
    /// When it was gathered: the incident file's heading keeps this time
    /// when the file is written again at the end.
    pub gathered: Option<time::OffsetDateTime>,
}

impl Evidence {
    /// Reads the service's error lines (again: after a restart, its own
    /// account of the failed start is there). Not inlined: two callers.
    #[inline(never)]
    pub fn refresh_logs(&mut self, config: &Config) {
        let secrets = config.secrets();
        let mut found = log_errors(&config.service_logs, &self.scope);
        if let Some(d) = Docker::of(&config.restart_cmd) {
            let errors = error_lines(&d.log_tail(config));
            let source = format!("docker logs {}", d.names.join(" "));
            found.extend(errors.into_iter().map(|l| (source.clone(), l)));
            let from = found.len().saturating_sub(LOG_LINES);
            found.drain(..from);
        }
        self.log_errors = found
            .into_iter()
            .map(|(f, l)| (f, clip(&redact::mask_secrets(&redact::scrub(&l, &secrets)))))
            .collect();
    }

    /// Adds what a step of level 2 said (one line, capped, scrubbed: a
    /// command line may carry a credential).
    pub fn step(&mut self, line: String, secrets: &[&str]) {
        self.steps.push(clip(&redact::scrub(&line, secrets)));
    }

    /// The log line that says most: the last with a telling word, else the last.
    /// The service's last error line, if any.
    pub fn telling_line(&self) -> Option<&str> {
        self.telling().map(|(_, l)| l.as_str())
    }

    fn telling(&self) -> Option<&(String, String)> {
        self.log_errors
            .iter()
            .rev()
            .find(|(_, l)| {
                let l = l.to_ascii_lowercase();
                logs::TELLING.iter().any(|w| l.contains(w))
            })
            .or(self.log_errors.last())
    }

    /// The text of `telling`, for the incident's signature.
    pub fn telling_error(&self) -> Option<&str> {
        self.telling().map(|(_, l)| l.as_str())
    }

    /// At most five lines, the most specific first: who holds the port, the
    /// config error, the last exit code, the last error line of the logs.
    pub fn likely_cause(&self) -> Vec<String> {
        let mut lines = Vec::new();
        lines.extend(self.install_change.clone());
        lines.extend(self.port_owner.clone());
        lines.extend(
            self.config_error
                .as_ref()
                .map(|e| format!("config check: {e}")),
        );
        lines.extend(self.exit_code.clone());
        if let Some((file, line)) = self.telling() {
            lines.push(format!("last error in {}: {line}", short_name(file)));
        }
        lines.extend(self.steps.iter().rev().take(1).cloned());
        if lines.is_empty() {
            lines.push(format!("the probe: {}", self.probe));
        }
        lines.truncate(5);
        lines
    }

    /// The incident file's text.
    pub fn markdown(&self, config: &Config, host: &str) -> String {
        let mut md = format!(
            "# Incident on {host}, {}\n\nService: {}\nProbe: {}\n\n## Likely cause\n",
            log::stamp(self.gathered.unwrap_or_else(local_now)),
            config.shown_url,
            self.probe
        );
        for l in self.likely_cause() {
            md.push_str(&format!("- {l}\n"));
        }
        md.push_str("\n## Facts\n");
        let facts = [
            ("port", &self.port_owner),
            ("service manager", &self.manager),
            ("config check", &self.config_error),
        ];
        for (name, value) in facts {
            if let Some(v) = value {
                md.push_str(&format!("- {name}: {v}\n"));
            }
        }
        for s in &self.steps {
            md.push_str(&format!("- {s}\n"));
        }
        if !self.log_errors.is_empty() {
            md.push_str("\n## Error lines in the service's logs\n");
            for (file, line) in &self.log_errors {
                md.push_str(&format!("- {file}: {line}\n"));
            }
        }
        // The file, `why` and the agent's prompt: no terminal escape from a
        // log line or a process's command line survives into any of them.
        redact::visible(&md)
    }
    /// The incident's signature: how the probe failed (its kind and status,
    /// kept) and the most telling error the service gave — its config
    /// check, an error line of its logs, or what its failed start said —
    /// with numbers, hex ids, times and paths made general, so that the same
    /// fault gives the same signature on another day. Empty (never learned,
    /// never replayed) when the service said nothing: a probe alone, or an
    /// exit code, fits too many faults.
    pub fn compute_signature(&self) -> String {
        let Some(said) = self
            .config_error
            .as_deref()
            .or_else(|| self.telling_error())
            .or(self.start_error.as_deref())
        else {
            return String::new();
        };
        let text = format!("{} | {}", self.probe_kind, general(said));
        text.chars().take(240).collect()
    }
}

/// `text` with paths, ids and numbers made general (`<path>`, `<id>`, `#`).
fn general(text: &str) -> String {
    let words = text.split_whitespace().map(|w| {
        if w.contains('/') {
            return "<path>".to_string();
        }
        let core = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let hexy = core.len() >= 8 && core.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if hexy && core.chars().any(|c| c.is_ascii_digit()) {
            return w.replace(core, "<id>");
        }
        let mut out = String::new();
        for c in w.chars() {
            let c = if c.is_ascii_digit() { '#' } else { c };
            if !(c == '#' && out.ends_with('#')) {
                out.push(c);
            }
        }
        out
    });
    words.collect::<Vec<_>>().join(" ")
}

fn short_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Gathers everything but the level 2 steps. Read-only.
pub fn gather(config: &Config, openclaw: bool, probe: &Probe, scope: logs::Scope) -> Evidence {
    let secrets = config.secrets();
    let clean = |s: &str| {
        clip(&redact::printable(&redact::mask_secrets(&redact::scrub(
            s, &secrets,
        ))))
    };
    let mut ev = Evidence {
        probe: probe.with_status(),
        gathered: Some(local_now()),
        probe_kind: probe
            .failure
            .map_or(String::new(), |f| format!("{f:?} {}", probe.status_text())),
        scope,
        ..Evidence::default()
    };
    // Before the config check: OpenClaw's own check writes to the same log.
    ev.refresh_logs(config);
    // Refused: nothing listens, so nobody holds the port.
    if !probe.refused() {
        ev.port_owner = port(&config.url).and_then(|p| port_owner(p).map(|o| clean(&o)));
    }
    // The manager's view (in a container Docker's; its log lines come with
    // `refresh_logs`).
    if let Some(state) = Manager::of(config, openclaw).and_then(|m| m.state()) {
        ev.manager = Some(clean(&state.view));
        ev.exit_code = state.exit;
    } else if let Some(view) = Docker::of(&config.restart_cmd).and_then(|d| d.compose_view(config))
    {
        ev.manager = Some(clean(&view));
    }
    ev.signature = ev.compute_signature();
    ev
}

/// Writes (or rewrites) the incident file; returns its path.
pub fn write(config: &Config, host: &str, ev: &mut Evidence) -> crate::error::Result<PathBuf> {
    let path = ev.path.clone().unwrap_or_else(|| {
        let t = local_now();
        config.memory_dir.join(format!(
            "incident-{:04}{:02}{:02}-{:02}{:02}{:02}.md",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ))
    });
    files::write_atomic(&path, ev.markdown(config, host).as_bytes())?;
    ev.path = Some(path.clone());
    Ok(path)
}

/// The newest incident file in `dir`.
pub fn newest(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("incident-") && n.ends_with(".md"))
        })
        .map(|e| e.path())
        .max()
}

fn clip(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(LINE_MAX) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_ignore_numbers_paths_times_and_ids() {
        let ev = |line: &str| Evidence {
            probe: "connection refused (status 000)".into(),
            probe_kind: "Refused 000".into(),
            log_errors: vec![("/tmp/x.log".into(), line.into())],
            ..Evidence::default()
        };
        let a = ev(
            "2026-11-24T03:04:05Z error: lock /home/u/.openclaw/tmp/a.lock held by pid 4242 \
             (deadbeef01)",
        )
        .compute_signature();
        let b = ev(
            "2026-11-25T13:14:15Z error: lock /home/v/.openclaw/tmp/b.lock held by pid 77 \
             (0badc0de99)",
        )
        .compute_signature();
        assert_eq!(a, b);
        assert!(a.starts_with("Refused 000 | "), "{a}");
        let c = ev("error: Unrecognized key: \"bogusKey\"").compute_signature();
        assert_ne!(a, c);
        assert_eq!(crate::ladder::runbook::id(&a).len(), 12);
    }

    #[test]
    fn a_signature_keeps_the_status_and_needs_the_services_words() {
        let ev = |kind: &str, line: Option<&str>| Evidence {
            probe_kind: kind.into(),
            exit_code: Some("exit code 1".into()),
            log_errors: line
                .map(|l| vec![("/tmp/x.log".into(), l.into())])
                .unwrap_or_default(),
            ..Evidence::default()
        };
        let line = Some("error: upstream pool exhausted");
        assert_ne!(
            ev("Status 500", line).compute_signature(),
            ev("Status 404", line).compute_signature()
        );
        assert_eq!(ev("Refused 000", None).compute_signature(), "");
        let mut started = ev("Refused 000", None);
        started.start_error = Some("Gateway failed to start: state is broken".into());
        assert!(!started.compute_signature().is_empty());
    }
}
