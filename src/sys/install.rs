//! What is installed: the service's executable, resolved through its links,
//! the package it belongs to (an npm package: the `package.json` above it)
//! and that package's version, and where it was installed from (`prefix`,
//! and whether npm installed it globally there). Reads the file system
//! only: a `stat` of the executable and of `package.json` per call, the
//! small `package.json` itself only when asked.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `package.json` is small; anything larger is not one.
const PACKAGE_MAX: u64 = 256 << 10;

/// How npm laid the package out under `prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `npm install -g --prefix P`: `P/lib/node_modules/NAME`, `P/bin/NAME`.
    #[default]
    Global,
    /// `npm install --prefix P`: `P/node_modules/NAME`, `P/node_modules/.bin`.
    Local,
    /// Not an npm package: only `SELFHEAL_VERSION_CMD` knows its version.
    Other,
}

/// The install as last seen, and the ones that worked.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct InstallState {
    /// `sys::install::stamp` when last looked at.
    pub stamp: String,
    /// What was installed then.
    pub current: Option<Identity>,
    /// When the install on disk last changed, as its files say (unix
    /// seconds, with their fraction).
    pub changed_at: Option<f64>,
    /// Installs that ran healthy, newest first.
    pub working: Vec<Working>,
    /// Versions reinstalled away from: not working until they run healthy.
    pub failed: Vec<String>,
}

/// An install that ran healthy, and when it was last seen so.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Working {
    pub identity: Identity,
    pub seen: i64,
}

/// One install of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Identity {
    /// The executable as the restart command names it (a link, often).
    pub bin: PathBuf,
    /// The package's name (`openclaw`), empty when unknown.
    pub package: String,
    pub version: String,
    /// Where it was installed: npm's `--prefix`.
    pub prefix: PathBuf,
    pub layout: Layout,
}

impl Identity {
    /// `openclaw 2026.9.6`.
    pub fn name(&self) -> String {
        match (self.package.is_empty(), self.version.is_empty()) {
            (false, false) => format!("{} {}", self.package, self.version),
            (false, true) => self.package.clone(),
            (true, false) => format!("{} {}", self.bin.display(), self.version),
            (true, true) => self.bin.display().to_string(),
        }
    }
}

/// The install's stat: the executable (through its links) and its
/// `package.json`; it changes when an update replaces either, and is
/// `missing` when the executable is gone.
pub fn stamp(bin: &Path) -> String {
    let Ok(exe) = std::fs::metadata(bin) else {
        return "missing".into();
    };
    let package = std::fs::canonicalize(bin)
        .ok()
        .and_then(|real| package_dir(&real))
        .and_then(|dir| std::fs::metadata(dir.join("package.json")).ok());
    let one = |m: &std::fs::Metadata| {
        format!(
            "{}:{}:{}:{}.{}",
            m.dev(),
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec()
        )
    };
    match package {
        Some(p) => format!("{}/{}", one(&exe), one(&p)),
        None => one(&exe),
    }
}

/// When the install last changed, as its files say (the newest of the
/// executable's and `package.json`'s change times, to the nanosecond: a
/// process started a moment later must be told from one started before);
/// `None` when gone.
pub fn changed_at(bin: &Path) -> Option<f64> {
    let exe = std::fs::metadata(bin).ok()?;
    let package = std::fs::canonicalize(bin)
        .ok()
        .and_then(|real| package_dir(&real))
        .and_then(|dir| std::fs::metadata(dir.join("package.json")).ok());
    let at = |m: &std::fs::Metadata| {
        let c = m.ctime() as f64 + m.ctime_nsec() as f64 / 1e9;
        let w = m.mtime() as f64 + m.mtime_nsec() as f64 / 1e9;
        c.max(w)
    };
    Some(package.map_or(at(&exe), |p| at(&p).max(at(&exe))))
}

/// The directory of the npm package a file belongs to: the nearest
/// `package.json` above it with a name, at most four levels up, inside a
/// `node_modules`.
fn package_dir(real: &Path) -> Option<PathBuf> {
    real.ancestors()
        .skip(1)
        .take(4)
        .find(|d| {
            d.join("package.json").is_file()
                && d.parent().is_some_and(|p| {
                    p.ends_with("node_modules")
                        || p.parent().is_some_and(|pp| pp.ends_with("node_modules"))
                })
        })
        .map(Path::to_path_buf)
}

