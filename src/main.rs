//! Entry point: parse arguments, run, map the result to an exit status.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    selfheal::clock::install_signal_handlers();
    let result = selfheal::cli::parse(std::env::args_os()).and_then(selfheal::run);
    match result {
        Ok(verdict) => ExitCode::from(verdict.code()),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "selfheal: {e}");
            ExitCode::from(e.code())
        }
    }
}
