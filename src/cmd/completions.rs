//! `flowtrace completions SHELL`: the shell completion script, generated from the clap types.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{EXIT_OK, Error};

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "flowtrace", &mut script);
    script
}

pub fn run(shell: Shell) -> Result<u8, Error> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script(shell))?;
    stdout.flush()?;
    Ok(EXIT_OK)
}
