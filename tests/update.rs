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
                // Refuses a config that says `bad`, as a gateway refuses an
                // unknown key (the config is PREFIX/standin.conf).
                format!(
                    "#!/bin/sh\nconf=\"$(dirname \"$0\")/../standin.conf\"\n\
                     if grep -q bad \"$conf\" 2>/dev/null; then echo \"standin: bad config\" >&2; exit 1; fi\n\
                     exec {} \"$@\"\n",
                    fixture("slow-service.py")
                ),
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
        std::fs::write(s.conf(), "port ok\n").expect("conf");
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
        run(self.cmd(args), LIMIT)
    }

    /// selfheal for the stand-in: its URL, restart, install and config.
    fn cmd(&self, args: &[&str]) -> std::process::Command {
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
        .env("SELFHEAL_WEBHOOK_URL", self.sink.url("/hook"))
        .env("SELFHEAL_WATCH_FILES", self.conf());
        cmd
    }

    fn conf(&self) -> PathBuf {
        self.prefix.join("standin.conf")
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

    // The person paged runs `why` first: it says what changed, and
    // writes nothing beside a check (no output file of its own is left).
    let r = s.check(&["why"]);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(
        r.stdout.contains("updated standin from 1.0.0 to 2.0.0 at"),
        "{}",
        r.stdout
    );
    let left: Vec<_> = std::fs::read_dir(s.sb.memory())
        .expect("memory dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".command-output."))
        .collect();
    assert!(left.is_empty(), "{left:?}");

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

#[test]
fn guard_passes_a_good_change_and_undoes_a_bad_edit_or_update() {
    let s = Standin::new("guard");
    s.start();
    assert_eq!(s.check(&["check"]).code, Some(0));
    let conf = s.conf().display().to_string();
    let guard_sh = |script: &str| s.check(&["guard", "--for", "2s", "--", "sh", "-c", script]);

    // A good edit: kept, and now the last working version.
    let r = guard_sh(&format!("echo 'more ok' >> {conf}"));
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.sb.log());
    assert!(r.stdout.contains("guard: passed"), "{}", r.all());
    assert!(std::fs::read_to_string(s.conf())
        .unwrap_or_default()
        .contains("more ok"));
    let kept = s.check(&["rollback", "--list"]);
    assert!(kept.stdout.contains("standin.conf"), "{}", kept.all());

    // A bad edit: the service cannot start with it; put back, the edit
    // moved aside, healthy again, a warning.
    let r = guard_sh(&format!("echo bad >> {conf}"));
    let log = s.sb.log();
    assert_eq!(r.code, Some(1), "{}\n{log}", r.all());
    assert!(
        r.stdout
            .contains("guard: the change failed probation (not healthy within"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("standin.conf put back (the changed version is at"),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("healthy again"), "{}", r.all());
    let now = std::fs::read_to_string(s.conf()).unwrap_or_default();
    assert!(now.contains("more ok") && !now.contains("bad"), "{now}");
    let aside: Vec<_> = std::fs::read_dir(&s.prefix)
        .expect("prefix")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("standin.conf.selfheal-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "the user's edit is kept aside");
    assert!(std::fs::read_to_string(aside[0].path())
        .unwrap_or_default()
        .contains("bad"));
    let said: Vec<String> = s.sink.received().iter().map(|q| q.text()).collect();
    assert!(
        said.iter()
            .any(|t| t.contains("guard_undone") || t.contains("failed its probation")),
        "{said:?}"
    );

    // A bad update: 2.0.0 cannot start; 1.0.0 is reinstalled.
    let r = s.check(&[
        "guard",
        "--for",
        "2s",
        "--",
        &fixture("standin-reinstall.sh"),
        &s.store.display().to_string(),
        &s.prefix.display().to_string(),
        "standin",
        "2.0.0",
    ]);
    assert_eq!(r.code, Some(1), "{}\n{}", r.all(), s.sb.log());
    assert!(
        r.stdout.contains("standin 1.0.0 reinstalled"),
        "{}",
        r.all()
    );
    let pkg = std::fs::read_to_string(s.prefix.join("lib/node_modules/standin/package.json"))
        .expect("package.json");
    assert!(pkg.contains("1.0.0"), "{pkg}");
    assert_eq!(s.check(&["check"]).code, Some(0));
}

#[test]
fn guard_is_bounded_and_its_dry_run_changes_nothing() {
    let s = Standin::new("guard-bounds");
    s.start();
    assert_eq!(s.check(&["check"]).code, Some(0));
    let marker = s.sb.root.join("ran");
    let r = s.check(&[
        "--dry-run",
        "guard",
        "--",
        "touch",
        &marker.display().to_string(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains("would run touch"), "{}", r.all());
    assert!(!marker.exists(), "a dry run ran the command");
    // A command that hangs is killed at --timeout; the rest goes on.
    let started = std::time::Instant::now();
    let r = s.check(&[
        "guard",
        "--timeout",
        "1s",
        "--for",
        "1s",
        "--",
        "sleep",
        "60",
    ]);
    assert_eq!(r.code, Some(0), "{}\n{}", r.all(), s.sb.log());
    assert!(s.sb.log().contains("killed at --timeout"), "{}", s.sb.log());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // No command: a usage error.
    let r = s.check(&["guard"]);
    assert_eq!(r.code, Some(2), "{}", r.all());
}

#[test]
fn ctrl_c_during_probation_undoes_nothing_and_says_what_it_would_have() {
    let s = Standin::new("guard-ctrl-c");
    s.start();
    assert_eq!(s.check(&["check"]).code, Some(0));
    let conf = s.conf().display().to_string();
    let mut cmd = s.cmd(&[
        "guard",
        "--for",
        "60s",
        "--",
        "sh",
        "-c",
        &format!("echo 'tuned' >> {conf}"),
    ]);
    cmd.stdout(std::process::Stdio::piped());
    let child = cmd.spawn().expect("guard");
    assert!(
        wait_for(Duration::from_secs(30), || s
            .sb
            .log()
            .contains("on probation")),
        "{}",
        s.sb.log()
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{text}\n{}", s.sb.log());
    assert!(
        text.contains("interrupted during probation: nothing was undone, the change stays")
            && text.contains("would have undone: put"),
        "{text}"
    );
    assert!(std::fs::read_to_string(s.conf())
        .unwrap_or_default()
        .contains("tuned"));
}
