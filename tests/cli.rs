//! The command line itself: clap's own consistency checks, help, and the committed shell
//! completions staying in step with the flags.

mod common;

use clap::CommandFactory;
use clap_complete::Shell;
use common::*;
use flowtrace::cli::Cli;

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

/// Committed completion files, by shell.
const COMPLETIONS: [(Shell, &str); 5] = [
    (Shell::Bash, "flowtrace.bash"),
    (Shell::Zsh, "_flowtrace"),
    (Shell::Fish, "flowtrace.fish"),
    (Shell::PowerShell, "_flowtrace.ps1"),
    (Shell::Elvish, "flowtrace.elv"),
];

#[test]
fn committed_completions_are_up_to_date() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("FLOWTRACE_UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in COMPLETIONS {
        let generated = flowtrace::cmd::completions::script(shell);
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &generated).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(generated.as_slice()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "completions/{stale:?} are stale; regenerate with: FLOWTRACE_UPDATE_COMPLETIONS=1 cargo test --test cli"
    );
}

#[test]
fn the_completions_subcommand_prints_the_committed_script() {
    let committed = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/flowtrace.bash"),
    )
    .unwrap();
    flowtrace()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(committed);
}

#[test]
fn help_teaches_by_example() {
    let output = flowtrace().args(["events", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "kubectl logs",
        "--store",
        "--trace",
        "--since",
        "Filters:",
        "Input:",
        "Exit status",
    ] {
        assert!(help.contains(needle), "events --help lacks {needle}");
    }
}

/// The man pages under `man/`: `flowtrace.1` and one per subcommand, generated from the clap
/// definitions (`FLOWTRACE_UPDATE_COMPLETIONS=1 cargo test --test cli` regenerates them too).
#[test]
fn committed_man_pages_are_up_to_date() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let update = std::env::var_os("FLOWTRACE_UPDATE_COMPLETIONS").is_some();
    let command = Cli::command();
    let mut pages = Vec::new();
    let mut render = |name: String, command: clap::Command| {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .title(name.clone())
            .render(&mut page)
            .unwrap();
        pages.push((format!("{name}.1"), page));
    };
    render("flowtrace".into(), command.clone());
    for sub in command.get_subcommands() {
        let name = format!("flowtrace-{}", sub.get_name());
        render(
            name,
            sub.clone()
                .bin_name(format!("flowtrace {}", sub.get_name())),
        );
    }
    let mut stale = Vec::new();
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (file, page) in &pages {
        let path = dir.join(file);
        if update {
            std::fs::write(&path, page).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(page.as_slice()) {
            stale.push(file.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "man/{stale:?} are stale; regenerate with: FLOWTRACE_UPDATE_COMPLETIONS=1 cargo test --test cli"
    );
}
