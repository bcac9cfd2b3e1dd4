//! Docker's view of a containerised service: `docker inspect` and `docker
//! logs` (or `docker compose ps` / `logs`), each bounded.

use super::{LOG_TAIL, QUERY};
use crate::config::Config;
use crate::sys::process;

/// A restart command that is Docker's: `docker restart NAME…` (or `docker
/// container restart`), or `docker compose [-f FILE…] restart [SERVICE…]`.
/// The evidence step then asks Docker (its state and the container's last
/// log lines) instead of the host's service manager.
pub struct Docker<'a> {
    pub program: &'a str,
    /// `compose` and its global options, for a compose project.
    pub compose: Option<&'a [String]>,
    pub names: Vec<&'a str>,
}

impl<'a> Docker<'a> {
    pub fn of(argv: &'a [String]) -> Option<Docker<'a>> {
        let (program, args) = argv.split_first()?;
        if program.rsplit('/').next() != Some("docker") {
            return None;
        }
        let restart = args.iter().position(|a| a == "restart")?;
        let compose =
            (args.first().map(String::as_str) == Some("compose")).then(|| &args[..restart]);
        // Flags, and the value of those that take one (-t 10, --signal KILL).
        let mut names = Vec::new();
        let mut skip = false;
        for a in &args[restart + 1..] {
            if skip {
                skip = false;
            } else if a.starts_with('-') {
                skip = !a.contains('=')
                    && matches!(
                        a.as_str(),
                        "-t" | "--time" | "-s" | "--signal" | "--timeout"
                    );
            } else {
                names.push(a.as_str());
            }
        }
        Some(Docker {
            program,
            compose,
            names,
        })
    }

    /// Runs `docker ARGS…` (bounded), its output.
    fn run(&self, config: &Config, args: &[&str]) -> String {
        let argv: Vec<String> = std::iter::once(self.program)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let capture = config.memory_dir.join(".docker-output");
        let done = process::run_with_env(
            &argv,
            QUERY,
            &capture,
            &crate::sys::clock::SystemClock,
            &[],
            process::Signals::Stop,
        );
        // The whole output, lines intact (`Finished::output` is one line).
        let out = process::read_capture(&capture, LOG_TAIL);
        let _ = std::fs::remove_file(&capture);
        if done.is_err() {
            return String::new();
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// `compose` and its options, then `args`, then the services.
    fn compose_args<'b>(&'b self, compose: &'b [String], args: &[&'b str]) -> Vec<&'b str> {
        let mut all: Vec<&str> = compose.iter().map(String::as_str).collect();
        all.extend(args);
        all.extend(&self.names);
        all
    }

    /// The host pid of the container's main process (`docker inspect
    /// .State.Pid`; for compose, of the service's container).
    pub fn main_pid(&self, config: &Config) -> Option<u32> {
        let id = match self.compose {
            Some(c) => {
                let out = self.run(config, &self.compose_args(c, &["ps", "-q"]));
                out.lines().next()?.trim().to_string()
            }
            None => self.names.first()?.to_string(),
        };
        let out = self.run(config, &["inspect", "--format", "{{.State.Pid}}", &id]);
        out.trim().parse().ok().filter(|&p| p > 0)
    }

    /// The container's last 20 log lines (stdout and stderr).
    pub(super) fn log_tail(&self, config: &Config) -> String {
        match self.compose {
            Some(c) => self.run(
                config,
                &self.compose_args(c, &["logs", "--no-color", "--tail", "20"]),
            ),
            None => match self.names.first() {
                Some(name) => self.run(config, &["logs", "--tail", "20", name]),
                None => String::new(),
            },
        }
    }

    /// A compose project's view in one line (a single container's is the
    /// manager's, `manager::Manager::Docker`).
    pub(super) fn compose_view(&self, config: &Config) -> Option<String> {
        let c = self.compose?;
        let out = self.run(config, &self.compose_args(c, &["ps", "-a"]));
        out.lines().nth(1).map(|l| {
            format!(
                "docker compose: {}",
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
    }
}
