//! The help texts: `selfheal --help` and one per command. Kept apart from
//! the parser so that both read easily; README's command table says the same.

/// `selfheal --help`.
pub const HELP: &str = "\
selfheal — keep HTTP services alive: probe, restart, then escalate.

Usage: selfheal [GLOBAL OPTIONS] COMMAND [OPTIONS]

Commands:
  check [NAME]     the main job: probe; if unhealthy run levels 2 → 3 → 4 in
                   sequence (restart, AI agent in tmux, alerts), each step
                   bounded; run it from cron, launchd or a systemd timer.
                   With several services: all of them side by side, or NAME
  probe [--json]   probe once and print the result; exit 0 healthy, 1 unhealthy
  recover          run level 3 now (an AI agent in tmux), verify, alert on
                   failure
  notify [--level info|warning|error] MESSAGE
                   send MESSAGE to every configured channel (the way to
                   test them); exit 1 if any channel failed
  monitor          alert once about a failed level 3 log or a run that died
                   mid-ladder (the old emergency-recovery-monitor.sh)
  stats [NAME] [--days N] [--json]
                   summarize the metrics files (default: last 7 days; 0: all)
  pause DURATION   maintenance window (e.g. 30m, 2h): probe and record only,
                   no healing, no alerts
  resume           end the maintenance window
  status [NAME] [--json]
                   what selfheal is doing: last check, open incident, pause,
                   scheduler, heartbeat, queued alerts, the brake, flapping,
                   the agent's cooldown, failing channels (read-only)
  why [NAME]       the evidence: for an unhealthy service gathered now, else
                   the last incident's (the first command to run when paged)
  doctor [NAME] [--json] [--agent]
                   check configuration, dependencies, permissions, scheduler;
                   --agent also asks the agent one tiny question; exit 1 on
                   problems
  rollback [--list]
                   restore the last working version of the watched config
                   files, restart, keep it if healthy (--list: the versions)
  runbook [list | show ID | forget ID]
                   the fixes learned from the agent, replayed before any
                   agent when the same failure happens again
  guard [--for D] -- COMMAND…
                   make a change on probation (an update, an edit): run it,
                   restart, watch; undo it if the service fails
  reset            forget the crash-loop brake, flapping, the agent's
                   cooldown and failing channels' backoffs (like
                   `systemctl reset-failed`); says what it cleared
  rotate           delete this tool's logs older than the retention

Global options:
  -c, --config FILE    env file to read (default: $SELFHEAL_CONFIG,
                       ~/.openclaw/.env, ~/openclaw/.env)
  -s, --set KEY=VALUE  override one configuration key (repeatable)
      --service NAME   one of several services (~/.config/selfheal/services/
                       NAME.env); without it, status, doctor, stats and why
                       show each and check checks all
  -n, --dry-run        only read and probe; print what would be run or written
  -q, --quiet          nothing on stdout when healthy; actions and problems
                       on stderr (for cron mail)
  -v, --verbose        more detail in the log
  -h, --help           this help (also `selfheal COMMAND --help`)
  -V, --version        print the version

Exit status: 0 healthy, recovered or skipped; 1 still unhealthy; 2 usage or
configuration error; 3 selfheal itself could not work; 128+N stopped by signal N.

Configuration keys, files and metrics: see README.md.
";

pub const HELP_GUARD: &str = "\
selfheal guard — make a change on probation: undone if the service fails.

Usage: selfheal [GLOBAL OPTIONS] guard [--for DURATION] [--timeout DURATION]
                [--] COMMAND [ARGS…]

  selfheal guard -- npm i -g openclaw@latest
  selfheal guard -- openclaw update --yes
  selfheal guard -- $EDITOR ~/.openclaw/openclaw.json

Before: a copy of the watched files (SELFHEAL_WATCH_FILES) and what is
installed; the run lock is held throughout, so a scheduled check does not
heal in the middle of the change. Runs COMMAND without a shell, its output
passed through (interactive when stdin is a terminal), bounded by
--timeout (1h). Restarts the service if the command did not, then
probation: healthy within its boot bound, and still healthy for --for
(2m), probing every SELFHEAL_POLL_INTERVAL.

Failed: the files are put back (yours moved aside, never lost) and the
last working install reinstalled when it changed, the service restarted
and confirmed healthy; says what was undone and why, sends a warning, exit
1. Passed: the new files and install are the last working ones, exit 0.
Ctrl-C during probation undoes nothing: it says what it would have done and
leaves the change in place. --dry-run prints the plan.
";

