//! doctor's first lines: the configuration's one verdict (a misspelt key
//! makes it ✗), what the configuration says in passing (old keys, notes),
//! early warnings and the channels a message goes to, and the env file's
//! mode.

use std::os::unix::fs::PermissionsExt;

use super::{fail, info, ok, Check};
use crate::config::{Config, Warning};
use crate::fmt::fmt_secs;

pub(super) fn configuration(c: &Config) -> Vec<Check> {
    let env_file = match &c.env_file {
        Some(p) => p.display().to_string(),
        None => "none (defaults and environment)".into(),
    };
    // One verdict on the configuration, first: a misspelt key is a setting
    // that silently does not apply, so it makes the configuration ✗.
    let unknown: Vec<&str> = c
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::UnknownKey(w) => Some(w.as_str()),
            Warning::Note(_) => None,
        })
        .collect();
    let mut checks = vec![if unknown.is_empty() {
        ok("configuration", format!("valid; env file: {env_file}"))
    } else {
        fail(
            "configuration",
            format!("env file: {env_file}; {}", unknown.join("; ")),
            "correct the key's name: selfheal ignores it as written",
        )
    }];
    for w in &c.warnings {
        if let Warning::Note(w) = w {
            checks.push(info("configuration", w.clone()));
        }
    }
    for n in &c.notes {
        checks.push(info("old key", n.clone()));
    }
    let mut early = Vec::new();
    if let Some(b) = c.warn_rss {
        early.push(format!(
            "the service's memory over {}",
            crate::fmt::fmt_size(b)
        ));
    }
    match c.warn_disk {
        Some(crate::key::DiskFree::Bytes(b)) => {
            early.push(format!("free disk under {}", crate::fmt::fmt_size(b)));
        }
        Some(crate::key::DiskFree::Percent(p)) => early.push(format!("free disk under {p}%")),
        None => {}
    }
    if let Some(d) = c.warn_latency {
        early.push(format!(
            "a probe slower than {} three runs in a row",
            fmt_secs(d)
        ));
    }
    if !early.is_empty() {
        checks.push(info(
            "early warnings",
            format!("one warning per episode for {}", early.join("; ")),
        ));
    }
    if let Some(only) = &c.channels_only {
        checks.push(info(
            "channels",
            format!(
                "alerts go only to {} (SELFHEAL_CHANNELS); set it to `all` for every configured one",
                only.iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(p) = &c.env_file {
        let meta = std::fs::metadata(p).ok();
        let mode = meta.as_ref().map_or(0, |m| m.permissions().mode() & 0o777);
        let private = meta.as_ref().is_some_and(|m| {
            !crate::sys::files::readable_by_others(m) && !crate::sys::files::writable_by_others(m)
        });
        checks.push(if private {
            ok("env file mode", format!("{mode:o}"))
        } else {
            fail(
                "env file mode",
                format!("{mode:o}: others can read the secrets in it"),
                format!("chmod 600 {}", p.display()),
            )
        });
    }
    checks
}
