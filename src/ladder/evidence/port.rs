//! Who holds the service's port: /proc on Linux, `lsof` elsewhere.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use super::QUERY;
use crate::sys::process;

/// The TCP port of the URL (its default for the scheme).
pub fn port(url: &str) -> Option<u16> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        _ => Some(80),
    })
}

/// The pid of the process listening on `port`.
pub fn listener_pid(port: u16) -> Option<u32> {
    let (pid, _, _) = if cfg!(target_os = "linux") {
        linux_listener(port)?
    } else {
        lsof_listener(port)?
    };
    Some(pid)
}

/// Who listens on `port`: `port P is held by COMM (pid N): CMDLINE`.
pub fn port_owner(port: u16) -> Option<String> {
    let (pid, comm, cmdline) = if cfg!(target_os = "linux") {
        linux_listener(port)?
    } else {
        lsof_listener(port)?
    };
    let mut s = format!("port {port} is held by {comm} (pid {pid})");
    if !cmdline.is_empty() {
        s.push_str(&format!(": {cmdline}"));
    }
    Some(s)
}

/// /proc/net/tcp{,6} → the listening socket's inode → the process with it open.
fn linux_listener(port: u16) -> Option<(u32, String, String)> {
    let want = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = read_capped(Path::new(table), 1 << 20);
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address, state 0A = LISTEN, inode.
            if f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A" && f[9] != "0" {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let deadline = Instant::now() + QUERY;
    for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
        if Instant::now() > deadline {
            break;
        }
        let Some(pid) = proc_entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
        });
        if holds {
            let dir = proc_entry.path();
            let comm = read_capped(&dir.join("comm"), 256).trim().to_string();
            let cmdline = read_capped(&dir.join("cmdline"), 4096)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            return Some((pid, comm, cmdline));
        }
    }
    None
}

/// macOS and others: `lsof -nP -iTCP:PORT -sTCP:LISTEN`.
fn lsof_listener(port: u16) -> Option<(u32, String, String)> {
    let spec = format!("-iTCP:{port}");
    let (_, out) = process::output(&["lsof", "-nP", &spec, "-sTCP:LISTEN"], QUERY)?;
    let line = out.lines().nth(1)?;
    let mut f = line.split_whitespace();
    let comm = f.next()?.to_string();
    let pid = f.next()?.parse().ok()?;
    Some((pid, comm, String::new()))
}

fn read_capped(path: &Path, max: u64) -> String {
    let Ok(f) = std::fs::File::open(path) else {
        return String::new();
    };
    let mut bytes = Vec::new();
    let _ = f.take(max).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
