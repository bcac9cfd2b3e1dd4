//! Several services from one install (issue 25.1): one env file each in
//! `~/.config/selfheal/services/`, shared keys in `common.env`, each with
//! its own tool directory; `check` runs them side by side so that a service
//! being healed never delays another's probe, and a bad file stops only its
//! own service.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn write_private(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// Kills the service the healing restart started.
struct Started(PathBuf);

impl Drop for Started {
    fn drop(&mut self) {
        for pid in read_pids(&self.0) {
            kill(pid);
        }
    }
}

#[test]
fn several_services_are_checked_side_by_side_and_a_bad_file_stops_only_its_own() {
    let sb = Sandbox::new("services");
    let (a, b) = (
        Server::start(Behaviour::Reply(200, "ok".into())),
        Server::start(Behaviour::Reply(200, "ok".into())),
    );
    let sink = Sink::start(vec![Answer::ok()]);
    let dir = sb.home.join(".config/selfheal");
    let textfiles = sb.root.join("textfile");
    std::fs::create_dir_all(&textfiles).expect("mkdir");
    // Shared: the alert channel and the textfile (each service gets its own).
    write_private(
        &dir.join("common.env"),
        &format!(
            "SELFHEAL_WEBHOOK_URL={}\nSELFHEAL_PROM_FILE={}\nHEALTH_CHECK_HTTP_TIMEOUT=2\n\
             HEALTH_CHECK_ESCALATION_WAIT=0\nSELFHEAL_POLL_INTERVAL=0.2\nSELFHEAL_AGENT_CMD=\n\
             SELFHEAL_AGENT_CHECK_INTERVAL=0\n",
            sink.url("/hook"),
            textfiles.join("selfheal.prom").display()
        ),
    );
    write_private(
        &dir.join("services/alpha.env"),
        &format!(
            "OPENCLAW_GATEWAY_URL={}\nSELFHEAL_RESTART_CMD=false\n",
            a.url()
        ),
    );
    write_private(
        &dir.join("services/beta.env"),
        &format!(
            "OPENCLAW_GATEWAY_URL={}\nSELFHEAL_RESTART_CMD=false\n",
            b.url()
        ),
    );
    // Down until its restart (which takes its time) starts it.
    let port = free_port();
    let pidfile = sb.root.join("able.pid");
    let _started = Started(pidfile.clone());
    write_private(
        &dir.join("services/able.env"),
        &format!(
            "OPENCLAW_GATEWAY_URL=http://127.0.0.1:{port}/\nSELFHEAL_SERVICE=generic\n\
             SELFHEAL_RESTART_CMD=sh -c 'sleep 3; {} {port} 0 {} >/dev/null 2>&1 &'\n\
             HEALTH_CHECK_MAX_RETRIES=1\nHEALTH_CHECK_RETRY_DELAY=20\n",
            fixture("slow-service.py"),
            pidfile.display()
        ),
    );
    // Bad input: only this service cannot run.
    write_private(
        &dir.join("services/delta.env"),
        "OPENCLAW_GATEWAY_URL=http://127.0.0.1:1/\nHEALTH_CHECK_MAX_RETRIES=lots\n",
    );

    let r = run(sb.cmd(&["check"]), LIMIT);
    // The worst of the four: delta could not run (2).
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.stderr.contains("delta (exit 2)"),
        "the error names the service: {}",
        r.all()
    );
    // Each in its own directory, with its own log and state.
    let mem = sb.memory();
    for (name, says) in [
        ("alpha", "healthy"),
        ("beta", "healthy"),
        ("able", "recovered by restart"),
    ] {
        let log = std::fs::read_to_string(newest_log(&mem.join(name))).unwrap_or_default();
        assert!(log.contains(says), "{name}: {log}");
    }
    // Side by side: the healthy ones said so while able (first by name)
    // was still being healed (its restart alone takes 3 s).
    let pos = |name: &str| {
        r.stdout
            .find(&format!("{name}: "))
            .unwrap_or_else(|| panic!("no {name} in {}", r.stdout))
    };
    assert!(
        pos("alpha") < pos("able") && pos("beta") < pos("able"),
        "{}",
        r.stdout
    );
    // delta's cannot-run alert went out through the shared channel; able's
    // incident too, each naming its service's URL.
    let bodies: Vec<String> = sink.received().iter().map(|q| q.text()).collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("HEALTH_CHECK_MAX_RETRIES")),
        "{bodies:?}"
    );
    assert!(
        bodies.iter().any(|b| b.contains(&port.to_string())),
        "{bodies:?}"
    );
    // One textfile per service, each labelled with its name.
    for name in ["alpha", "beta", "able"] {
        let text = std::fs::read_to_string(textfiles.join(format!("selfheal-{name}.prom")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(&format!("service=\"{name}\"")), "{text}");
    }

    // Nothing in TMPDIR, nothing left of the children's output.
    let left: Vec<_> = std::fs::read_dir(sb.home.join("tmp"))
        .expect("tmp")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    for name in ["alpha", "beta", "able", "delta"] {
        let kept: Vec<_> = std::fs::read_dir(mem.join(name))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(
            !kept
                .iter()
                .any(|n| n.to_string_lossy().starts_with(".check-output")),
            "{name}: {kept:?}"
        );
    }

    // One service by its name; the others are not touched.
    let before = std::fs::read_to_string(newest_log(&mem.join("alpha"))).unwrap_or_default();
    let r = run(sb.cmd(&["check", "beta"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let after = std::fs::read_to_string(newest_log(&mem.join("alpha"))).unwrap_or_default();
    assert_eq!(before, after, "alpha was checked too");
    let r = run(sb.cmd(&["check", "nosuch"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("able, alpha, beta, delta"), "{}", r.all());

    // status shows each under its heading; doctor names delta's problem
    // and still checks the others.
    let r = run(sb.cmd(&["status"]), LIMIT);
    for name in ["alpha", "beta", "able", "delta"] {
        assert!(r.stdout.contains(&format!("== {name} ==")), "{}", r.stdout);
    }
    assert!(
        !r.stdout.contains("== openclaw =="),
        "no default service here: {}",
        r.stdout
    );
    let r = run(sb.cmd(&["doctor"]), LIMIT);
    assert!(r.stdout.contains("HEALTH_CHECK_MAX_RETRIES"), "{}", r.all());
    assert!(r.stdout.contains(&a.url()), "{}", r.stdout);
    // A command that changes one service needs its name.
    let r = run(sb.cmd(&["reset"]), LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("name one"), "{}", r.all());
    let r = run(sb.cmd(&["--service", "able", "why"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
}

#[test]
fn the_default_service_stays_when_it_has_its_env_file() {
    let sb = Sandbox::new("services-default");
    let srv = Server::start(Behaviour::Reply(200, "ok".into()));
    let other = Server::start(Behaviour::Reply(200, "ok".into()));
    write_private(
        &sb.home.join(".openclaw/.env"),
        &format!("OPENCLAW_GATEWAY_URL={}\n", srv.url()),
    );
    write_private(
        &sb.home.join(".config/selfheal/services/ollama.env"),
        &format!("OPENCLAW_GATEWAY_URL={}\n", other.url()),
    );
    let r = run(sb.cmd(&["check"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    // The default service keeps its directory; the other has its own.
    assert!(newest_log(&sb.memory()).exists(), "{}", r.all());
    assert!(
        newest_log(&sb.memory().join("ollama")).exists(),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains("openclaw: ") && r.stdout.contains("ollama: "),
        "{}",
        r.stdout
    );
    let r = run(sb.cmd(&["status", "openclaw"]), LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains(&srv.url()), "{}", r.stdout);
}

fn newest_log(dir: &Path) -> PathBuf {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    logs.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("healthcheck-") && n.ends_with(".log"))
    });
    logs.sort();
    logs.pop().unwrap_or_else(|| dir.join("no-log"))
}

/// A check of several services that is told to stop stops them all: no
/// child (nor the restart it runs) outlives it.
#[test]
fn sigterm_to_a_check_of_several_ends_every_child() {
    let sb = Sandbox::new("services-term");
    let dir = sb.home.join(".config/selfheal/services");
    let marker = sb.root.join("restarting");
    for name in ["one", "two"] {
        write_private(
            &dir.join(format!("{name}.env")),
            &format!(
                "OPENCLAW_GATEWAY_URL={}\nSELFHEAL_SERVICE=generic\nHEALTH_CHECK_HTTP_TIMEOUT=1\n\
                 SELFHEAL_RESTART_CMD=sh -c 'touch {m}-{name}; sleep 60'\nSELFHEAL_AGENT_CMD=\n\
                 HEALTH_CHECK_MAX_RETRIES=1\nSELFHEAL_RESTART_TIMEOUT=120\n",
                sb.down,
                m = marker.display()
            ),
        );
    }
    let mut child = sb.cmd(&["check"]).spawn().expect("spawn");
    let both = wait_for(std::time::Duration::from_secs(30), || {
        ["one", "two"]
            .iter()
            .all(|n| PathBuf::from(format!("{}-{n}", marker.display())).exists())
    });
    assert!(both, "the restarts did not start");
    let started = std::time::Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().expect("wait");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(143), "{status:?}");
    // Nothing of theirs is left: no process names this sandbox.
    let root = sb.root.display().to_string();
    let gone = wait_for(std::time::Duration::from_secs(5), || {
        !std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&root))
                    .unwrap_or(false)
            })
    });
    assert!(gone, "a child or its restart is still running");
}
