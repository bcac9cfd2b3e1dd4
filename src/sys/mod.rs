//! The operating system, as selfheal uses it: files of the tool directory,
//! the run lock, child processes, the clock and signals, the log, metrics
//! lines, the Prometheus textfile, TLS roots, redaction, log rotation, a
//! stable hash and where programs are found.
//!
//! Nothing here knows about the configuration, the ladder, alerts or the
//! agent: these modules import only each other, `fmt` and `error`.

pub mod clock;
pub mod files;
pub mod hash;
pub mod http;
pub mod install;
pub mod lock;
pub mod log;
pub mod metrics;
pub mod process;
pub mod procs;
pub mod prom;
pub mod redact;
pub mod rotate;
pub mod tls;
pub mod which;
