//! install.sh in a sandbox HOME, stdin closed, no TTY: dry run, install,
//! idempotence, uninstall — with systemd units (no user manager reachable
//! from the test) and with cron (a fake `crontab` on PATH).

use crate::common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn install(sb: &Sandbox, args: &[&str]) -> Run {
    let mut cmd = Command::new("bash");
    cmd.arg(format!("{}/install.sh", env!("CARGO_MANIFEST_DIR")))
        .args(["--binary", BIN, "--prefix"])
        .arg(sb.home.join(".local"))
        .args(args)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                sb.root.join("fakebin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", &sb.home)
        .env("TMPDIR", sb.root.join("tmp"))
        .stdin(std::process::Stdio::null());
    std::fs::create_dir_all(sb.root.join("tmp")).expect("tmp");
    run(cmd, LIMIT * 2)
}

/// Every file under HOME with its content and mode (mtime too: an
/// idempotent run rewrites nothing).
fn snapshot(home: &Path) -> BTreeMap<String, (Vec<u8>, u32, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).expect("meta");
            if meta.is_dir() {
                stack.push(p);
            } else {
                let key = p.strip_prefix(home).unwrap_or(&p).display().to_string();
                if key.starts_with("openclaw/memory") || key.starts_with("tmp") {
                    continue; // doctor's probe may log; not the installer's
                }
                out.insert(
                    key,
                    (
                        std::fs::read(&p).unwrap_or_default(),
                        meta.permissions().mode() & 0o777,
                        meta.modified().expect("mtime"),
                    ),
                );
            }
        }
    }
    out
}

