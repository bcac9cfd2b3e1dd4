//! The integration tests: one crate (one link of the binary's test harness),
//! each module a concern. Every test spawns the built `selfheal` against
//! loopback servers, fixtures and private tmux servers (`common`).

mod common;

mod agent;
mod alerts;
mod check;
mod clis;
mod config;
mod docs;
mod evidence;
mod faults;
mod fleet;
mod fuzz_smoke;
mod harm;
mod install;
mod learn;
mod ops;
mod services;
mod tidy;
mod tls;
mod update;
