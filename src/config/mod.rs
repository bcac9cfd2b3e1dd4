//! Configuration: every key (`keys`, and each channel's in
//! `crate::channel`), where its value comes from (`sources`), and `build`,
//! which reads and validates them all once. An invalid value is an
//! `Error::Config` naming the key, the (redacted) value and its source, and
//! nothing else runs. This module reads files and the environment but never
//! writes, executes or expands anything except a leading `~/`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

pub mod envfile;
pub mod keys;
pub mod services;
pub mod sources;

use crate::error::{Error, Result};
use crate::key::values::ServiceKind;
use crate::key::{Raw, Reader, Secret, Source};
use crate::openclaw;
use crate::sys::redact;
pub use keys::Config;
use sources::Leniency;
pub use sources::Sources;

const MS: Duration = Duration::from_millis(1);

/// Something worth telling about the configuration that does not stop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A key that looks like one of ours but is not: a setting that
    /// silently does not apply.
    UnknownKey(String),
    /// Anything else (a file readable by others, a line of another program's
    /// that could not be read).
    Note(String),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::UnknownKey(w) | Warning::Note(w) => f.write_str(w),
        }
    }
}

impl Config {
    /// Whether the service is the OpenClaw gateway: its default port, or a
    /// restart command that runs `openclaw`.
    pub fn is_openclaw(&self) -> bool {
        match self.service {
            ServiceKind::Openclaw => true,
            ServiceKind::Generic => false,
            ServiceKind::Auto => openclaw::is_openclaw(&self.url, &self.restart_cmd),
        }
    }

    /// An agent's credential by its variable's name (`profile::Profile::
    /// credentials`).
    pub fn credential(&self, name: &str) -> Option<&Secret> {
        match name {
            "ANTHROPIC_API_KEY" => self.anthropic_api_key.as_ref(),
            "OPENAI_API_KEY" => self.openai_api_key.as_ref(),
            "GEMINI_API_KEY" => self.gemini_api_key.as_ref(),
            _ => None,
        }
    }

    /// Every secret value, for scrubbing text that comes from outside.
    pub fn secrets(&self) -> Vec<&str> {
        let mut all: Vec<&str> = [
            &self.anthropic_api_key,
            &self.openai_api_key,
            &self.gemini_api_key,
            &self.heartbeat_url,
        ]
        .into_iter()
        .flatten()
        .map(Secret::expose)
        .collect();
        for t in &self.channels {
            all.extend(t.service().secrets());
        }
        all.extend(url_credentials(&self.url));
        all
    }
}

/// The credentials a service URL may carry: its user info (`user:password`,
/// and the password alone) and its query values (`?token=…`).
fn url_credentials(url: &str) -> Vec<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let mut found = Vec::new();
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        found.push(userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            found.push(password);
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        found.extend(
            query
                .split('&')
                .filter_map(|kv| kv.split_once('=').map(|(_, v)| v)),
        );
    }
    found.retain(|s| !s.is_empty());
    found
}

/// Reads, merges and validates the configuration.
pub fn load(sources: &Sources) -> Result<Config> {
    load_with(sources, Leniency::Strict)
}

/// What can still be used of a configuration that `load` refused: every bad
/// line, value or file is skipped and its keys keep their defaults. Only for
/// saying that selfheal cannot run (its log, heartbeat `/fail` and alert);
/// never for healing. An env file that others can write is not read at all.
pub fn salvage(sources: &Sources) -> Option<Config> {
    load_with(sources, Leniency::Salvage).ok()
}

fn load_with(sources: &Sources, leniency: Leniency) -> Result<Config> {
    let mut merged = sources::merge(sources, leniency)?;
    let mut config = loop {
        match build(&merged.raw, &sources.home, sources.service.as_ref()) {
            Err(Error::Config { key, .. }) if leniency == Leniency::Salvage => {
                // Back to its default; a key that already has it cannot be
                // salvaged.
                let default = keys::find(&key).map(|k| k.default);
                match (merged.raw.get_mut(key.as_str()), default) {
                    (Some(slot), Some(d)) if slot.source != Source::Default => {
                        *slot = Raw {
                            value: d.to_string(),
                            source: Source::Default,
                        };
                    }
                    _ => return Err(Error::Setup(format!("{key} cannot be salvaged"))),
                }
            }
            built => break built?,
        }
    };
    config.env_file = merged.env_file;
    config.warnings = merged.warnings;
    config.notes = merged.notes;
    Ok(config)
}