#[test]
fn systemd_install_is_idempotent_and_uninstall_keeps_the_env_file() {
    let sb = Sandbox::new("install-systemd");
    let before = snapshot(&sb.home);
    let dry = install(&sb, &["--scheduler", "systemd", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.all());
    assert!(
        dry.stdout.contains("would write:") && dry.stdout.contains("selfheal.timer"),
        "{}",
        dry.stdout
    );
    assert_eq!(snapshot(&sb.home), before, "--dry-run changed something");

    let first = install(&sb, &["--scheduler", "systemd", "--interval", "120"]);
    assert_eq!(first.code, Some(0), "{}", first.all());
    let bin = sb.home.join(".local/bin/selfheal");
    assert!(bin.is_file());
    let env = sb.home.join(".openclaw/.env");
    assert_eq!(
        std::fs::metadata(&env).expect("env").permissions().mode() & 0o777,
        0o600
    );
    let unit_dir = sb.home.join(".config/systemd/user");
    let service = std::fs::read_to_string(unit_dir.join("selfheal.service")).expect("service");
    assert!(
        service.contains(&format!("ExecStart={} --quiet check", bin.display())),
        "{service}"
    );
    assert!(service.contains("TimeoutStartSec=infinity") && service.contains("Type=oneshot"));
    let timer = std::fs::read_to_string(unit_dir.join("selfheal.timer")).expect("timer");
    // Say it right 26.13: Persistent= does nothing for OnUnitActiveSec=
    // (systemd.timer(5)); OnBootSec= is what runs it after a boot.
    assert!(
        timer.contains("OnUnitActiveSec=120s")
            && timer.contains("OnBootSec=")
            && !timer
                .lines()
                .any(|l| l.trim_start().starts_with("Persistent=")),
        "{timer}"
    );
    assert!(
        first
            .stdout
            .contains("systemctl --user enable --now selfheal.timer"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("loginctl enable-linger"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("selfheal doctor"),
        "ends with doctor: {}",
        first.stdout
    );

    let installed = snapshot(&sb.home);
    let second = install(&sb, &["--scheduler", "systemd", "--interval", "120"]);
    assert_eq!(second.code, Some(0));
    assert_eq!(
        snapshot(&sb.home),
        installed,
        "a second run changed something:\n{}",
        second.stdout
    );
    assert!(second.stdout.contains("unchanged:"), "{}", second.stdout);

    std::fs::write(
        &env,
        "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/1/mine\n",
    )
    .expect("edit");
    let gone = install(&sb, &["--scheduler", "systemd", "--uninstall"]);
    assert_eq!(gone.code, Some(0), "{}", gone.all());
    assert!(
        !bin.exists()
            && !unit_dir.join("selfheal.timer").exists()
            && !unit_dir.join("selfheal.service").exists()
    );
    assert_eq!(
        std::fs::read_to_string(&env).ok().as_deref(),
        Some("DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/1/mine\n")
    );
    assert!(gone.stdout.contains("kept:"), "{}", gone.stdout);
    let tmp: Vec<_> = std::fs::read_dir(sb.root.join("tmp"))
        .expect("tmp")
        .flatten()
        .collect();
    assert!(tmp.is_empty(), "left in TMPDIR: {tmp:?}");
}

#[test]
fn an_existing_env_file_is_never_rewritten() {
    let sb = Sandbox::new("install-env");
    let env = sb.env_file("OPENAI_API_KEY=theirs\n");
    let r = install(&sb, &["--scheduler", "none"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(&env).ok().as_deref(),
        Some("OPENAI_API_KEY=theirs\n")
    );
}

#[test]
fn cron_line_installed_once_and_removed() {
    let sb = Sandbox::new("install-cron");
    let store = fake_crontab(&sb, "0 3 * * * /usr/bin/backup\n");
    for _ in 0..2 {
        let r = install(&sb, &["--scheduler", "cron"]);
        assert_eq!(r.code, Some(0), "{}", r.all());
    }
    let table = std::fs::read_to_string(&store).expect("table");
    assert_eq!(
        table.matches("--quiet check # selfheal").count(),
        1,
        "{table}"
    );
    // Every minute by default.
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("* * * * * ") && l.ends_with("check # selfheal"))
            && table.contains("/usr/bin/backup"),
        "{table}"
    );
    let r = install(&sb, &["--scheduler", "cron", "--uninstall"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let table = std::fs::read_to_string(&store).expect("table");
    assert_eq!(table, "0 3 * * * /usr/bin/backup\n");
}

#[test]
fn bad_options_are_refused() {
    let sb = Sandbox::new("install-bad");
    for args in [
        &["--interval", "10"][..],
        &["--scheduler", "rc.local"],
        &["--frobnicate"],
    ] {
        let r = install(&sb, args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.all());
    }
}

/// A release tarball like `make dist`'s, made from the test binary, with its
/// SHA256SUMS beside it.
fn release(sb: &Sandbox) -> std::path::PathBuf {
    require_tool("sha256sum", "apt-get install coreutils");
    let root = env!("CARGO_MANIFEST_DIR");
    let name = "selfheal-0.0.0-test";
    let dir = sb.root.join("dist").join(name);
    std::fs::create_dir_all(dir.join("contrib")).expect("dist dir");
    std::fs::copy(BIN, dir.join("selfheal")).expect("binary");
    for f in ["README.md", "install.sh"] {
        std::fs::copy(format!("{root}/{f}"), dir.join(f)).expect("file");
    }
    for e in std::fs::read_dir(format!("{root}/contrib"))
        .expect("contrib")
        .flatten()
    {
        std::fs::copy(e.path(), dir.join("contrib").join(e.file_name())).expect("contrib file");
    }
    let tarball = sb.root.join("dist").join(format!("{name}.tar.gz"));
    let ok = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(sb.root.join("dist"))
        .arg(name)
        .status()
        .expect("tar");
    assert!(ok.success());
    std::fs::remove_dir_all(&dir).expect("clean");
    let sums = Command::new("sha256sum")
        .arg(format!("{name}.tar.gz"))
        .current_dir(sb.root.join("dist"))
        .output()
        .expect("sha256sum");
    std::fs::write(sb.root.join("dist/SHA256SUMS"), sums.stdout).expect("sums");
    tarball
}

/// install.sh from a copy outside the source tree, with a PATH that has no
/// cargo: as a user without Rust runs it.
fn install_release(sb: &Sandbox, args: &[&str]) -> Run {
    let script = sb.root.join("install.sh");
    std::fs::copy(
        format!("{}/install.sh", env!("CARGO_MANIFEST_DIR")),
        &script,
    )
    .expect("copy");
    let bin = sb.root.join("nocargo");
    std::fs::create_dir_all(&bin).expect("bin");
    let tools = [
        "sh",
        "bash",
        "tar",
        "gzip",
        "sha256sum",
        "awk",
        "cut",
        "basename",
        "dirname",
        "find",
        "head",
        "mkdir",
        "mktemp",
        "cp",
        "chmod",
        "mv",
        "rm",
        "cmp",
        "sed",
        "uname",
        "id",
        "grep",
        "cat",
        "printf",
    ];
    for t in tools {
        if let Some(p) = std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .map(|d| Path::new(d).join(t))
            .find(|p| p.is_file())
        {
            let _ = std::os::unix::fs::symlink(p, bin.join(t));
        }
    }
    assert!(!bin.join("cargo").exists());
    let mut cmd = Command::new(bin.join("bash"));
    cmd.arg(&script)
        .args(["--prefix"])
        .arg(sb.home.join(".local"))
        .args(["--scheduler", "none"])
        .args(args)
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", &sb.home)
        .env("TMPDIR", sb.root.join("tmp"))
        .stdin(std::process::Stdio::null());
    std::fs::create_dir_all(sb.root.join("tmp")).expect("tmp");
    run(cmd, LIMIT * 2)
}

#[test]
fn a_release_tarball_installs_without_rust_after_its_checksum() {
    let sb = Sandbox::new("inst-from");
    let tarball = release(&sb);
    let from = tarball.display().to_string();
    let dry = install_release(&sb, &["--from", &from, "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.all());
    for needle in [
        "verified: selfheal-0.0.0-test.tar.gz",
        "would write: ",
        "/.local/bin/selfheal",
        ".openclaw/.env",
        "would run: ",
    ] {
        assert!(
            dry.stdout.contains(needle),
            "{needle} not in {}",
            dry.stdout
        );
    }
    assert!(
        !sb.home.join(".local/bin/selfheal").exists(),
        "the dry run installed"
    );
    let real = install_release(&sb, &["--from", &from]);
    assert_eq!(real.code, Some(0), "{}", real.all());
    let installed = sb.home.join(".local/bin/selfheal");
    assert_eq!(
        std::fs::read(&installed).expect("installed"),
        std::fs::read(BIN).expect("binary")
    );
}

#[test]
fn a_tampered_release_tarball_is_refused_and_nothing_installed() {
    let sb = Sandbox::new("inst-tamper");
    let tarball = release(&sb);
    let mut bytes = std::fs::read(&tarball).expect("read");
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    std::fs::write(&tarball, bytes).expect("tamper");
    let r = install_release(&sb, &["--from", &tarball.display().to_string()]);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.stderr.contains("does not match SHA256SUMS")
            && r.stderr.contains("nothing was installed"),
        "{}",
        r.stderr
    );
    assert!(!sb.home.join(".local").exists(), "something was installed");
    assert!(
        !sb.home.join(".openclaw").exists(),
        "something was installed"
    );
    std::fs::remove_file(sb.root.join("dist/SHA256SUMS")).expect("rm");
    let r = install_release(&sb, &["--from", &tarball.display().to_string()]);
    assert!(r.stderr.contains("no SHA256SUMS"), "{}", r.stderr);
}

#[test]
fn url_without_network_is_a_clear_error() {
    let sb = Sandbox::new("inst-url");
    // A loopback port nothing listens on: curl fails at once.
    let url = format!(
        "{}selfheal-0.2.0-x86_64-unknown-linux-musl.tar.gz",
        down_url()
    );
    let mut r = install_release(&sb, &["--url", &url]);
    if r.stderr.contains("needs curl") {
        return; // no curl on this machine: the message says so
    }
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("cannot download"), "{}", r.stderr);
    r.stdout.clear();
}

/// A fake `crontab` that keeps the table in `store`, in `sb`'s fakebin.
fn fake_crontab(sb: &Sandbox, table: &str) -> std::path::PathBuf {
    let fakebin = sb.root.join("fakebin");
    std::fs::create_dir_all(&fakebin).expect("fakebin");
    let store = sb.root.join("crontab.txt");
    std::fs::write(&store, table).expect("crontab");
    let fake = format!(
        "#!/bin/sh\ncase \"$1\" in\n  -l) cat '{0}' ;;\n  -) cat > '{0}' ;;\n  *) exit 1 ;;\nesac\n",
        store.display()
    );
    std::fs::write(fakebin.join("crontab"), fake).expect("fake");
    std::fs::set_permissions(
        fakebin.join("crontab"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    store
}

/// Uninstalling removes what was installed whichever scheduler the second
/// run would pick, and a dry run only says what it would remove.
#[test]
fn uninstall_removes_the_cron_line_whatever_scheduler_it_would_pick() {
    let sb = Sandbox::new("install-uncron");
    let store = fake_crontab(&sb, "0 3 * * * /usr/bin/backup\n");
    let r = install(&sb, &["--scheduler", "cron"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let bin = sb.home.join(".local/bin/selfheal");
    assert!(bin.exists());
    let dry = install(&sb, &["--uninstall", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.all());
    assert!(
        dry.stdout
            .contains("would remove: the selfheal line of the crontab")
            && !dry.stdout.contains("removed:"),
        "{}",
        dry.stdout
    );
    assert!(std::fs::read_to_string(&store)
        .unwrap_or_default()
        .contains("# selfheal"));
    let gone = install(&sb, &["--uninstall"]);
    assert_eq!(gone.code, Some(0), "{}", gone.all());
    assert_eq!(
        std::fs::read_to_string(&store).ok().as_deref(),
        Some("0 3 * * * /usr/bin/backup\n")
    );
    assert!(!bin.exists());
    assert!(!sb.home.join(".config/selfheal/installed").exists());
}

/// A build that fails stops the install with its last lines; an older
/// binary lying in target/ is not installed instead.
#[test]
fn a_failed_build_stops_the_install() {
    let sb = Sandbox::new("install-badbuild");
    let fakebin = sb.root.join("fakebin");
    std::fs::create_dir_all(&fakebin).expect("fakebin");
    std::fs::write(
        fakebin.join("cargo"),
        "#!/bin/sh\necho 'error[E0425]: cannot find value `boom`' >&2\nexit 101\n",
    )
    .expect("fake cargo");
    std::fs::set_permissions(
        fakebin.join("cargo"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let mut cmd = Command::new("bash");
    cmd.arg(format!("{}/install.sh", env!("CARGO_MANIFEST_DIR")))
        .args(["--build", "--scheduler", "none", "--prefix"])
        .arg(sb.home.join(".local"))
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                fakebin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", &sb.home)
        .env("TMPDIR", sb.root.join("tmp"));
    std::fs::create_dir_all(sb.root.join("tmp")).expect("tmp");
    let r = run(cmd, LIMIT * 2);
    assert_ne!(r.code, Some(0), "{}", r.all());
    assert!(r.stderr.contains("building selfheal"), "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot find value `boom`") && r.stderr.contains("build failed"),
        "{}",
        r.stderr
    );
    assert!(!sb.home.join(".local/bin/selfheal").exists());
}

/// `--scheduler cron` on a host without crontab(1) stops before writing
/// anything (only checkable where the machine has no crontab).
#[test]
fn cron_without_crontab_writes_nothing() {
    let has_crontab = Command::new("sh")
        .args(["-c", "command -v crontab"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_crontab {
        eprintln!("skipped: this machine has crontab(1)");
        return;
    }
    let sb = Sandbox::new("install-nocron");
    let r = install(&sb, &["--scheduler", "cron"]);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("no crontab"), "{}", r.stderr);
    assert!(!sb.home.join(".local").exists(), "something was written");
    assert!(!sb.home.join(".openclaw").exists(), "something was written");
}

/// With `--scheduler none`: a note when the binary is not on PATH, and a
/// doctor that does not send the user back to the installer.
#[test]
fn scheduler_none_is_remembered_and_path_is_checked() {
    let sb = Sandbox::new("install-none");
    let r = install(&sb, &["--scheduler", "none"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(r.stdout.contains("is not on your PATH"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("you chose `./install.sh --scheduler none`")
            && !r.stdout.contains("(it picks launchd"),
        "{}",
        r.stdout
    );
}

/// Say it right 26.8: from a clone where `make demo` already built the
/// binary from these sources, install.sh installs that binary instead of
/// building again; after a source file changes, it builds.
#[test]
fn a_binary_built_from_these_sources_is_installed_without_a_second_build() {
    let sb = Sandbox::new("install-reuse");
    // A clone: install.sh, its sources, and a release binary built after them.
    let clone = sb.root.join("clone");
    std::fs::create_dir_all(clone.join("src")).expect("src");
    std::fs::create_dir_all(clone.join("target/release")).expect("target");
    std::fs::copy(
        format!("{}/install.sh", env!("CARGO_MANIFEST_DIR")),
        clone.join("install.sh"),
    )
    .expect("install.sh");
    std::fs::create_dir_all(clone.join("contrib")).expect("contrib");
    std::fs::copy(
        format!(
            "{}/contrib/selfheal.env.example",
            env!("CARGO_MANIFEST_DIR")
        ),
        clone.join("contrib/selfheal.env.example"),
    )
    .expect("env example");
    for f in ["Cargo.toml", "Cargo.lock", "build.rs", "src/main.rs"] {
        std::fs::write(clone.join(f), "# sources\n").expect("source");
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::copy(BIN, clone.join("target/release/selfheal")).expect("binary");
    let fakebin = sb.root.join("fakebin");
    std::fs::create_dir_all(&fakebin).expect("fakebin");
    let built = sb.root.join("cargo-ran");
    std::fs::write(
        fakebin.join("cargo"),
        format!("#!/bin/sh\ntouch {}\nexit 101\n", built.display()),
    )
    .expect("fake cargo");
    std::fs::set_permissions(
        fakebin.join("cargo"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let install = || {
        let mut cmd = Command::new("bash");
        cmd.arg(clone.join("install.sh"))
            .args(["--scheduler", "none", "--prefix"])
            .arg(sb.home.join(".local"))
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    fakebin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", &sb.home)
            .env("TMPDIR", sb.root.join("tmp"));
        std::fs::create_dir_all(sb.root.join("tmp")).expect("tmp");
        run(cmd, LIMIT * 2)
    };
    let r = install();
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(
        r.stderr.contains("using ") && !built.exists(),
        "{}",
        r.stderr
    );
    assert!(sb.home.join(".local/bin/selfheal").exists());
    // A source changed since: it builds (and the fake cargo fails).
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(clone.join("src/main.rs"), "# changed\n").expect("edit");
    let r = install();
    assert_ne!(r.code, Some(0), "{}", r.all());
    assert!(built.exists(), "no build after a change: {}", r.stderr);
}

/// Say it right 26.12: `--scheduler launchd` where there is no launchctl
/// (here: Linux) stops before anything is written, as cron without crontab.
#[test]
fn launchd_without_launchctl_writes_nothing() {
    let has = Command::new("sh")
        .args(["-c", "command -v launchctl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has {
        eprintln!("skipped: this machine has launchctl");
        return;
    }
    let sb = Sandbox::new("install-nolaunchctl");
    let r = install(&sb, &["--scheduler", "launchd"]);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("no launchctl"), "{}", r.stderr);
    assert!(!sb.home.join(".local").exists(), "something was written");
    assert!(!sb.home.join(".openclaw").exists(), "something was written");
    assert!(!sb.home.join("Library").exists(), "a plist was written");
}

/// Say it right 26.11: the old scripts' schedulers are found and switched
/// off (files kept), never the gateway's own unit; `--dry-run` says so and
/// changes nothing; `--keep-old` leaves them; `--uninstall` says how to
/// switch them on again; doctor fails while one still runs.
#[test]
fn the_old_scripts_schedulers_are_switched_off_not_left_to_restart_the_gateway() {
    let sb = Sandbox::new("install-old-healers");
    let units = sb.home.join(".config/systemd/user");
    std::fs::create_dir_all(&units).expect("units");
    for unit in [
        "openclaw-watchdog.timer",
        "openclaw-watchdog.service",
        "openclaw-healthcheck.timer",
        "openclaw-healthcheck.service",
        "openclaw-gateway.service",
    ] {
        std::fs::write(units.join(unit), "[Unit]\n").expect("unit");
    }
    let old_line = "*/5 * * * * bash /home/u/.openclaw/skills/openclaw-self-healing/scripts/gateway-healthcheck.sh";
    let store = fake_crontab(&sb, &format!("0 3 * * * /usr/bin/backup\n{old_line}\n"));
    // A systemd that remembers what was disabled.
    let calls = sb.root.join("systemctl.log");
    let state = sb.root.join("systemctl-state");
    std::fs::create_dir_all(&state).expect("state");
    let fake = format!(
        "#!/bin/sh\necho \"$*\" >> '{log}'\nlast=$(eval echo \\${{$#}})\n\
         case \"$2\" in\n  disable) touch '{st}'/$last ;;\n  \
         is-active|is-enabled) [ -e '{st}'/$last ] && exit 3 ;;\nesac\nexit 0\n",
        log = calls.display(),
        st = state.display()
    );
    std::fs::write(sb.root.join("fakebin/systemctl"), fake).expect("fake systemctl");
    std::fs::set_permissions(
        sb.root.join("fakebin/systemctl"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let doctor = || {
        let mut cmd = sb.cmd(&["doctor"]);
        cmd.env(
            "PATH",
            format!(
                "{}:{}",
                sb.root.join("fakebin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
        run(cmd, LIMIT).stdout
    };
    assert!(doctor().contains("✗ old healers: the old openclaw-self-healing scripts still run"));

    let dry = install(&sb, &["--scheduler", "cron", "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.all());
    assert!(
        dry.stdout
            .contains("would disable the old scripts' systemd openclaw-watchdog.timer")
            && dry
                .stdout
                .contains("would disable the old scripts' crontab line(s)"),
        "{}",
        dry.stdout
    );
    assert!(
        units.join("openclaw-watchdog.timer").exists(),
        "a dry run changed it"
    );
    assert!(std::fs::read_to_string(&store)
        .unwrap_or_default()
        .contains(&format!("\n{old_line}")));

    let kept = install(&sb, &["--scheduler", "cron", "--keep-old"]);
    assert_eq!(kept.code, Some(0), "{}", kept.all());
    assert!(kept.stdout.contains("kept (--keep-old)"), "{}", kept.stdout);
    assert!(units.join("openclaw-watchdog.timer").exists());

    let r = install(&sb, &["--scheduler", "cron"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    for timer in ["openclaw-watchdog.timer", "openclaw-healthcheck.timer"] {
        assert!(!units.join(timer).exists(), "{timer} still there");
        assert!(units.join(format!("{timer}.disabled-by-selfheal")).exists());
    }
    assert!(
        units.join("openclaw-gateway.service").exists(),
        "the gateway's unit was touched"
    );
    let log = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(
        log.contains("--user disable --now openclaw-watchdog.timer"),
        "{log}"
    );
    assert!(
        !log.lines().any(|l| l.contains("openclaw-gateway")
            && ["disable", "stop", "mask"].iter().any(|w| l.contains(w))),
        "{log}"
    );
    let table = std::fs::read_to_string(&store).unwrap_or_default();
    assert!(
        table.contains(&format!("#selfheal-disabled# {old_line}")),
        "{table}"
    );
    assert!(table.contains("0 3 * * * /usr/bin/backup\n"), "{table}");
    assert!(!doctor().contains("old healers"), "doctor still sees them");

    let gone = install(&sb, &["--uninstall"]);
    assert_eq!(gone.code, Some(0), "{}", gone.all());
    assert!(
        gone.stdout
            .contains("openclaw-watchdog.timer is switched off; to use it again")
            && gone.stdout.contains("crontab line(s) are commented out"),
        "{}",
        gone.stdout
    );
}

/// Issue 25: several services get one scheduler entry for all (`check`
/// with no name), and no gateway env file that would add the default
/// service to a host that does not run it.
#[test]
fn several_services_get_one_timer_and_no_default_env_file() {
    let sb = Sandbox::new("install-services");
    let services = sb.home.join(".config/selfheal/services");
    std::fs::create_dir_all(&services).expect("mkdir");
    for name in ["ollama", "tunnel"] {
        std::fs::write(
            services.join(format!("{name}.env")),
            "OPENCLAW_GATEWAY_URL=http://127.0.0.1:1/\n",
        )
        .expect("write");
    }
    let r = install(&sb, &["--scheduler", "systemd"]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    assert!(!sb.home.join(".openclaw/.env").exists(), "{}", r.stdout);
    assert!(
        r.stdout.contains("one scheduler entry checks them all"),
        "{}",
        r.stdout
    );
    let unit_dir = sb.home.join(".config/systemd/user");
    let units: Vec<String> = std::fs::read_dir(&unit_dir)
        .expect("units")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".timer"))
        .collect();
    assert_eq!(units, ["selfheal.timer"]);
    let service = std::fs::read_to_string(unit_dir.join("selfheal.service")).expect("service");
    assert!(service.contains(" --quiet check\n"), "{service}");
}
