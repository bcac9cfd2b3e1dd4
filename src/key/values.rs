//! The kinds of value a key can hold that are more than a number or a
//! path: secrets, on/off switches, languages, HTTP status sets, sizes of
//! free disk. Each parses itself (`FromStr`) and says what it expected.

use std::fmt;

/// A value that must never be printed. `Debug` shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ko,
}

impl std::str::FromStr for Lang {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Lang, &'static str> {
        match s.trim() {
            "en" | "" => Ok(Lang::En),
            "ko" => Ok(Lang::Ko),
            _ => Err("expected en or ko"),
        }
    }
}

/// `SELFHEAL_DIGEST`: how often the summary is pushed to every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digest {
    #[default]
    Off,
    Daily,
    Weekly,
}

impl std::str::FromStr for Digest {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Digest, &'static str> {
        match s.trim() {
            "off" | "" => Ok(Digest::Off),
            "daily" => Ok(Digest::Daily),
            "weekly" => Ok(Digest::Weekly),
            _ => Err("expected daily, weekly or off"),
        }
    }
}

/// `SELFHEAL_HEARTBEAT_MODE`: the healthchecks.io conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeartbeatMode {
    /// `URL` when healthy, `URL/fail` when not.
    #[default]
    Fail,
    /// `URL/<exit code>`.
    Exit,
}

impl std::str::FromStr for HeartbeatMode {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<HeartbeatMode, &'static str> {
        match s.trim() {
            "fail" | "" => Ok(HeartbeatMode::Fail),
            "exit" => Ok(HeartbeatMode::Exit),
            _ => Err("expected fail (URL or URL/fail) or exit (URL/<exit code>)"),
        }
    }
}

/// An `on|off` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Switch {
    #[default]
    On,
    Off,
}

impl std::str::FromStr for Switch {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<Switch, &'static str> {
        match s.trim() {
            "on" | "yes" | "true" | "1" => Ok(Switch::On),
            "off" | "no" | "false" | "0" => Ok(Switch::Off),
            _ => Err("expected on or off"),
        }
    }
}

/// `SELFHEAL_READY_URL`: where the service says whether it is ready.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReadyUrl {
    /// OpenClaw's `/readyz` on the gateway's address; nothing for others.
    #[default]
    Auto,
    Off,
    Url(String),
}

impl std::str::FromStr for ReadyUrl {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<ReadyUrl, &'static str> {
        match s.trim() {
            "auto" => Ok(ReadyUrl::Auto),
            "off" | "" => Ok(ReadyUrl::Off),
            u if (u.starts_with("http://") || u.starts_with("https://"))
                && !u.contains(char::is_whitespace) =>
            {
                Ok(ReadyUrl::Url(u.to_string()))
            }
            _ => Err("expected auto, off or an http(s) URL"),
        }
    }
}

/// `SELFHEAL_SERVICE`: what the service is, when its URL and restart
/// command do not say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceKind {
    /// Recognised: OpenClaw by its default port, a restart command that runs
    /// `openclaw`, or (at an incident) a port owner that is OpenClaw.
    #[default]
    Auto,
    Openclaw,
    Generic,
}

impl std::str::FromStr for ServiceKind {
    type Err = &'static str;

    fn from_str(s: &str) -> std::result::Result<ServiceKind, &'static str> {
        match s.trim() {
            "auto" | "" => Ok(ServiceKind::Auto),
            "openclaw" => Ok(ServiceKind::Openclaw),
            "generic" => Ok(ServiceKind::Generic),
            _ => Err("expected auto, openclaw or generic"),
        }
    }
}

/// Healthy HTTP statuses: a list of inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusSet(Vec<(u16, u16)>);

impl StatusSet {
    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&status))
    }
}

impl std::str::FromStr for StatusSet {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<StatusSet, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let parse = |s: &str| match s.parse::<u16>() {
                Ok(n) if (100..=599).contains(&n) => Ok(n),
                _ => Err(format!("{s:?} is not an HTTP status (100-599)")),
            };
            let (lo, hi) = (parse(lo)?, parse(hi)?);
            if lo > hi {
                return Err(format!("range {part:?} is backwards"));
            }
            ranges.push((lo, hi));
        }
        Ok(StatusSet(ranges))
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// `SELFHEAL_WARN_DISK`: the least free space before a warning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DiskFree {
    Bytes(u64),
    Percent(f64),
}

impl std::str::FromStr for DiskFree {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<DiskFree, String> {
        match s.trim().strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..100.0).contains(p))
                .map(DiskFree::Percent)
                .ok_or_else(|| format!("{s:?}: expected a percentage below 100, like 5%")),
            None => crate::fmt::parse_size(s).map(DiskFree::Bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sets() {
        let s: StatusSet = "200, 204,300-399".parse().expect("valid");
        assert!(s.contains(204) && s.contains(302) && !s.contains(201));
        assert_eq!(s.to_string(), "200,204,300-399");
    }
}
