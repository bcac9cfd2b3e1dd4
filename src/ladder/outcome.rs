//! How a climb ended when the service came back (`Outcome`): decided by
//! the step that saw it healthy, named for the log and the metrics, and
//! what the incident's last message says of it (`Told`). How it is told is
//! `level4::concluded`'s.

use super::{install, rollback, runbook, Climb};
use crate::agent;
use crate::alert::{Kind, LevelOutcome};

/// What brought the service back: decided by the step that saw it healthy,
/// told by `level4::concluded`.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The service manager's own start, left to boot (level 1).
    ByLevel1,
    /// Restart attempt `attempt` worked.
    ByRestart { attempt: u32 },
    /// The repair command worked.
    ByRepair,
    /// It came back during the escalation wait.
    ByItself,
    /// The last working config, restored, and a restart.
    ByRollback(Vec<rollback::Restored>),
    /// The last working install, put back, and a restart.
    ByReinstall(install::Reinstalled),
    /// A fix learned from the agent, replayed.
    ByRunbook(runbook::Entry),
    /// The agent (level 3).
    ByAgent(agent::Outcome),
}

impl Outcome {
    /// The level that brought it back.
    pub fn level(&self) -> u8 {
        match self {
            Outcome::ByAgent(_) => 3,
            _ => 2,
        }
    }

    /// The `recovery` metric's result for a level 2 outcome.
    pub fn metric(&self) -> &'static str {
        match self {
            Outcome::ByRestart { .. } | Outcome::ByRepair => "success",
            _ => "self_healed",
        }
    }

    /// What healed it, as the `recovery` metric's `by` field says it (for
    /// `stats`; `result` stays the old scripts' success / self_healed).
    pub fn by(&self) -> &'static str {
        match self {
            Outcome::ByLevel1 => "service_manager",
            Outcome::ByRestart { .. } => "restart",
            Outcome::ByRepair => "repair",
            Outcome::ByItself => "itself",
            Outcome::ByRollback(_) => "rollback",
            Outcome::ByReinstall(_) => "reinstall",
            Outcome::ByRunbook(_) => "learned_fix",
            Outcome::ByAgent(_) => "agent",
        }
    }

    /// In words, for the log: "recovered by restart (attempt 2)".
    pub fn said(&self) -> String {
        match self {
            Outcome::ByLevel1 => "came back: its service manager started it".into(),
            Outcome::ByRestart { attempt } => format!("recovered by restart (attempt {attempt})"),
            Outcome::ByRepair => "recovered by the repair command".into(),
            Outcome::ByItself => "came back by itself".into(),
            Outcome::ByRollback(_) => "recovered with the last working config".into(),
            Outcome::ByReinstall(r) => format!("recovered by reinstalling {}", r.to),
            Outcome::ByRunbook(_) => "recovered by a fix learned from the agent".into(),
            Outcome::ByAgent(_) => "recovered by the AI agent".into(),
        }
    }
}

/// What the incident's last message says of an outcome (`level4::concluded`
/// decides how it is told).
pub struct Told {
    pub kind: Kind,
    pub levels: Vec<LevelOutcome>,
    pub note: Option<String>,
    /// Commands to paste instead of the usual ones.
    pub commands: Option<Vec<String>>,
    /// Told whatever was said before: something ran or changed that nobody
    /// asked for (a file replaced, a script run).
    pub always: bool,
    /// Told only to whom was paged ("resolved"): what the service manager
    /// did by itself is not news.
    pub quiet: bool,
}

impl Outcome {
    /// Its message: the kind, the level that worked, and what to know.
    pub fn told(&self, climb: &Climb) -> Told {
        let level2 = |detail: String| Told {
            kind: Kind::Recovered,
            levels: vec![LevelOutcome {
                level: 2,
                ok: true,
                detail,
            }],
            note: None,
            commands: None,
            always: false,
            quiet: false,
        };
        match self {
            Outcome::ByLevel1 => Told {
                levels: vec![LevelOutcome {
                    level: 1,
                    ok: true,
                    detail: "the service manager's own start brought it back".into(),
                }],
                quiet: true,
                ..level2(String::new())
            },
            Outcome::ByRestart { attempt } => level2(format!("restart attempt {attempt} worked")),
            Outcome::ByRepair => level2("the repair command worked".into()),
            Outcome::ByItself => level2("it came back by itself during the escalation wait".into()),
            Outcome::ByRollback(restored) => Told {
                kind: Kind::RolledBack,
                levels: Vec::new(),
                note: Some(rollback::note(restored)),
                commands: Some(vec!["selfheal rollback --list".to_string()]),
                always: true,
                quiet: false,
            },
            Outcome::ByReinstall(r) => Told {
                kind: Kind::Reinstalled,
                levels: Vec::new(),
                note: Some(format!(
                    "Reinstalled {}, the last version that worked; {}: {}",
                    r.to, r.failing, r.cause
                )),
                commands: Some(vec!["selfheal doctor".to_string()]),
                always: true,
                quiet: false,
            },
            Outcome::ByRunbook(entry) => Told {
                kind: Kind::LearnedFix,
                levels: Vec::new(),
                note: Some(runbook::note(entry)),
                commands: Some(vec![format!("selfheal runbook show {}", entry.id)]),
                always: true,
                quiet: false,
            },
            Outcome::ByAgent(agent) => {
                let mut levels = climb.failed_levels();
                levels.push(LevelOutcome {
                    level: 3,
                    ok: true,
                    detail: agent.detail.clone(),
                });
                let mut note = String::from("Recovered by the AI agent.");
                if let Some(cause) = &agent.root_cause {
                    note.push_str(&format!("\nRoot cause: {cause}"));
                }
                if let Some(fix) = &agent.solution {
                    note.push_str(&format!("\nSolution applied: {fix}"));
                }
                Told {
                    kind: Kind::AgentRecovered,
                    levels,
                    note: Some(note),
                    commands: None,
                    always: false,
                    quiet: false,
                }
            }
        }
    }
}