pub const HELP_CHECK: &str = "\
selfheal check — probe the service and heal it if it is unhealthy.

Usage: selfheal [GLOBAL OPTIONS] check [NAME]

With several services (~/.config/selfheal/services/NAME.env), `check`
checks every one side by side, each a run of its own as below (its own
lock, state and bound), and exits with the worst status; `check NAME`
checks one. Each run, in order:

 1. Lock: takes the run lock in OPENCLAW_MEMORY_DIR (another run holds it:
    logs `skipped`, exits 0); rotates old logs; sends alerts queued by
    earlier runs.
 2. Probe: OPENCLAW_GATEWAY_URL. During a maintenance window (`pause`) it
    only probes and records.
 3. Healthy: checks SELFHEAL_WARN_RSS, SELFHEAL_WARN_DISK and
    SELFHEAL_WARN_LATENCY if set (one warning per episode), keeps a changed
    watched file as its last working version and notes what is installed
    (one stat), at most once per
    SELFHEAL_AGENT_CHECK_INTERVAL makes sure the agent can work; exit 0.
 4. Confirm: a crash with no process of the service left, or a stopped
    process, is down at once; a timeout gets one more probe of at most 1 s;
    else SELFHEAL_CONFIRM_PROBES more probes, SELFHEAL_POLL_INTERVAL apart.
    Healthy again on one of them is a blip: nothing healed, nobody paged.
 5. Evidence: who holds the port, the service manager's view, the error
    lines of SELFHEAL_SERVICE_LOGS, OpenClaw's config check, into
    incident-YYYYMMDD-HHMMSS.md (`selfheal why` prints it).
 6. Level 1: a start already under way (its manager is starting it, or a
    process of the service's own is younger than its boot) is left to boot.
 7. Level 2: SELFHEAL_RESTART_CMD, up to HEALTH_CHECK_MAX_RETRIES times,
    each followed by a wait for the boot (HEALTH_CHECK_RETRY_DELAY, or 2 x
    its slowest recent boot, at most SELFHEAL_BOOT_TIMEOUT), probed every
    SELFHEAL_POLL_INTERVAL and cut short only by evidence about the service
    that the start failed. After the first failed restart: the last working
    version of a changed SELFHEAL_WATCH_FILES file (`rollback`), the last
    working install when it changed (SELFHEAL_REINSTALL_CMD), a fix
    learned from the agent for the same failure (`runbook`),
    SELFHEAL_REPAIR_CMD once. No file changes while it may be starting; no
    more restarts when they cannot help, nor beyond SELFHEAL_RESTART_LIMIT
    per SELFHEAL_RESTART_WINDOW (the crash-loop brake). Then it waits up to
    HEALTH_CHECK_ESCALATION_WAIT (polled).
 8. Level 3: the agent in a private tmux session (`selfheal recover
    --help`), unless disabled, missing, or in its cooldown after a failure.
 9. Level 4: every configured channel, with the likely cause, once per
    incident (\"resolved\" follows when it is healthy again); a service that
    keeps falling after being healed gets one \"flapping\" warning.
10. End: pings SELFHEAL_HEARTBEAT_URL (URL/start when healing begins; the
    end with the run's log when it healed), writes SELFHEAL_PROM_FILE.

Every step is bounded; the log file names the run's worst case (a bound,
with what it is made of) when healing starts. Alerts are queued before they
are sent and leave the queue per channel when delivered: at least once per
channel, whenever the run dies.

When it cannot run (exit 2: a bad configuration value; exit 3: its directory
or a file of it refused), it still logs the error, pings the heartbeat's
/fail and sends one `cannot_run` alert per cause to every channel it could
read; `runs_again` follows once it works.

Exit status: 0 healthy or recovered, 1 still unhealthy, 2 configuration,
3 selfheal itself could not work, 128+N stopped by signal N (within 1 s).
";

pub const HELP_PROBE: &str = "\
selfheal probe — probe the service once and print the result.

Usage: selfheal [GLOBAL OPTIONS] probe [--json]

  --json   print {\"url\",\"healthy\",\"status\",\"latency_ms\",\"reason\"}

Writes nothing and takes no lock. Exit status: 0 healthy, 1 unhealthy.
";

pub const HELP_NOTIFY: &str = "\
selfheal notify — send a message to every configured alert channel.

Usage: selfheal [GLOBAL OPTIONS] notify [--level info|warning|error] MESSAGE

  --level LEVEL   info, warning or error (default info): the emoji, and
                  the priority of ntfy, Pushover and Gotify

Channels: every one configured (their keys are in README.md; `selfheal
doctor` lists them), except those that take only pages (PagerDuty).

Uses the same delivery as the alerts of `check` (timeouts, retries that honour
Retry-After), logs and records each send, but keeps nothing in the outbox.
With --dry-run it prints each payload instead. Exit status: 0 every channel
took it, 1 some did not, 2 no channel is configured.
";

pub const HELP_MONITOR: &str = "\
selfheal monitor — alert once about a failed or abandoned recovery.

Usage: selfheal [GLOBAL OPTIONS] monitor

Sends queued alerts; alerts once if the previous run died while healing; and
alerts once about the newest emergency-recovery-<TS>.log changed within
EMERGENCY_ALERT_WINDOW (minutes, default 30) that contains MANUAL
INTERVENTION REQUIRED, remembering it in .emergency-alert-sent. Exit status:
0 nothing to report, 1 a failed recovery was found.
";

pub const HELP_RECOVER: &str = "\
selfheal recover — run level 3 now: an AI coding agent repairs the service.

Usage: selfheal [GLOBAL OPTIONS] recover

If the service is unhealthy, starts the agent (SELFHEAL_AGENT: claude,
codex, codex-oss, gemini, or SELFHEAL_AGENT_CMD) in a private tmux session
in SELFHEAL_AGENT_WORKDIR: an interactive one gets its trust dialog accepted
and the recovery prompt pasted, one with {prompt_file} reads it. Watches
until the service is healthy, the agent writes its report, exits, says it
cannot work (then SELFHEAL_AGENT_FALLBACK_CMD takes over), falls silent, or
EMERGENCY_RECOVERY_TIMEOUT runs out. The log says how to watch it live
(tmux -S ... attach). Keeps the session's scrollback, the level 3 log and
the learnings; alerts on failure. Ignores the cooldown of `check`.
Exit status: 0 healthy or recovered, 1 not recovered.
";

pub const HELP_STATS: &str = "\
selfheal stats — summarize the metrics files.

Usage: selfheal [GLOBAL OPTIONS] stats [NAME] [--days N] [--json | --notify]

  --days N   only events of the last N days (default 7; 0: all)
  --json     the same numbers as one JSON object
  --notify   send the summary to every channel now (the digest)

Reads .healthcheck-metrics.json and .emergency-recovery-metrics.json line by
line in constant memory, skipping and counting malformed lines: checks and
healthy %, restarts by result, recovery by result (the numbers of the old
scripts' jq query), level 3 by result with its mean duration, the share of
unhealthy runs that ended healthy without a human, mean time to recovery,
alerts, the slowest probe, and the last incident.

SELFHEAL_DIGEST=daily|weekly (with SELFHEAL_DIGEST_AT, local HH:MM, default
08:00) makes the first `check` after that time send these numbers to every
channel as one info message, once per period.
";

pub const HELP_PAUSE: &str = "\
selfheal pause — a maintenance window; selfheal resume — end it.

Usage: selfheal [GLOBAL OPTIONS] pause DURATION
       selfheal [GLOBAL OPTIONS] resume

DURATION: 30m, 2h, 1d, or seconds (at most 7 days). During the window
`check` probes and records but neither heals nor alerts, and exits 0. An
incident still open when the window ends is handled normally by the next
check. The window is kept in .selfheal-pause in OPENCLAW_MEMORY_DIR.

Recurring windows (nightly updates, backups) go in SELFHEAL_MAINTENANCE:
`Sun 03:00-04:00`, `daily 02:30-02:45`, `Mon-Fri 12:00-12:10`, several
separated by commas; local time; a window may cross midnight. Inside one a
check behaves as during `pause`; `doctor` and `check -v` name the next one.
";

pub const HELP_DOCTOR: &str = "\
selfheal doctor — is this installation one to trust at night?

Usage: selfheal [GLOBAL OPTIONS] doctor [NAME] [--json] [--agent]

  --agent  also run one tiny non-interactive request through the agent
           (Claude Code: print mode, a one-word answer, at most 60 s; spends a
           few tokens) and say: works, not found, not logged in, usage limit,
           no network, or that its flags will stall an unattended session

Checks: the configuration and the env file's mode; the tool directory and
its files' modes; the restart command, tmux and the agent (absolute paths);
at least one alert channel; the CA bundle for HTTPS; the scheduler
(launchd, systemd user timer, or cron); the service's own keep-alive
(level 1: ai.openclaw.gateway / openclaw-gateway.service); one probe.
One line per check (✓, ✗ with its fix, · for information). Changes and
sends nothing. Exit status: 0 no problems, 1 problems.
";

pub const HELP_ROTATE: &str = "\
selfheal rotate — delete this tool's dated logs older than the retention.

Usage: selfheal [GLOBAL OPTIONS] rotate

Deletes healthcheck-YYYY-MM-DD.log, emergency-recovery-<TS>.log and
claude-session-<TS>.log files in OPENCLAW_MEMORY_DIR whose modification time
is older than SELFHEAL_LOG_RETENTION_DAYS (default 14). Never touches
metrics, state, reports, learnings or any other file. `check` does the same
at the start of every run.
";

pub const HELP_WHY: &str = "\
selfheal why — what is wrong, with the evidence.

Usage: selfheal [GLOBAL OPTIONS] why [NAME]

Probes once. Unhealthy: gathers the evidence now and prints it — the probe's
reason, who holds the port, the service manager's view (OpenClaw), the last
error lines of SELFHEAL_SERVICE_LOGS, OpenClaw's config check — each bounded
and redacted. Healthy: prints the last incident file
(incident-YYYYMMDD-HHMMSS.md in OPENCLAW_MEMORY_DIR), which `check` writes at
every confirmed failure. Writes nothing and takes no lock.
Exit status: 0 healthy, 1 unhealthy.
";

pub const HELP_STATUS: &str = "\
selfheal status — what selfheal is doing for the service now.

Usage: selfheal [GLOBAL OPTIONS] status [NAME] [--json]

The service (URL redacted); the last check and its result (from the
metrics); the open incident: since when, why, which alerts went out, a run in
progress; a maintenance window in force and until when; the scheduler; the
heartbeat; alerts waiting in the outbox; the crash-loop brake when it holds,
flapping, the agent's cooldown, the last rollback, alert channels that fail
(`selfheal reset` clears the brake, flapping, the cooldown and the channels'
backoffs). Read-only: probes nothing, takes no lock. Exit status: 0.
";

pub const HELP_ROLLBACK: &str = "\
selfheal rollback — put back the last working config.

Usage: selfheal [GLOBAL OPTIONS] rollback [--list]

  --list   the kept versions of each watched file, newest first

SELFHEAL_WATCH_FILES (auto: the OpenClaw gateway's openclaw.json) are copied
to last-good/ in OPENCLAW_MEMORY_DIR by every healthy check that finds them
changed (the last 5 versions, 0600). `check` restores them by itself after
the first failed restart; this command does it now: each file that differs
from its last working version is moved aside (FILE.selfheal-<time>, never
deleted), the last working version is written in its place (same mode and
owner), the service is restarted and probed. Healthy: kept. Not healthy:
your file is put back byte for byte. With --dry-run: what would be restored
and what differs. Exit status: 0 healthy or nothing to restore, 1 not.
";

pub const HELP_RESET: &str = "\
selfheal reset — forget what holds selfheal back, after you fixed the cause.

Usage: selfheal [GLOBAL OPTIONS] reset

Clears the crash-loop brake (the restarts counted in SELFHEAL_RESTART_WINDOW
and its backoff), a flapping episode, the cooldown after a failed level 3
(SELFHEAL_AGENT_COOLDOWN) and the backoff of alert channels that failed, and
says what it cleared (`selfheal status` shows them). The open incident, its
alerts and the outbox stay. Takes the run lock. Exit status: 0.
";

pub const HELP_RUNBOOK: &str = "\
selfheal runbook — the fixes learned from the agent.

Usage: selfheal [GLOBAL OPTIONS] runbook [list]
       selfheal [GLOBAL OPTIONS] runbook show ID
       selfheal [GLOBAL OPTIONS] runbook forget ID

When level 3 heals the service (by selfheal's own probe), the fix script the
agent wrote is kept in runbook/ of OPENCLAW_MEMORY_DIR (0600) under the
incident's signature (the probe's result and the most telling error, with
numbers, paths and ids made general). The next incident with the same
signature runs it with /bin/sh after the first failed restart, before any
agent; a fix that failed twice is retired. SELFHEAL_RUNBOOK=off turns it off.
";
