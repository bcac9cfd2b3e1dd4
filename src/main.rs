//! Entry point: parse arguments, run, map the result to an exit status.

use std::io::Write;
use std::process::ExitCode;

use selfheal::cli::{self, Parsed};

fn main() -> ExitCode {
    selfheal::sys::clock::install_signal_handlers();
    let result = cli::parse(std::env::args_os()).and_then(|parsed| match parsed {
        Parsed::Special(s) => Ok(selfheal::special(s)),
        Parsed::Run(cli) => selfheal::run(cli),
    });
    match result {
        Ok(verdict) => ExitCode::from(verdict.code()),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "selfheal: {e}");
            ExitCode::from(e.code())
        }
    }
}