/// Every setting and channel read from `raw`; the first invalid value is
/// the error.
fn build(
    raw: &BTreeMap<&'static str, Raw>,
    home: &Path,
    service: Option<&services::Service>,
) -> Result<Config> {
    let mut r = Reader::new(raw, home, keys::looks_secret);
    // What `auto` means for the logs and watched files.
    r.openclaw = match r.get("SELFHEAL_SERVICE").0.parse() {
        Ok(ServiceKind::Openclaw) => true,
        Ok(ServiceKind::Generic) => false,
        _ => openclaw::is_openclaw(
            r.get("OPENCLAW_GATEWAY_URL").0,
            &crate::key::shellwords::split(r.get("SELFHEAL_RESTART_CMD").0).unwrap_or_default(),
        ),
    };
    let mut config = Config::read(&r);
    // Where it is does not matter, who can write to it does: checked (like
    // OpenSSH's StrictModes) when the directory is used, `files::ensure_dir`.
    config.shown_url = redact::url(&config.url);
    config.channels = crate::channel::configure(&r);
    config.service_name = match (&service, r.openclaw) {
        (Some(s), _) => s.name.clone(),
        (None, true) => "openclaw".to_string(),
        (None, false) => "default".to_string(),
    };
    // Unset, the command is the preset's; set, it is the user's, run as
    // written.
    let cmd = match r.get("SELFHEAL_AGENT_CMD").1 {
        Source::Default => vec!["auto".to_string()],
        _ => config.agent_cmd.clone(),
    };
    config.agents = crate::profile::resolve(
        config.agent,
        &cmd,
        &config.agent_fallback_cmd,
        &config.agent_model,
    );
    r.finish()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::PathBuf;

    fn sources(env: &[(&str, &str)], overrides: &[(&str, &str)]) -> Sources {
        Sources {
            config_file: None,
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect(),
            home: PathBuf::from("/home/u"),
            service: None,
        }
    }

    #[test]
    fn defaults_are_the_specs() {
        let c = load(&sources(&[], &[])).expect("defaults load");
        assert_eq!(c.url, "http://localhost:18789/");
        assert_eq!(c.http_timeout, Duration::from_secs(10));
        assert_eq!(c.restart_cmd, ["openclaw", "gateway", "restart"]);
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.memory_dir, PathBuf::from("/home/u/openclaw/memory"));
        assert_eq!(c.agent_workdir, PathBuf::from("/home/u/.openclaw"));
        assert!(c.expect_status.contains(200) && !c.expect_status.contains(204));
        assert!(c.agent_cmd == ["claude"]);
        assert!(c.channels.is_empty());
    }

    #[test]
    fn flags_beat_environment() {
        let s = sources(
            &[("HEALTH_CHECK_MAX_RETRIES", "5")],
            &[("HEALTH_CHECK_MAX_RETRIES", "7")],
        );
        assert_eq!(load(&s).map(|c| c.max_retries).ok(), Some(7));
    }

    #[test]
    fn invalid_values_name_the_key() {
        for (key, value) in [
            ("HEALTH_CHECK_HTTP_TIMEOUT", "abc"),
            ("HEALTH_CHECK_HTTP_TIMEOUT", "-1"),
            ("HEALTH_CHECK_HTTP_TIMEOUT", "1e400"),
            ("HEALTH_CHECK_HTTP_TIMEOUT", ""),
            ("HEALTH_CHECK_MAX_RETRIES", "3.5"),
            ("HEALTH_CHECK_MAX_RETRIES", "99999999999"),
            ("SELFHEAL_EXPECT_STATUS", "200-100"),
            ("SELFHEAL_EXPECT_STATUS", "abc"),
            ("OPENCLAW_GATEWAY_URL", "ftp://x/"),
            ("OPENCLAW_GATEWAY_URL", "not a url"),
            ("OPENCLAW_GATEWAY_URL", "http://127.0.0.1:99999/"),
            ("OPENCLAW_GATEWAY_URL", "http://127.0.0.1:0/"),
            ("SELFHEAL_RESTART_CMD", "restart | tee"),
            ("SELFHEAL_LANG", "fr"),
            ("OPENCLAW_MEMORY_DIR", "relative/dir"),
            ("SELFHEAL_LOG_RETENTION_DAYS", "0"),
        ] {
            match load(&sources(&[(key, value)], &[])) {
                Err(e @ Error::Config { .. }) => {
                    assert_eq!(e.code(), 2);
                    assert!(e.to_string().contains(key), "{e}");
                }
                other => panic!("{key}={value:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn secret_values_are_redacted_in_errors() {
        let e =
            load(&sources(&[("DISCORD_WEBHOOK_URL", "nope-SECRET")], &[])).expect_err("bad URL");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }

    #[test]
    fn credentials_in_the_service_url_are_secrets() {
        let c = load(&sources(
            &[(
                "OPENCLAW_GATEWAY_URL",
                "http://admin:PassW0rd@127.0.0.1:18789/health?token=TOKEN123&x=1",
            )],
            &[],
        ))
        .expect("valid");
        let s = c.secrets();
        for secret in ["admin:PassW0rd", "PassW0rd", "TOKEN123"] {
            assert!(s.contains(&secret), "{secret} not in {s:?}");
        }
        assert_eq!(c.shown_url, "http://127.0.0.1:18789/health?…");
    }
}
