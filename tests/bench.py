#!/usr/bin/env python3
"""`make bench`: what a selfheal run costs, measured, as a Markdown table.

Every number is the median of N runs, each a fresh process started with
posix_spawn and reaped with wait4 (so that wall time, CPU time and peak RSS
are the child's own). The service is a small Python HTTP server on loopback.
"""
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/x86_64-unknown-linux-musl/release/selfheal")
RUNS = int(os.environ.get("BENCH_RUNS", "100"))
ROOT = os.path.abspath("target/bench")
HERE = os.path.dirname(os.path.abspath(__file__))


class Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"ok":true,"status":"live"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def serve():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def once(argv, env):
    devnull = os.open(os.devnull, os.O_RDWR)
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    os.close(devnull)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def peak_rss_kib(argv, env):
    """Peak RSS through GNU time: wait4's ru_maxrss of a child forked from
    Python would include Python's own pages (maxrss survives execve)."""
    if not GNU_TIME:
        return None
    out = os.path.join(ROOT, "rss")
    subprocess.run([GNU_TIME, "-f", "%M", "-o", out] + argv, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        return int(f.read().split()[-1])


def measure(argv, env, runs=RUNS):
    for _ in range(5):
        once(argv, env)
    samples = [once(argv, env) for _ in range(runs)]
    codes = {s[3] for s in samples}
    med = lambda i: statistics.median(s[i] for s in samples)
    rss = [r for r in (peak_rss_kib(argv, env) for _ in range(min(runs, 50))) if r is not None]
    rss = f"{statistics.median(rss) / 1024:.1f}" if rss else "n/a (apt-get install time)"
    return med(0) * 1000, med(1) * 1000, rss, codes


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    home = os.path.join(ROOT, "home")
    os.makedirs(home)
    srv = serve()
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "OPENCLAW_GATEWAY_URL": url}
    rows = []
    curl = shutil.which("curl")

    def row(name, argv, note=""):
        wall, cpu, rss, codes = measure(argv, env)
        rows.append((name, f"{wall:.2f}", f"{cpu:.2f}", rss, note or " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))))
        if codes != {0}:
            print(f"warning: {name} exited {codes}", file=sys.stderr)

    row("selfheal check (healthy)", [BIN, "--quiet", "check"], "lock, rotation scan, probe, log line, 2 metric lines")
    row("selfheal probe", [BIN, "probe"], "one GET, prints the result, writes nothing")
    if curl:
        row("curl (baseline)", [curl, "-s", "-o", "/dev/null", "--max-time", "10", url], "bare loopback GET by curl")
    row("true (process start)", [shutil.which("true")], "the floor: fork + exec + wait")

    # Time to recovery: the service is down; the restart command brings it back after 1 s.
    srv.shutdown()
    srv.server_close()
    port = srv.server_address[1]
    www = os.path.join(ROOT, "www")
    os.makedirs(www)
    pidfile = os.path.join(ROOT, "svc.pid")
    restart = f"{HERE}/fixtures/demo-restart.sh {port} {pidfile} {www} 1"
    renv = dict(env, SELFHEAL_RESTART_CMD=restart, SELFHEAL_POLL_INTERVAL="0.2", HEALTH_CHECK_RETRY_DELAY="30")
    recoveries = []
    for _ in range(5):
        w, _, _, code = once([BIN, "--quiet", "check"], renv)
        recoveries.append(w)
        subprocess.run(["sh", "-c", f"kill $(cat {pidfile}) 2>/dev/null; sleep 0.3"])
    ttr = statistics.median(recoveries)

    # stats on 1,000,000 lines against the seed's jq query (jq -s), and on
    # 10,000 lines to show that memory does not grow with the file.
    stats_rows = []
    for n in (10_000, 1_000_000):
        shome = os.path.join(ROOT, f"stats-{n}")
        mem = os.path.join(shome, "openclaw", "memory")
        os.makedirs(mem)
        path = os.path.join(mem, ".healthcheck-metrics.json")
        now = int(time.time())
        results = ["success", "failed", "self_healed"]
        # jq reads a clean copy (it stops at the first bad line); selfheal
        # reads the same lines with 1% garbage mixed in, and must agree.
        clean = os.path.join(shome, "clean.json")
        with open(path, "w") as f, open(clean, "w") as c:
            for i in range(n):
                if i % 10 == 0:
                    line = '{"timestamp":%d,"metric":"recovery","result":"%s","duration":%d}\n' % (now - i, results[i % 3], i % 4)
                else:
                    line = '{"timestamp":%d,"metric":"http_check","result":"200","duration":0.002}\n' % (now - i)
                f.write(line)
                c.write(line)
                if i % 100 == 0:
                    f.write('garbage {"timestamp": \n')
        senv = {"HOME": shome, "PATH": env["PATH"]}
        wall, cpu, rss, _ = measure([BIN, "stats", "--days", "0", "--json"], senv, runs=5)
        stats_rows.append((n, wall, rss))
        if n == 1_000_000 and shutil.which("jq"):
            q = '[.[] | select(.metric=="recovery")] | group_by(.result) | map({result: .[0].result, count: length})'
            t = time.perf_counter()
            out = subprocess.run(["jq", "-s", "-c", q, clean], capture_output=True, check=True).stdout
            jq_ms = (time.perf_counter() - t) * 1000
            jq_rss = peak_rss_kib(["jq", "-s", "-c", q, clean], senv)
            stats_rows.append(("jq", jq_ms, f"{jq_rss / 1024:.1f}" if jq_rss else "n/a"))
            ours = json.loads(subprocess.run([BIN, "stats", "--days", "0", "--json"], env=senv, capture_output=True).stdout)
            theirs = {d["result"]: d["count"] for d in json.loads(out)}
            agree = ours["recovery"] == theirs
            print(f"stats vs jq on 1,000,000 lines: recovery counts {'equal' if agree else 'DIFFER'} "
                  f"({theirs}); {ours['malformed']} garbage lines skipped", file=sys.stderr)

    heal_rows = heal_overheads(env)

    size = os.path.getsize(BIN)
    print(f"selfheal bench — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {os.uname().sysname} {os.uname().machine}, median of {RUNS} runs\n")
    print("| what | wall ms | cpu ms | peak RSS MiB | command |")
    print("|---|---:|---:|---:|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\n- time to recovery, service that starts 1 s after the restart command, poll 0.2 s: "
          f"median {ttr:.2f} s of 5 (`check` with tests/fixtures/demo-restart.sh … 1)")
    print(f"- static binary: {size} bytes ({size / 1048576:.2f} MiB), `{os.path.relpath(BIN)}`")
    print("\n| healing a stand-in service (boots in %.2f s), default settings | check, s | overhead over the boot, s |" % heal_rows[0])
    print("|---|---:|---:|")
    for name, wall, over in heal_rows[1]:
        print(f"| {name} | {wall:.2f} | {over:+.2f} |")
    print("\n(The overhead is mostly the poll interval, 2 s by default: the first probe after a restart.)")
    print("\n| stats | wall ms | peak RSS MiB |\n|---|---:|---:|")
    for name, ms, rss in stats_rows:
        label = f"`selfheal stats --days 0`, {name:,} lines" if name != "jq" else "`jq -s` (the seed's query), 1,000,000 lines"
        print(f"| {label} | {ms:.0f} | {rss} |")
    sys.stdout.flush()


def heal_overheads(env):
    """What healing costs beyond the service's own boot, at default settings
    (level 3 off, no escalation wait), against tests/fixtures/slow-service.py:
    a crash, a hang, a start left to level 1, a restart that returns at once;
    and a healthy check with one alert channel that never answers."""
    fx = os.path.join(HERE, "fixtures")
    root = os.path.join(ROOT, "heal")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    pidfile, runs = os.path.join(root, "pid"), os.path.join(root, "runs")
    boot = "1.0"
    henv = dict(env, HOME=root, OPENCLAW_GATEWAY_URL=url, SELFHEAL_AGENT_CMD="",
                HEALTH_CHECK_ESCALATION_WAIT="0", SELFHEAL_AGENT_CHECK_INTERVAL="0")
    up = lambda: subprocess.run(["curl", "-s", "-o", "/dev/null", "-m", "1", url]).returncode == 0
    def wait_up(limit=30):
        t = time.perf_counter()
        while time.perf_counter() - t < limit:
            if up():
                return time.perf_counter() - t
            time.sleep(0.02)
        raise SystemExit("bench: the stand-in service did not come up")
    def pid():
        with open(pidfile) as f:
            return int(f.read().strip())
    def late(delay):
        return f"{fx}/late-start.sh {port} {pidfile} {runs} {delay} {boot}"
    def check(restart, **extra):
        e = dict(henv, SELFHEAL_RESTART_CMD=restart, **extra)
        t = time.perf_counter()
        code = subprocess.run([BIN, "--quiet", "check"], env=e, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode
        return time.perf_counter() - t, code
    def kill(sig):
        try:
            os.kill(pid(), sig)
        except (ProcessLookupError, FileNotFoundError, ValueError):
            pass
    # The stand-in's own boot: from its start to its first answer.
    proc = subprocess.Popen(["python3", f"{fx}/slow-service.py", str(port), boot, pidfile],
                            start_new_session=True)
    own = wait_up()
    check(late("0"))  # healthy: who the service is is remembered
    rows = []
    # A crash: kill -9, the restart command starts it at once.
    kill(9); proc.wait()
    while up():
        time.sleep(0.02)
    wall, _ = check(late("0"))
    rows.append(("crash (kill -9), restart command starts it", wall, wall - own))
    # A hang: SIGSTOP; the probe's timeout (2 s here) is spent first.
    kill(19)
    wall, _ = check(late("0"), HEALTH_CHECK_HTTP_TIMEOUT="2")
    rows.append(("hang (SIGSTOP), probe timeout 2 s", wall, wall - own - 2))
    # A restart command that returns at once and starts it 0.5 s later.
    kill(9)
    while up():
        time.sleep(0.02)
    wall, _ = check(late("0.5"))
    rows.append(("crash, restart command returns at once (start 0.5 s later)", wall, wall - own - 0.5))
    # Level 1: a supervisor starts it again a second after it dies.
    kill(9)
    time.sleep(0.5)
    sup = subprocess.Popen(["sh", f"{fx}/supervise.sh", "python3", f"{fx}/slow-service.py", str(port), boot, pidfile],
                           start_new_session=True)
    wait_up()
    check(late("0"))
    old = pid()
    kill(9)
    while pid() == old:
        time.sleep(0.01)
    wall, _ = check(f"{fx}/append.sh {runs}")
    rows.append(("crash under a supervisor (level 1), left to boot", wall, wall - own))
    os.killpg(sup.pid, 9)
    kill(9)
    # Healthy, with one alert channel that takes connections and never
    # answers, and an alert queued for it.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    hook = f"http://127.0.0.1:{hang.getsockname()[1]}/hook"
    ok = serve()
    hurl = f"http://127.0.0.1:{ok.server_address[1]}/"
    hhome = os.path.join(root, "unreachable")
    os.makedirs(os.path.join(hhome, "openclaw", "memory"), mode=0o700)
    state = {"outbox": [{"created": int(time.time()), "channel": "webhook", "kind": "resolved",
                         "severity": "info", "title": "t", "text": "x"}]}
    spath = os.path.join(hhome, "openclaw", "memory", ".selfheal-state.json")
    with open(spath, "w") as f:
        json.dump(state, f)
    os.chmod(spath, 0o600)
    uenv = dict(env, HOME=hhome, OPENCLAW_GATEWAY_URL=hurl, SELFHEAL_WEBHOOK_URL=hook,
                SELFHEAL_AGENT_CHECK_INTERVAL="0")
    first = once([BIN, "--quiet", "check"], uenv)[0]
    later = statistics.median(once([BIN, "--quiet", "check"], uenv)[0] for _ in range(20))
    rows.append(("healthy, one channel unreachable: the run that tries it (s)", first, first))
    rows.append(("healthy, one channel unreachable: the runs after, median of 20 (s)", later, later))
    hang.close()
    ok.shutdown()
    return own, rows


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    main()
