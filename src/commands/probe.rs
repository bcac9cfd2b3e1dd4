//! `selfheal probe`: one probe, printed; writes nothing, takes no lock.

use std::io::Write;

use super::Verdict;
use crate::cli::Format;
use crate::config::Config;
use crate::error::Result;
use crate::probe;
use crate::sys::log;

pub fn run(config: &Config, format: Format) -> Result<Verdict> {
    for w in &config.warnings {
        let _ = writeln!(std::io::stderr(), "selfheal: warning: {w}");
    }
    let p = probe::probe(&probe::agent(config), config);
    let url = &config.shown_url;
    let text = match format {
        Format::Json => {
            let value = serde_json::json!({
                "url": url,
                "healthy": p.healthy(),
                "status": p.status_text(),
                "latency_ms": p.latency_ms(),
                "reason": p.reason,
            });
            format!("{value}\n")
        }
        // Healthy: the reason already is the status ("HTTP 200").
        Format::Text if p.healthy() => {
            format!("healthy: {} in {} ms ({url})\n", p.reason, p.latency_ms())
        }
        Format::Text => format!(
            "unhealthy: {} (status {}, {} ms, {url})\n",
            p.reason,
            p.status_text(),
            p.latency_ms()
        ),
    };
    log::print(&text);
    Ok(Verdict::from_ok(p.healthy()))
}
