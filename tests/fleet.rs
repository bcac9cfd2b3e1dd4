//! The fleet on Prometheus, with the real programs from Debian
//! (`prometheus` 2.42 with `promtool`, `prometheus-node-exporter`,
//! `prometheus-alertmanager`): the shipped rules pass `promtool check
//! rules` and their unit tests (`tests/prometheus/alerts.test.yml`), and the
//! whole chain works on loopback — selfheal writes the textfile,
//! node_exporter serves it, Prometheus scrapes it and evaluates the rules,
//! Alertmanager posts the firing alert to a webhook, and when the service is
//! healthy again the alert resolves. Started and stopped by the test,
//! bounded; a missing program fails the test with how to install it
//! (`.ci/run` installs them).

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn promtool(args: &[&str]) -> String {
    require_tool("promtool", "apt-get install prometheus");
    let out = Command::new("promtool")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{text}");
    text
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let said = promtool(&["check", "rules", "contrib/prometheus-alerts.yml"]);
    assert!(said.contains("SUCCESS: 7 rules found"), "{said}");
    let said = promtool(&["test", "rules", "tests/prometheus/alerts.test.yml"]);
    assert!(said.contains("SUCCESS"), "{said}");
}

/// A program of the chain, killed (with its children) when dropped.
struct Daemon(Child);