/// What is installed at `bin` now; `None` when it is gone.
pub fn read(bin: &Path) -> Option<Identity> {
    let real = std::fs::canonicalize(bin).ok()?;
    let Some(dir) = package_dir(&real) else {
        return Some(Identity {
            bin: bin.to_path_buf(),
            layout: Layout::Other,
            ..Identity::default()
        });
    };
    let text = crate::sys::files::read_foreign(
        &dir.join("package.json"),
        crate::sys::files::Links::Follow,
        PACKAGE_MAX,
    )
    .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let field = |k: &str| {
        v[k].as_str()
            .filter(|s| s.len() <= 214 && !s.contains(char::is_control))
            .unwrap_or("")
            .to_string()
    };
    // `@scope/name` lives in `node_modules/@scope/name`.
    let modules = dir
        .ancestors()
        .skip(1)
        .find(|d| d.ends_with("node_modules"))?;
    let (prefix, layout) = match modules.parent() {
        Some(lib) if lib.ends_with("lib") => (lib.parent()?.to_path_buf(), Layout::Global),
        Some(p) => (p.to_path_buf(), Layout::Local),
        None => return None,
    };
    Some(Identity {
        bin: bin.to_path_buf(),
        package: field("name"),
        version: field("version"),
        prefix,
        layout,
    })
}

/// The command that puts `identity` back: `SELFHEAL_REINSTALL_CMD` with its
/// placeholders filled in, or npm's for an npm package.
pub fn reinstall_argv(configured: &[String], identity: &Identity) -> Option<Vec<String>> {
    let fill = |a: &str| {
        a.replace("{version}", &identity.version)
            .replace("{package}", &identity.package)
            .replace("{prefix}", &identity.prefix.display().to_string())
    };
    if configured != ["auto"] {
        return (!configured.is_empty()).then(|| configured.iter().map(|a| fill(a)).collect());
    }
    if identity.package.is_empty() || identity.version.is_empty() {
        return None;
    }
    let spec = format!("{}@{}", identity.package, identity.version);
    let prefix = identity.prefix.display().to_string();
    let npm = |global: bool| {
        let mut argv = vec!["npm".to_string(), "install".into()];
        if global {
            argv.push("-g".into());
        }
        argv.extend([
            "--prefix".into(),
            prefix.clone(),
            "--no-audit".into(),
            "--no-fund".into(),
            spec.clone(),
        ]);
        argv
    };
    match identity.layout {
        Layout::Global => Some(npm(true)),
        Layout::Local => Some(npm(false)),
        Layout::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path, global: bool, version: &str) -> PathBuf {
        let modules = if global {
            root.join("lib/node_modules")
        } else {
            root.join("node_modules")
        };
        let pkg = modules.join("openclaw");
        std::fs::create_dir_all(&pkg).expect("mkdir");
        std::fs::write(
            pkg.join("package.json"),
            format!("{{\"name\":\"openclaw\",\"version\":\"{version}\"}}"),
        )
        .expect("write");
        std::fs::write(pkg.join("openclaw.mjs"), "x").expect("write");
        let bin = if global {
            root.join("bin")
        } else {
            modules.join(".bin")
        };
        std::fs::create_dir_all(&bin).expect("mkdir");
        let link = bin.join("openclaw");
        let _ = std::fs::remove_file(&link);
        let target = if global {
            "../lib/node_modules/openclaw/openclaw.mjs"
        } else {
            "../openclaw/openclaw.mjs"
        };
        std::os::unix::fs::symlink(target, &link).expect("link");
        link
    }

    #[test]
    fn an_npm_install_is_read_from_its_package_json_in_either_layout() {
        let root = std::env::temp_dir().join(format!("selfheal-identity-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for global in [true, false] {
            let prefix = root.join(if global { "g" } else { "l" });
            let bin = tree(&prefix, global, "2026.9.5");
            let id = read(&bin).expect("identity");
            assert_eq!(id.name(), "openclaw 2026.9.5");
            assert_eq!(id.prefix, std::fs::canonicalize(&prefix).expect("prefix"));
            assert_eq!(
                id.layout,
                if global {
                    Layout::Global
                } else {
                    Layout::Local
                }
            );
            let argv = reinstall_argv(&["auto".into()], &id).expect("npm");
            assert_eq!(argv.last().map(String::as_str), Some("openclaw@2026.9.5"));
            assert_eq!(argv.contains(&"-g".to_string()), global);
            let before = stamp(&bin);
            std::thread::sleep(std::time::Duration::from_millis(20));
            tree(&prefix, global, "2026.9.6");
            assert_ne!(stamp(&bin), before, "an update changes the stamp");
            assert_eq!(read(&bin).map(|i| i.version).as_deref(), Some("2026.9.6"));
            std::fs::remove_file(&bin).expect("rm");
            assert_eq!(stamp(&bin), "missing");
            assert!(read(&bin).is_none());
        }
        let _ = std::fs::remove_dir_all(&root);
        let id = Identity {
            package: "x".into(),
            version: "1".into(),
            prefix: "/p".into(),
            ..Identity::default()
        };
        let argv = reinstall_argv(
            &[
                "./put".into(),
                "{package}@{version}".into(),
                "{prefix}".into(),
            ],
            &id,
        );
        assert_eq!(argv, Some(vec!["./put".into(), "x@1".into(), "/p".into()]));
        assert_eq!(reinstall_argv(&[], &id), None);
    }
}
