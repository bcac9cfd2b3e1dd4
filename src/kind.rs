//! The vocabulary of alerts: which kinds of message there are, how urgent
//! each is, and the one spelling of each name that goes into state files and
//! metrics. A leaf: it imports nothing of selfheal, so that `state`, `ctx`
//! and `cli` can name kinds without depending on delivery (`alert`).

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Level 2 brought it back (info).
    Recovered,
    /// Level 2 failed; level 3 is starting (warning).
    Escalating,
    /// Level 3 brought it back (info).
    AgentRecovered,
    /// Every level failed (error).
    Failed,
    /// Healthy again after an incident that paged someone (info).
    Resolved,
    /// The incident is still open (error).
    Reminder,
    /// A run died in the middle of healing (warning).
    RunDied,
    /// A level 3 log ends in MANUAL INTERVENTION REQUIRED (error; `monitor`).
    Level3Failed,
    /// It keeps coming back and falling again (warning; once per episode).
    Flapping,
    /// Stable for a whole window after flapping (info).
    Stable,
    /// Healed by restoring the last working config (warning: a file changed).
    RolledBack,
    /// Healed by a fix learned from the agent (info).
    LearnedFix,
    /// The agent cannot work (checked while healthy; warning).
    AgentBroken,
    /// The agent works again (info).
    AgentReady,
    /// selfheal itself cannot run: bad configuration, an unusable directory
    /// (error: nothing watches the service until it is fixed).
    CannotRun,
    /// selfheal runs again after `CannotRun` (info).
    RunsAgain,
    /// The daily or weekly summary (info; `SELFHEAL_DIGEST`).
    Digest,
    /// A threshold of `SELFHEAL_WARN_*` crossed: memory, disk, latency
    /// (warning; no healing action).
    EarlyWarning,
    /// Back under it (info).
    EarlyResolved,
    /// `selfheal notify MESSAGE`.
    Custom(Severity),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Severity::Info => "✅",
            Severity::Warning => "⚠️",
            Severity::Error => "🚨",
        }
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Severity, String> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(format!("{s:?}: expected info, warning or error")),
        }
    }
}

impl Kind {
    /// Every kind the ladder sends (not `Custom`).
    pub const LADDER: [Kind; 19] = [
        Kind::Recovered,
        Kind::Escalating,
        Kind::AgentRecovered,
        Kind::Failed,
        Kind::Resolved,
        Kind::Reminder,
        Kind::RunDied,
        Kind::Level3Failed,
        Kind::Flapping,
        Kind::Stable,
        Kind::RolledBack,
        Kind::LearnedFix,
        Kind::AgentBroken,
        Kind::AgentReady,
        Kind::CannotRun,
        Kind::RunsAgain,
        Kind::Digest,
        Kind::EarlyWarning,
        Kind::EarlyResolved,
    ];

    /// The name kept in the incident state and the metrics.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Recovered => "recovered",
            Kind::Escalating => "escalating",
            Kind::AgentRecovered => "agent_recovered",
            Kind::Failed => "failed",
            Kind::Resolved => "resolved",
            Kind::Reminder => "reminder",
            Kind::RunDied => "run_died",
            Kind::Level3Failed => "level3_failed",
            Kind::Flapping => "flapping",
            Kind::Stable => "flapping_resolved",
            Kind::RolledBack => "rolled_back",
            Kind::LearnedFix => "learned_fix",
            Kind::AgentBroken => "agent_broken",
            Kind::AgentReady => "agent_ready",
            Kind::CannotRun => "cannot_run",
            Kind::RunsAgain => "runs_again",
            Kind::Digest => "digest",
            Kind::EarlyWarning => "early_warning",
            Kind::EarlyResolved => "early_warning_resolved",
            Kind::Custom(_) => "custom",
        }
    }

    /// The kind a name read back from a file stands for; `Custom` for a name
    /// no ladder kind has (a message of `notify`, or a newer version's).
    pub fn from_key(name: &str, severity: Severity) -> Kind {
        Kind::LADDER
            .into_iter()
            .find(|k| k.key() == name)
            .unwrap_or(Kind::Custom(severity))
    }

    pub fn severity(self) -> Severity {
        match self {
            Kind::Recovered
            | Kind::AgentRecovered
            | Kind::Resolved
            | Kind::Stable
            | Kind::LearnedFix
            | Kind::AgentReady
            | Kind::RunsAgain
            | Kind::Digest
            | Kind::EarlyResolved => Severity::Info,
            Kind::Escalating
            | Kind::RunDied
            | Kind::Flapping
            | Kind::RolledBack
            | Kind::AgentBroken
            | Kind::EarlyWarning => Severity::Warning,
            Kind::Failed | Kind::Reminder | Kind::Level3Failed | Kind::CannotRun => Severity::Error,
            Kind::Custom(s) => s,
        }
    }

    /// Whether this message calls for a human (the incident then ends with
    /// "resolved").
    pub fn pages(self) -> bool {
        matches!(self, Kind::Failed | Kind::Escalating | Kind::RunDied)
    }
}

/// Kept in the state file by name; a name this version does not know reads
/// back as a `Custom` kind (it never pages), so a newer file still loads.
impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Kind::from_key(&name, Severity::Info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::LADDER {
            assert_eq!(Kind::from_key(k.key(), Severity::Info), k);
        }
        assert_eq!(
            Kind::from_key("from_the_future", Severity::Warning),
            Kind::Custom(Severity::Warning)
        );
        assert_eq!("warn".parse(), Ok(Severity::Warning));
        assert!("loud".parse::<Severity>().is_err());
    }
}
