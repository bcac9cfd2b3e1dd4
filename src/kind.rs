//! The vocabulary of alerts: which kinds of message there are, declared
//! once each (`kinds!`) with how urgent it is, the one spelling of its name
//! that goes into state files and metrics, how a pager takes it, and its
//! words. A leaf: it imports nothing of selfheal, so that `state`, `ctx`
//! and `cli` can name kinds without depending on delivery (`alert`).

use std::str::FromStr;

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

/// How a kind of message concerns PagerDuty (and whoever counts pages):
/// it calls a human, ends what called one, or only tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// An `event_action` of `trigger`.
    Calls,
    /// An `event_action` of `resolve`.
    Ends,
    /// Neither: an information a pager has no use for.
    Tells,
}

/// Declares every kind of message once: its variant, the name it is kept
/// under in files and metrics, its severity, whether it pages (the incident
/// then ends with "resolved"), whether it reports the service down (status,
/// likely cause and commands to try are shown), how a pager takes it, and
/// what it says in English and in Korean.
macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $v:ident = $key:literal, $sev:ident, pages $pages:literal,
       down $down:literal, $page:ident, $en:literal, $ko:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($(#[doc = $doc])* $v,)*
            /// `selfheal notify MESSAGE`.
            Custom(Severity),
        }

        impl Kind {
            /// Every kind the ladder sends (not `Custom`).
            pub const LADDER: &[Kind] = &[$(Kind::$v),*];

            /// The name kept in the incident state and the metrics.
            pub fn key(self) -> &'static str {
                match self {
                    $(Kind::$v => $key,)*
                    Kind::Custom(_) => "custom",
                }
            }

            pub fn severity(self) -> Severity {
                match self {
                    $(Kind::$v => Severity::$sev,)*
                    Kind::Custom(s) => s,
                }
            }

            /// Whether this message calls for a human (the incident then
            /// ends with "resolved").
            pub fn pages(self) -> bool {
                match self {
                    $(Kind::$v => $pages,)*
                    Kind::Custom(_) => false,
                }
            }

            /// Whether it reports the service down: its status, the likely
            /// cause and the commands to try are shown.
            pub fn down(self) -> bool {
                match self {
                    $(Kind::$v => $down,)*
                    Kind::Custom(_) => false,
                }
            }

            /// How a pager takes it.
            pub fn page(self) -> Page {
                match self {
                    $(Kind::$v => Page::$page,)*
                    Kind::Custom(_) => Page::Tells,
                }
            }

            /// What it says, in English and in Korean (the title's words).
            pub fn words(self) -> (&'static str, &'static str) {
                match self {
                    $(Kind::$v => ($en, $ko),)*
                    Kind::Custom(_) => ("message", "메시지"),
                }
            }
        }
    };
}

