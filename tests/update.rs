//! The last working install (issue 23) with a stand-in service whose
//! install is a versioned npm-style directory (`PREFIX/lib/node_modules/
//! standin` with its `package.json`, `PREFIX/bin/standin` a link into it):
//! an update that fails at start is reinstalled and healed; an executable
//! removed by a half-finished update is reinstalled; a version on disk
//! that has not run healthy is never recorded as working.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Standin {
    sb: Sandbox,
    store: PathBuf,
    prefix: PathBuf,
    pidfile: PathBuf,
    port: u16,
    sink: Sink,
}

impl Drop for Standin {
    fn drop(&mut self) {
        for pid in read_pids(&self.pidfile) {
            kill(pid);
        }
    }
}

impl Standin {
    fn new(name: &str) -> Standin {
        let sb = Sandbox::new(name);
        let store = sb.root.join("store");
        for (version, script) in [
            (
                "1.0.0",
                format!("#!/bin/sh\nexec {} \"$@\"\n", fixture("slow-service.py")),
            ),
            (
                "2.0.0",
                "#!/bin/sh\necho \"standin 2.0.0: unknown option in its config\" >&2\nexit 1\n"
                    .to_string(),
            ),
        ] {
            let dir = store.join(version);
            std::fs::create_dir_all(&dir).expect("store");
            std::fs::write(
                dir.join("package.json"),
                format!("{{\"name\":\"standin\",\"version\":\"{version}\"}}\n"),
            )
            .expect("package.json");
            let exe = dir.join("standin.sh");
            std::fs::write(&exe, script).expect("script");
            chmod_x(&exe);
        }
        let s = Standin {
            prefix: sb.root.join("prefix"),
            pidfile: sb.root.join("standin.pid"),
            port: free_port(),
            sink: Sink::start(vec![Answer::ok()]),
            store,
            sb,
        };
        s.install("1.0.0");
        s
    }

    fn install(&self, version: &str) {
        let ok = std::process::Command::new(fixture("standin-reinstall.sh"))
            .args([
                self.store.display().to_string(),
                self.prefix.display().to_string(),
                "standin".into(),
                version.into(),
            ])
            .output()
            .expect("install");
        assert!(ok.status.success(), "{ok:?}");
    }

    fn restart_cmd(&self) -> String {
        format!(
            "{} {} {} {}",
            fixture("standin-restart.sh"),
            self.prefix.display(),
            self.port,
            self.pidfile.display()
        )
    }

    fn start(&self) {
        let ok = std::process::Command::new("sh")
            .args(["-c", &self.restart_cmd()])
            .status()
            .expect("start");
        assert!(ok.success());
        assert!(
            wait_for(Duration::from_secs(20), || std::net::TcpStream::connect((
                "127.0.0.1",
                self.port
            ))
            .is_ok()),
            "the stand-in did not start"
        );
    }

    fn check(&self, args: &[&str]) -> Run {
        let mut cmd = self.sb.cmd(args);
        cmd.env(
            "OPENCLAW_GATEWAY_URL",
            format!("http://127.0.0.1:{}/", self.port),
        )
        .env("SELFHEAL_SERVICE", "generic")
        .env("SELFHEAL_RESTART_CMD", self.restart_cmd())
        .env("SELFHEAL_INSTALL_BIN", self.prefix.join("bin/standin"))
        .env(
            "SELFHEAL_REINSTALL_CMD",
            format!(
                "{} {} {{prefix}} {{package}} {{version}}",
                fixture("standin-reinstall.sh"),
                self.store.display()
            ),
        )
        .env("HEALTH_CHECK_HTTP_TIMEOUT", "2")
        .env("HEALTH_CHECK_MAX_RETRIES", "1")
        .env("HEALTH_CHECK_RETRY_DELAY", "8")
        .env("HEALTH_CHECK_ESCALATION_WAIT", "0")
        .env("SELFHEAL_POLL_INTERVAL", "0.2")
        .env("SELFHEAL_AGENT_CMD", "")
        .env("SELFHEAL_WEBHOOK_URL", self.sink.url("/hook"));
        run(cmd, LIMIT)
    }

    fn state(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.sb.memory().join(".selfheal-state.json"))
            .unwrap_or_default();
        serde_json::from_str(&text).unwrap_or_default()
    }

    fn working(&self) -> Vec<String> {
        self.state()["install"]["working"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|w| w["identity"]["version"].as_str().map(str::to_string))
            .collect()
    }
}