impl Daemon {
    fn start(program: &'static str, args: &[String], log: &Path) -> Daemon {
        require_tool(
            program,
            "apt-get install prometheus prometheus-node-exporter prometheus-alertmanager",
        );
        let out = std::fs::File::create(log).expect("log");
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Daemon(child)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ready(port: u16, path: &str) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    use std::io::{Read, Write};
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

/// The alerts Alertmanager posted: (alertname, status, service, host).
fn posted(sink: &Sink) -> Vec<(String, String, String, String)> {
    sink.received()
        .iter()
        .flat_map(|r| {
            let v = r.json();
            v["alerts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|a| {
                    let l = |k: &str| a["labels"][k].as_str().unwrap_or("").to_string();
                    (
                        l("alertname"),
                        a["status"].as_str().unwrap_or("").to_string(),
                        l("service"),
                        l("host"),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn selfheal_node_exporter_prometheus_and_alertmanager_page_and_resolve() {
    let sb = Sandbox::new("fleet");
    let dir = sb.root.join("fleet");
    let textfiles = dir.join("textfile");
    std::fs::create_dir_all(&textfiles).expect("mkdir");
    let sink = Sink::start(vec![Answer::ok()]);
    let (ne, prom, am) = (free_port(), free_port(), free_port());

    // The shipped rules, with their `for:` shortened to seconds (the only
    // change: a test does not wait 15 minutes).
    let rules = std::fs::read_to_string(repo("contrib/prometheus-alerts.yml")).expect("rules");
    let rules = rules
        .lines()
        .map(|l| match l.trim_start().strip_prefix("for: ") {
            Some(_) => format!("{}for: 1s", &l[..l.len() - l.trim_start().len()]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("rules.yml"), rules).expect("rules");
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             rule_files: [rules.yml]\n\
             alerting: {{alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am}']}}]}}]}}\n\
             scrape_configs:\n  - job_name: node\n    static_configs: [{{targets: ['127.0.0.1:{ne}']}}]\n"
        ),
    )
    .expect("prometheus.yml");
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!(
            "route: {{receiver: hook, group_by: [alertname, host, service], group_wait: 1s, \
             group_interval: 1s, repeat_interval: 1h}}\n\
             receivers:\n  - name: hook\n    webhook_configs: [{{url: '{}', send_resolved: true}}]\n",
            sink.url("/alertmanager")
        ),
    )
    .expect("alertmanager.yml");

    let s = |v: String| v;
    let _am = Daemon::start(
        "prometheus-alertmanager",
        &[
            s(format!(
                "--config.file={}",
                dir.join("alertmanager.yml").display()
            )),
            s(format!("--storage.path={}", dir.join("am").display())),
            s(format!("--web.listen-address=127.0.0.1:{am}")),
            s("--cluster.listen-address=".into()),
        ],
        &dir.join("alertmanager.log"),
    );
    let _ne = Daemon::start(
        "prometheus-node-exporter",
        &[
            s(format!("--web.listen-address=127.0.0.1:{ne}")),
            s("--collector.disable-defaults".into()),
            s("--collector.textfile".into()),
            s(format!(
                "--collector.textfile.directory={}",
                textfiles.display()
            )),
        ],
        &dir.join("node-exporter.log"),
    );
    let _prom = Daemon::start(
        "prometheus",
        &[
            s(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            )),
            s(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            )),
            s(format!("--web.listen-address=127.0.0.1:{prom}")),
            s("--rules.alert.resend-delay=1s".into()),
        ],
        &dir.join("prometheus.log"),
    );
    let logs = || {
        ["alertmanager.log", "node-exporter.log", "prometheus.log"]
            .iter()
            .map(|f| {
                let t = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
                let tail: Vec<&str> = t.lines().rev().take(8).collect();
                format!(
                    "--- {f}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let up = wait_for(Duration::from_secs(60), || {
        ready(am, "/-/ready") && ready(prom, "/-/ready") && ready(ne, "/metrics")
    });
    assert!(up, "the chain did not start:\n{}", logs());

    // A service that is down and that selfheal cannot heal: selfheal_up 0.
    let prom_file = textfiles.join("selfheal-web.prom");
    let mut cmd = sb.failing_check();
    cmd.env("SELFHEAL_PROM_FILE", &prom_file);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let host = selfheal::ctx::hostname();
    let fired = wait_for(Duration::from_secs(90), || {
        posted(&sink).iter().any(|(name, status, _, h)| {
            name == "SelfhealServiceDown" && status == "firing" && *h == host
        })
    });
    assert!(
        fired,
        "no firing alert posted: {:?}\n{}",
        posted(&sink),
        logs()
    );

    // Healthy again: selfheal_up 1, and the alert resolves.
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let mut cmd = sb.cmd(&["check"]);
    cmd.env("OPENCLAW_GATEWAY_URL", srv.url())
        .env("SELFHEAL_PROM_FILE", &prom_file);
    let r = run(cmd, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let resolved = wait_for(Duration::from_secs(90), || {
        posted(&sink)
            .iter()
            .any(|(name, status, _, _)| name == "SelfhealServiceDown" && status == "resolved")
    });
    assert!(resolved, "not resolved: {:?}\n{}", posted(&sink), logs());
    let service = posted(&sink)
        .into_iter()
        .find(|(name, ..)| name == "SelfhealServiceDown")
        .map(|(_, _, s, _)| s);
    assert!(service.is_some_and(|s| !s.is_empty()), "no service label");

    // The dashboard's queries are PromQL this Prometheus accepts, and the
    // ones about what happened here have data.
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("contrib/grafana-dashboard.json")).expect("dashboard"),
    )
    .expect("the dashboard is JSON");
    let exprs: Vec<String> = dash["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect();
    assert!(exprs.len() >= 8, "{exprs:?}");
    for e in &exprs {
        let q = e
            .replace("$__range", "5m")
            .replace("$__interval", "1m")
            .replace("$host", ".*")
            .replace("$service", ".*");
        let answer = query(prom, &q);
        assert_eq!(answer["status"], "success", "{q}: {answer}");
    }
    let up = query(prom, "selfheal_up");
    assert!(
        up["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{up}"
    );
}

/// One instant query through Prometheus's HTTP API.
fn query(port: u16, promql: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("prometheus");
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let body: String = promql
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let body = format!("query={body}");
    write!(
        s,
        "POST /api/v1/query HTTP/1.0\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let json = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {text}"))
}