kinds! {
    /// Level 2 brought it back.
    Recovered = "recovered", Info, pages false, down false, Ends,
        "recovered by restart", "재시작으로 복구됨";
    /// Level 2 failed; level 3 is starting.
    Escalating = "escalating", Warning, pages true, down true, Calls,
        "restarts failed, starting AI recovery (level 3)", "재시작 실패, AI 복구(Level 3) 시작";
    /// Level 3 brought it back.
    AgentRecovered = "agent_recovered", Info, pages false, down false, Ends,
        "recovered by the AI agent", "AI 에이전트가 복구함";
    /// Every level failed.
    Failed = "failed", Error, pages true, down true, Calls,
        "every automatic recovery failed", "모든 자동 복구 시스템이 실패했습니다";
    /// Healthy again after an incident that paged someone.
    Resolved = "resolved", Info, pages false, down false, Ends,
        "resolved", "복구 완료";
    /// The incident is still open.
    Reminder = "reminder", Error, pages false, down true, Calls,
        "still down", "여전히 장애 중";
    /// A run died in the middle of healing.
    RunDied = "run_died", Warning, pages true, down false, Calls,
        "a selfheal run died while healing", "selfheal 실행이 복구 도중 중단됨";
    /// A level 3 log ends in MANUAL INTERVENTION REQUIRED (`monitor`).
    Level3Failed = "level3_failed", Error, pages false, down true, Calls,
        "AI recovery failed", "AI 복구 실패";
    /// It keeps coming back and falling again (once per episode).
    Flapping = "flapping", Warning, pages false, down false, Tells,
        "flapping: it keeps coming back and falling again", "불안정: 복구와 장애가 반복됨";
    /// Stable for a whole window after flapping.
    Stable = "flapping_resolved", Info, pages false, down false, Tells,
        "stable again after flapping", "불안정 상태 해소";
    /// Healed by restoring the last working config (a file changed).
    RolledBack = "rolled_back", Warning, pages false, down false, Tells,
        "recovered by restoring the last working config", "마지막 정상 설정으로 복원하여 복구함";
    /// Healed by reinstalling the last working version (an update broke it).
    Reinstalled = "reinstalled", Warning, pages false, down false, Tells,
        "recovered by reinstalling the last working version", "마지막 정상 버전을 다시 설치하여 복구함";
    /// `guard`: a change failed its probation and was undone.
    GuardUndone = "guard_undone", Warning, pages false, down false, Tells,
        "a change failed its probation and was undone", "변경이 검증 기간을 통과하지 못해 되돌림";
    /// Healed by a fix learned from the agent.
    LearnedFix = "learned_fix", Info, pages false, down false, Tells,
        "recovered by a fix learned from the AI agent", "AI 에이전트에게 배운 해결책으로 복구함";
    /// The agent cannot work (checked while healthy).
    AgentBroken = "agent_broken", Warning, pages false, down false, Tells,
        "level 3 cannot work: the AI agent is not ready", "Level 3 불가: AI 에이전트가 준비되지 않음";
    /// The agent works again.
    AgentReady = "agent_ready", Info, pages false, down false, Tells,
        "the AI agent works again", "AI 에이전트가 다시 동작함";
    /// selfheal itself cannot run: bad configuration, an unusable directory
    /// (nothing watches the service until it is fixed).
    CannotRun = "cannot_run", Error, pages false, down false, Calls,
        "selfheal cannot run: nothing watches the service", "selfheal 실행 불가: 서비스를 감시하지 못함";
    /// selfheal runs again after `CannotRun`.
    RunsAgain = "runs_again", Info, pages false, down false, Ends,
        "selfheal runs again", "selfheal 다시 실행됨";
    /// The daily or weekly summary (`SELFHEAL_DIGEST`).
    Digest = "digest", Info, pages false, down false, Tells,
        "summary", "요약";
    /// A threshold of `SELFHEAL_WARN_*` crossed: memory, disk, latency (no
    /// healing action).
    EarlyWarning = "early_warning", Warning, pages false, down false, Tells,
        "early warning: the service is still up", "조기 경고: 서비스는 아직 정상";
    /// Back under it.
    EarlyResolved = "early_warning_resolved", Info, pages false, down false, Tells,
        "early warning over", "조기 경고 해제";
    /// Restarted while healthy, before it ran out of memory
    /// (`SELFHEAL_RESTART_RSS`).
    PlannedRestart = "planned_restart", Info, pages false, down false, Tells,
        "restarted before it ran out of memory", "메모리 부족 전에 재시작함";
}

impl Kind {
    /// The kind a name read back from a file stands for; `Custom` for a name
    /// no ladder kind has (a message of `notify`, or a newer version's).
    pub fn from_key(name: &str, severity: Severity) -> Kind {
        Kind::LADDER
            .iter()
            .copied()
            .find(|k| k.key() == name)
            .unwrap_or(Kind::Custom(severity))
    }
}

impl serde::Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// An unknown severity reads as an error: a message of unknown urgency is
/// treated as urgent.
impl<'de> serde::Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(name.parse().unwrap_or(Severity::Error))
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
        for &k in Kind::LADDER {
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
