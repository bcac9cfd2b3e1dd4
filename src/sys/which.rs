//! Where programs are found: the agent, its fallback and tmux (and, for
//! `doctor`, the restart command). A scheduler's PATH is short, and the
//! agent CLIs install into places it lacks, so the usual install places are
//! searched after PATH. Written once, shared by level 3 and `doctor`.

use std::path::{Path, PathBuf};

/// The places searched after PATH, as a user reads them.
pub const SEARCHED: &str =
    "PATH, /opt/homebrew/bin, /usr/local/bin, ~/.local/bin, ~/.npm-global/bin, ~/.claude/local";

/// The usual install places of Homebrew, npm, pipx and Claude Code's own
/// installer, then the system's.
pub fn extra_dirs(home: &Path) -> Vec<PathBuf> {
    vec![
        PathBuf::from("/opt/homebrew/bin"),
        PathBuf::from("/usr/local/bin"),
        home.join(".local/bin"),
        home.join(".npm-global/bin"),
        home.join(".claude/local"),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ]
}

/// `name` as an absolute path: itself if it has a slash, else the first
/// executable of that name on PATH or in the usual install places.
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    let home = PathBuf::from(std::env::var("HOME").unwrap_or_default());
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .chain(extra_dirs(&home))
        .map(|d| d.join(name))
        .find(|p| executable(p))
}

/// The agent's PATH: the caller's, then the usual install places.
pub fn agent_path(home: &Path) -> String {
    let mut path: Vec<String> = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    for extra in extra_dirs(home) {
        let extra = extra.display().to_string();
        if !path.contains(&extra) {
            path.push(extra);
        }
    }
    path.join(":")
}