fn chmod_x(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn an_update_that_fails_at_start_is_reinstalled_and_healed() {
    let s = Standin::new("update-fails");
    s.start();
    let r = s.check(&["check"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(s.working(), ["1.0.0"], "{}", s.sb.log());

    // The update: 2.0.0 on disk, restarted, and it cannot start.
    std::thread::sleep(Duration::from_millis(1100));
    s.install("2.0.0");
    let _ = std::process::Command::new("sh")
        .args(["-c", &s.restart_cmd()])
        .status();
    assert!(wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err()
    }));

    let r = s.check(&["check"]);
    let log = s.sb.log();
    assert_eq!(r.code, Some(0), "{}\n{log}", r.all());
    assert!(
        log.contains("updated standin from 1.0.0 to 2.0.0 at"),
        "{log}"
    );
    assert!(
        log.contains(
            "reinstalling standin 1.0.0, the last version that worked (2.0.0 failed to start)"
        ),
        "{log}"
    );
    assert!(
        log.contains("recovered by reinstalling standin 1.0.0"),
        "{log}"
    );
    // The page says what was put back and why.
    let said: Vec<String> = s.sink.received().iter().map(|q| q.text()).collect();
    assert!(
        said.iter().any(|t| t.contains(
            "Reinstalled standin 1.0.0, the last version that worked; 2.0.0 failed to start"
        )),
        "{said:?}"
    );
    assert!(s
        .sb
        .metric_pairs()
        .contains(&("reinstall".into(), "success".into())));
    let pkg = std::fs::read_to_string(s.prefix.join("lib/node_modules/standin/package.json"))
        .expect("package.json");
    assert!(pkg.contains("1.0.0"), "{pkg}");
    assert_eq!(s.state()["install"]["failed"][0], "2.0.0");

    // Healthy again: 1.0.0 stays the working one; doctor says so.
    let r = s.check(&["check"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(s.working(), ["1.0.0"]);
    let r = s.check(&["doctor"]);
    assert!(
        r.stdout.contains("last working install: standin 1.0.0"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("standin-reinstall.sh"), "{}", r.stdout);
}

#[test]
fn an_executable_removed_by_a_half_finished_update_is_reinstalled() {
    let s = Standin::new("update-gone");
    s.start();
    assert_eq!(s.check(&["check"]).code, Some(0));
    assert_eq!(s.working(), ["1.0.0"]);
    // A crash, and an `npm i -g` that stopped halfway: nothing left.
    for pid in read_pids(&s.pidfile) {
        kill(pid);
    }
    std::fs::remove_dir_all(s.prefix.join("lib/node_modules/standin")).expect("rm");
    std::fs::remove_file(s.prefix.join("bin/standin")).expect("rm");
    let r = s.check(&["--dry-run", "check"]);
    assert!(
        r.stdout.contains("would reinstall standin 1.0.0 with"),
        "{}",
        r.all()
    );
    let r = s.check(&["check"]);
    let log = s.sb.log();
    assert_eq!(r.code, Some(0), "{}\n{log}", r.all());
    assert!(
        log.contains("standin is gone") || log.contains("bin/standin is gone"),
        "{log}"
    );
    assert!(
        log.contains("recovered by reinstalling standin 1.0.0"),
        "{log}"
    );
    assert!(s.prefix.join("bin/standin").exists());
}

#[test]
fn a_version_on_disk_that_has_not_run_healthy_is_never_the_working_one() {
    let s = Standin::new("update-pending");
    s.start();
    assert_eq!(s.check(&["check"]).code, Some(0));
    assert_eq!(s.working(), ["1.0.0"]);
    // 2.0.0 installed under the running 1.0.0 (not restarted yet): healthy
    // checks see it on disk but it has not run.
    std::thread::sleep(Duration::from_millis(1100));
    s.install("2.0.0");
    for _ in 0..2 {
        assert_eq!(s.check(&["check"]).code, Some(0));
    }
    assert_eq!(s.working(), ["1.0.0"], "{}", s.sb.log());
    assert_eq!(
        s.state()["install"]["current"]["version"],
        "2.0.0",
        "what is on disk is known"
    );
    // SELFHEAL_REINSTALL=off: an update that fails is paged, not undone.
    let _ = std::process::Command::new("sh")
        .args(["-c", &s.restart_cmd()])
        .status();
    assert!(wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err()
    }));
    let r = s.check(&["--set", "SELFHEAL_REINSTALL=off", "check"]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    let log = s.sb.log();
    assert!(log.contains("updated standin from 1.0.0 to 2.0.0"), "{log}");
    assert!(!log.contains("reinstalling"), "{log}");
}
