//! What an alert says: the text of each kind of message in English or
//! Korean, as the old scripts wrote them — an emoji for urgency, what happened,
//! which levels were tried and how each failed, status and reason, durations,
//! the log path, and commands a human can paste.
//!
//! Pure: facts in, `Message` out. How a message is shaped for each service
//! (length limits, markup) is `channels`' business; whether it should be sent
//! at all is `incident`'s and the ladder's.

use std::time::Duration;

use crate::channel::Message;
use crate::fmt::fmt_secs;
use crate::key::values::Lang;
use crate::kind::Kind;

/// How one level of the ladder went.
#[derive(Debug, Clone)]
pub struct LevelOutcome {
    pub level: u8,
    pub ok: bool,
    /// e.g. `3 restarts; restart command exited 1` or `not configured`.
    pub detail: String,
}

/// Everything a message may mention.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub host: String,
    /// Already redacted.
    pub url: String,
    pub status: String,
    pub reason: String,
    pub levels: Vec<LevelOutcome>,
    pub down_for: Option<Duration>,
    pub log_path: Option<String>,
    /// Commands a human can paste, in order.
    pub commands: Vec<String>,
    /// Free text: the `notify` message, or a detail of the event.
    pub note: Option<String>,
    /// The likely cause, most specific first (at most five lines).
    pub cause: Vec<String>,
    /// The incident file with the whole evidence.
    pub evidence: Option<String>,
}

struct Words {
    service: &'static str,
    status: &'static str,
    down_for: &'static str,
    log: &'static str,
    likely_cause: &'static str,
    evidence: &'static str,
    level_names: [&'static str; 4],
    manual: &'static str,
    try_these: &'static str,
}

const EN: Words = Words {
    service: "Service",
    status: "HTTP status",
    down_for: "Down for",
    log: "Log",
    likely_cause: "Likely cause:",
    evidence: "Evidence",
    level_names: [
        "Level 1 (service manager)",
        "Level 2 (restart)",
        "Level 3 (AI agent)",
        "Level 4 (alerts)",
    ],
    manual: "Manual intervention required.",
    try_these: "Try:",
};

const KO: Words = Words {
    service: "서비스",
    status: "HTTP 상태",
    down_for: "장애 시간",
    log: "로그",
    likely_cause: "추정 원인:",
    evidence: "증거",
    level_names: [
        "Level 1 (서비스 관리자)",
        "Level 2 (재시작)",
        "Level 3 (AI 에이전트)",
        "Level 4 (알림)",
    ],
    manual: "수동 개입 필요",
    try_these: "복구 시도:",
};

pub fn render(kind: Kind, facts: &Facts, lang: Lang) -> Message {
    let w = match lang {
        Lang::En => &EN,
        Lang::Ko => &KO,
    };
    let (en, ko) = kind.words();
    let what = match lang {
        Lang::En => en,
        Lang::Ko => ko,
    };
    let severity = kind.severity();
    let title = format!("{} selfheal on {}: {what}", severity.emoji(), facts.host);
    let mut lines = Vec::new();
    if let Some(note) = &facts.note {
        lines.push(note.clone());
    }
    if !facts.url.is_empty() {
        lines.push(format!("{}: {}", w.service, facts.url));
    }
    let unhealthy = kind.down();
    if unhealthy && !facts.reason.is_empty() {
        lines.push(format!("{}: {} ({})", w.status, facts.status, facts.reason));
    }
    if (unhealthy || kind == Kind::Flapping) && !facts.cause.is_empty() {
        lines.push(w.likely_cause.to_string());
        lines.extend(facts.cause.iter().take(5).map(|c| format!("- {c}")));
    }
    for l in &facts.levels {
        let name = w
            .level_names
            .get(usize::from(l.level.saturating_sub(1)))
            .copied()
            .unwrap_or("Level ?");
        lines.push(format!(
            "- {name}: {} {}",
            if l.ok { "✅" } else { "❌" },
            l.detail
        ));
    }
    if let Some(d) = facts.down_for {
        lines.push(format!("{}: {}", w.down_for, fmt_secs(d)));
    }
    if let Some(log) = &facts.log_path {
        lines.push(format!("{}: {log}", w.log));
    }
    if let Some(path) = facts
        .evidence
        .as_ref()
        .filter(|_| unhealthy || kind == Kind::Flapping)
    {
        lines.push(format!("{}: {path}", w.evidence));
    }
    let mut commands = Vec::new();
    if unhealthy && !facts.commands.is_empty() {
        lines.push(w.manual.to_string());
        commands.push(w.try_these.to_string());
        commands.extend(facts.commands.iter().cloned());
    }
    // Whatever came from outside (a log line, a process's command line, an
    // agent's words) reaches no channel with a terminal escape in it.
    let visible = |v: Vec<String>| v.iter().map(|l| crate::sys::redact::visible(l)).collect();
    Message {
        kind,
        severity,
        title: crate::sys::redact::visible(&title),
        lines: visible(lines),
        commands: visible(commands),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            host: "mini".into(),
            url: "http://localhost:18789/".into(),
            status: "000".into(),
            reason: "connection refused".into(),
            levels: vec![
                LevelOutcome {
                    level: 2,
                    ok: false,
                    detail: "3 restarts".into(),
                },
                LevelOutcome {
                    level: 3,
                    ok: false,
                    detail: "not configured".into(),
                },
            ],
            down_for: Some(Duration::from_secs(125)),
            log_path: Some("/home/u/openclaw/memory/healthcheck-2026-11-24.log".into()),
            commands: vec!["openclaw status".into(), "openclaw gateway restart".into()],
            note: None,
            cause: vec!["port 18789 is held by python3 (pid 7)".into()],
            evidence: Some("/m/incident-20261124-030405.md".into()),
        }
    }

    #[test]
    fn failure_names_levels_status_log_and_commands() {
        let m = render(Kind::Failed, &facts(), Lang::En);
        let text = m.plain();
        assert!(m.title.starts_with("🚨"), "{text}");
        for needle in [
            "connection refused",
            "000",
            "Level 2 (restart): ❌ 3 restarts",
            "2m05s",
            "healthcheck-2026-11-24.log",
            "openclaw status",
            "openclaw gateway restart",
            "Likely cause:\n- port 18789 is held by python3 (pid 7)",
            "Evidence: /m/incident-20261124-030405.md",
        ] {
            assert!(text.contains(needle), "{needle} missing in {text}");
        }
        assert!(text.ends_with("openclaw gateway restart"));
    }

    #[test]
    fn korean_and_info_messages() {
        let m = render(Kind::Failed, &facts(), Lang::Ko);
        assert!(m.plain().contains("모든 자동 복구 시스템이 실패했습니다"));
        let r = render(Kind::Resolved, &facts(), Lang::En);
        assert!(r.title.starts_with("✅") && r.commands.is_empty());
        assert!(r.plain().contains("Down for: 2m05s"));
    }
}
