//! What an alert says: the text of each kind of message in English or
//! Korean, as the old scripts wrote them — an emoji for urgency, what happened,
//! which levels were tried and how each failed, status and reason, durations,
//! the log path, and commands a human can paste.
//!
//! Pure: facts in, `Message` out. How a message is shaped for each service
//! (length limits, markup) is `channels`' business; whether it should be sent
//! at all is `incident`'s and the ladder's.

use std::time::Duration;

use crate::config::Lang;
use crate::fmt::fmt_secs;
use crate::kind::{Kind, Severity};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub severity: Severity,
    /// One line, with the emoji.
    pub title: String,
    /// Detail lines; the part that is shortened when a service has a limit.
    pub lines: Vec<String>,
    pub commands: Vec<String>,
}

impl Message {
    /// Plain text: title, details, then the commands.
    pub fn plain(&self) -> String {
        let mut text = self.title.clone();
        if !self.lines.is_empty() {
            text.push_str("\n\n");
            text.push_str(&self.lines.join("\n"));
        }
        if !self.commands.is_empty() {
            text.push_str("\n\n");
            text.push_str(&self.commands.join("\n"));
        }
        text
    }
}

struct Words {
    recovered: &'static str,
    escalating: &'static str,
    agent_recovered: &'static str,
    failed: &'static str,
    resolved: &'static str,
    reminder: &'static str,
    run_died: &'static str,
    level3_failed: &'static str,
    flapping: &'static str,
    stable: &'static str,
    rolled_back: &'static str,
    learned_fix: &'static str,
    agent_broken: &'static str,
    agent_ready: &'static str,
    cannot_run: &'static str,
    runs_again: &'static str,
    digest: &'static str,
    early_warning: &'static str,
    early_resolved: &'static str,
    custom: &'static str,
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
    recovered: "recovered by restart",
    escalating: "restarts failed, starting AI recovery (level 3)",
    agent_recovered: "recovered by the AI agent",
    failed: "every automatic recovery failed",
    resolved: "resolved",
    reminder: "still down",
    run_died: "a selfheal run died while healing",
    level3_failed: "AI recovery failed",
    flapping: "flapping: it keeps coming back and falling again",
    stable: "stable again after flapping",
    rolled_back: "recovered by restoring the last working config",
    learned_fix: "recovered by a fix learned from the AI agent",
    agent_broken: "level 3 cannot work: the AI agent is not ready",
    agent_ready: "the AI agent works again",
    cannot_run: "selfheal cannot run: nothing watches the service",
    runs_again: "selfheal runs again",
    digest: "summary",
    early_warning: "early warning: the service is still up",
    early_resolved: "early warning over",
    custom: "message",
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
    recovered: "재시작으로 복구됨",
    escalating: "재시작 실패, AI 복구(Level 3) 시작",
    agent_recovered: "AI 에이전트가 복구함",
    failed: "모든 자동 복구 시스템이 실패했습니다",
    resolved: "복구 완료",
    reminder: "여전히 장애 중",
    run_died: "selfheal 실행이 복구 도중 중단됨",
    level3_failed: "AI 복구 실패",
    flapping: "불안정: 복구와 장애가 반복됨",
    stable: "불안정 상태 해소",
    rolled_back: "마지막 정상 설정으로 복원하여 복구함",
    learned_fix: "AI 에이전트에게 배운 해결책으로 복구함",
    agent_broken: "Level 3 불가: AI 에이전트가 준비되지 않음",
    agent_ready: "AI 에이전트가 다시 동작함",
    cannot_run: "selfheal 실행 불가: 서비스를 감시하지 못함",
    runs_again: "selfheal 다시 실행됨",
    digest: "요약",
    early_warning: "조기 경고: 서비스는 아직 정상",
    early_resolved: "조기 경고 해제",
    custom: "메시지",
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
    let what = match kind {
        Kind::Recovered => w.recovered,
        Kind::Escalating => w.escalating,
        Kind::AgentRecovered => w.agent_recovered,
        Kind::Failed => w.failed,
        Kind::Resolved => w.resolved,
        Kind::Reminder => w.reminder,
        Kind::RunDied => w.run_died,
        Kind::Level3Failed => w.level3_failed,
        Kind::Flapping => w.flapping,
        Kind::Stable => w.stable,
        Kind::RolledBack => w.rolled_back,
        Kind::LearnedFix => w.learned_fix,
        Kind::AgentBroken => w.agent_broken,
        Kind::AgentReady => w.agent_ready,
        Kind::CannotRun => w.cannot_run,
        Kind::RunsAgain => w.runs_again,
        Kind::Digest => w.digest,
        Kind::EarlyWarning => w.early_warning,
        Kind::EarlyResolved => w.early_resolved,
        Kind::Custom(_) => w.custom,
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
    let unhealthy = matches!(
        kind,
        Kind::Escalating | Kind::Failed | Kind::Reminder | Kind::Level3Failed
    );
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
    Message {
        kind,
        severity,
        title,
        lines,
        commands,
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
