#!/usr/bin/env bash
# `make demo`: selfheal healing a throwaway HTTP service on this machine.
# Everything lives in target/demo (a sandbox HOME); every process it starts
# is stopped on exit, also on Ctrl-C.
set -euo pipefail
bin=$(realpath "${1:-target/release/selfheal}")
here=$(cd "$(dirname "$0")/.." && pwd)
root=$here/target/demo
rm -rf "$root"
mkdir -p "$root/home/.openclaw" "$root/www"
export HOME=$root/home
echo "selfheal is fine" > "$root/www/index.html"
pidfile=$root/service.pid

cleanup() {
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    pkill -P "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
restart="$here/tests/fixtures/demo-restart.sh $port $pidfile $root/www"

# The same env file format OpenClaw users already have (~/.openclaw/.env).
cat > "$HOME/.openclaw/.env" <<ENV
OPENCLAW_GATEWAY_URL=http://127.0.0.1:$port/
SELFHEAL_EXPECT_BODY=selfheal is fine
SELFHEAL_RESTART_CMD=$restart
SELFHEAL_POLL_INTERVAL=0.5
HEALTH_CHECK_RETRY_DELAY=15
HEALTH_CHECK_ESCALATION_WAIT=5
# No daily agent check in a demo: with Claude Code installed it would spend
# tokens (and up to a minute) on the first healthy check.
SELFHEAL_AGENT_CHECK_INTERVAL=0
ENV
chmod 600 "$HOME/.openclaw/.env"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. start a service on 127.0.0.1:$port and check it"
$restart >/dev/null
for _ in $(seq 50); do "$bin" probe >/dev/null 2>&1 && break; sleep 0.1; done
"$bin" check

step "2. the service dies"
kill "$(cat "$pidfile")"
sleep 0.2
"$bin" probe || true

step "3. selfheal check: restart, poll every 0.5 s, recovered as soon as it answers"
"$bin" check

step "4. the log ($HOME/openclaw/memory/healthcheck-*.log)"
cat "$HOME"/openclaw/memory/healthcheck-*.log

step "5. the metrics (.healthcheck-metrics.json, JSON Lines)"
cat "$HOME/openclaw/memory/.healthcheck-metrics.json"

if command -v jq >/dev/null; then
  step "6. the old scripts' jq query still works"
  jq -s -c '[.[] | select(.metric=="recovery")] | group_by(.result) | map({result: .[0].result, count: length})' \
    "$HOME/openclaw/memory/.healthcheck-metrics.json"
fi

step "7. selfheal stats"
"$bin" stats --days 1

step "done: the demo service is stopped; files are in $root"
