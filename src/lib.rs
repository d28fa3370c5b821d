//! flowtrace: incident debugging for PenguiFlow runtime telemetry.
//!
//! The pipeline, one module per stage: `source` (files, stdin, store; decompression; line
//! shapes) -> `event::Event` -> `filter` -> analyses (driven by `pass`: one read, one
//! `Analysis` interface) -> `render`. `cli` holds the clap types,
//! `config` validates them, `cmd` wires one subcommand each, `error` maps failures to exit
//! statuses, `redact` masks secrets in exception text for every output.

pub mod analysis;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod coverage;
pub mod error;
pub mod event;
pub mod filter;
pub mod import;
pub mod pass;
pub mod redact;
pub mod render;
pub mod source;
