//! The per-run context handed down to every step: configuration, log, mode,
//! clock and HTTP agent. No globals; a step that needs something takes it
//! from here.

use std::path::PathBuf;

use crate::clock::Clock;
use crate::config::Config;
use crate::log::{self, Log};
use crate::metrics::{self, Metric};
use crate::probe::{self, Probe};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Real,
    /// Read and probe; print what would be run, written or sent; change nothing.
    DryRun,
}

pub struct Ctx<'a> {
    pub config: &'a Config,
    pub log: Log,
    pub mode: Mode,
    pub clock: &'a dyn Clock,
    pub http: ureq::Agent,
}

/// Where restart and repair commands write their output.
const CAPTURE_FILE: &str = ".command-output";

impl<'a> Ctx<'a> {
    pub fn new(config: &'a Config, log: Log, mode: Mode, clock: &'a dyn Clock) -> Ctx<'a> {
        Ctx {
            config,
            log,
            mode,
            clock,
            http: probe::agent(config),
        }
    }

    pub fn probe(&self) -> Probe {
        probe::probe(&self.http, self.config)
    }

    /// Appends a metric line (or, in a dry run, prints it). A metrics file
    /// that cannot be written is a warning: healing matters more.
    pub fn record(&mut self, file: &str, metric: Metric) {
        match self.mode {
            Mode::DryRun => {
                let line = String::from_utf8_lossy(&metric.to_line()).into_owned();
                log::print(&format!("would record in {file}: {line}"));
            }
            Mode::Real => {
                if let Err(e) = metrics::append(&self.config.memory_dir, file, &metric) {
                    self.log.warn(format!("metrics not recorded: {e}"));
                }
            }
        }
    }

    pub fn capture_path(&self) -> PathBuf {
        self.config.memory_dir.join(CAPTURE_FILE)
    }
}
