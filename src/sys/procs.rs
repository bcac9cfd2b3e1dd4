//! Processes as evidence: who a process is (its executable and command
//! line), how old it is, whether it is stopped, and which processes are of
//! one identity. Linux reads /proc; elsewhere one bounded `ps`.
//!
//! Read-only: nothing here signals a process.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::process;

/// What makes a process the service's: its executable and its command
/// line (for a Node or Python service the executable alone is everyone's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Identity {
    pub exe: String,
    pub cmdline: String,
}

impl Identity {
    /// `node …/openclaw.mjs gateway run` (the command line, capped).
    pub fn shown(&self) -> String {
        let text = if self.cmdline.is_empty() {
            &self.exe
        } else {
            &self.cmdline
        };
        text.chars().take(160).collect()
    }
}

/// One process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    /// When it started, as the system says (`process::start_stamp`).
    pub started: String,
    pub identity: Identity,
    /// How long it has been running.
    pub age: Duration,
    /// Stopped (SIGSTOP) or traced: it cannot answer.
    pub stopped: bool,
    /// Its parent (0 when unknown).
    pub ppid: u32,
}

impl Proc {
    /// Whether it is this process's own child or grandchild, … (a command
    /// selfheal runs, not a service that runs by itself).
    pub fn is_ours(&self) -> bool {
        let me = std::process::id();
        let mut at = self.ppid;
        for _ in 0..32 {
            if at == me {
                return true;
            }
            if at <= 1 {
                return false;
            }
            at = info(at).map_or(0, |p| p.ppid);
        }
        false
    }
}

/// Process `pid`, if it exists and can be read.
pub fn info(pid: u32) -> Option<Proc> {
    if cfg!(target_os = "linux") {
        return linux_info(pid);
    }
    ps(Some(pid)).into_iter().next()
}

/// Every process of `identity`: the same command line and executable.
pub fn matching(identity: &Identity) -> Vec<Proc> {
    if identity.cmdline.is_empty() {
        return Vec::new();
    }
    let exe_ok = |p: &Proc| {
        p.identity.exe.is_empty() || identity.exe.is_empty() || p.identity.exe == identity.exe
    };
    find(|c| c == identity.cmdline)
        .into_iter()
        .filter(exe_ok)
        .collect()
}

/// Every process whose command line `wanted` accepts (a service that sets
/// its own process title changes its command line while it starts).
pub fn find(wanted: impl Fn(&str) -> bool) -> Vec<Proc> {
    if cfg!(target_os = "linux") {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        return dir
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            // The command line first: one small read rules out nearly all.
            .filter(|&pid| cmdline(pid).is_some_and(|c| wanted(&c)))
            .filter_map(linux_info)
            .collect();
    }
    ps(None)
        .into_iter()
        .filter(|p| wanted(&p.identity.cmdline))
        .collect()
}

/// Whether process `pid` evidently runs for someone else: another user's
/// (when this one is not root), or a home of its own (`HOME` in its
/// environment, another than this process's) — a second instance of the
/// same program. Only positive evidence counts: unreadable or unknown (not
/// Linux) is `false`, so that a process of the service is never missed.
/// Its environment is read for `HOME` alone; nothing else of it is kept.
pub fn elsewhere(pid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    if !cfg!(target_os = "linux") {
        return false;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    match std::fs::metadata(format!("/proc/{pid}")) {
        Ok(m) if m.uid() != me && me != 0 => return true,
        Ok(_) => {}
        Err(_) => return false,
    }
    let Some(mine) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        return false;
    };
    let Ok(f) = std::fs::File::open(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let mut env = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::Read::take(f, 256 * 1024), &mut env);
    let theirs = env
        .split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(b"HOME="))
        .filter(|h| !h.is_empty());
    let trim = |h: &[u8]| -> Vec<u8> {
        let mut h = h.to_vec();
        while h.len() > 1 && h.last() == Some(&b'/') {
            h.pop();
        }
        h
    };
    theirs
        .is_some_and(|h| trim(h) != trim(std::os::unix::ffi::OsStrExt::as_bytes(mine.as_os_str())))
}

fn cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).trim().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    Some(words.join(" "))
}

fn linux_info(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces: 3 (state) on.
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let state = rest.first()?.chars().next()?;
    let ppid = rest.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let started = rest.get(19)?.to_string();
    let ticks: f64 = started.parse().ok()?;
    let hz = clock_ticks();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let age = (uptime - ticks / hz).max(0.0);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Some(Proc {
        pid,
        started,
        identity: Identity {
            exe,
            cmdline: cmdline(pid)?,
        },
        age: Duration::from_secs_f64(age),
        stopped: matches!(state, 'T' | 't'),
        ppid,
    })
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// `ps -o pid=,etime=,stat=,lstart=,args=` for one process or all (macOS and
/// other systems without /proc). `lstart` is five words.
fn ps(pid: Option<u32>) -> Vec<Proc> {
    let pid_arg = pid.map(|p| p.to_string());
    let mut argv = vec!["ps", "-o", "pid=,ppid=,etime=,stat=,lstart=,args="];
    match &pid_arg {
        Some(p) => argv.extend(["-p", p.as_str()]),
        None => argv.push("-ax"),
    }
    let Some((true, out)) = process::output(&argv, Duration::from_secs(2)) else {
        return Vec::new();
    };
    out.lines().filter_map(parse_ps).collect()
}

fn parse_ps(line: &str) -> Option<Proc> {
    let mut f = line.split_whitespace();
    let pid = f.next()?.parse().ok()?;
    let ppid = f.next()?.parse().ok()?;
    let age = etime(f.next()?)?;
    let stat = f.next()?;
    let started: Vec<&str> = f.by_ref().take(5).collect();
    let args: Vec<&str> = f.collect();
    Some(Proc {
        pid,
        started: started.join(" "),
        identity: Identity {
            exe: String::new(),
            cmdline: args.join(" "),
        },
        age,
        stopped: stat.starts_with('T'),
        ppid,
    })
}

/// `[[dd-]hh:]mm:ss` → a duration.
fn etime(text: &str) -> Option<Duration> {
    let (days, rest) = match text.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().ok()?, r),
        None => (0, text),
    };
    let parts: Vec<u64> = rest
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let secs = match parts.as_slice() {
        [m, s] => m * 60 + s,
        [h, m, s] => h * 3600 + m * 60 + s,
        _ => return None,
    };
    Some(Duration::from_secs(days * 86400 + secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_found_and_young() {
        let me = info(std::process::id()).expect("this process");
        assert!(!me.stopped);
        assert!(me.age < Duration::from_secs(3600), "{me:?}");
        let all = matching(&me.identity);
        assert!(all.iter().any(|p| p.pid == me.pid), "{all:?}");
        assert!(!me.is_ours());
    }

    #[test]
    fn ps_lines_and_elapsed_times() {
        assert_eq!(etime("05:07"), Some(Duration::from_secs(307)));
        assert_eq!(etime("1-02:00:01"), Some(Duration::from_secs(93601)));
        assert_eq!(etime("x"), None);
        let p =
            parse_ps("  42  1  01:02 Ss   Sun Dec  6 10:00:00 2026 node /x/openclaw.mjs gateway")
                .expect("a line");
        assert_eq!(p.pid, 42);
        assert_eq!(p.identity.cmdline, "node /x/openclaw.mjs gateway");
        assert_eq!(p.age, Duration::from_secs(62));
        assert!(parse_ps("garbage").is_none());
    }
}
