//! The checked-in shell completions under `cli/completions/` (bash, zsh,
//! fish) are what clap_complete makes from the argument definitions, as the
//! Debian package installs them. `BLESS=1 cargo test -p xc-livepatch-cli
//! --test completions` rewrites them.

use clap::CommandFactory;
use clap_complete::{generate, Shell};
use std::path::PathBuf;
use xc_livepatch_cli::args::Cli;

/// Each shell and the file name its completion directory expects.
const SHELLS: [(Shell, &str); 3] =
    [(Shell::Bash, "xc-livepatch"), (Shell::Zsh, "_xc-livepatch"), (Shell::Fish, "xc-livepatch.fish")];

fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    generate(shell, &mut Cli::command(), "xc-livepatch", &mut out);
    out
}

#[test]
fn completions_match_the_argument_definitions() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    for (shell, name) in SHELLS {
        let want = script(shell);
        let path = dir.join(name);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date: run BLESS=1 cargo test -p xc-livepatch-cli --test completions",
            path.display()
        );
    }
}

#[test]
fn every_subcommand_and_its_options_are_completed() {
    for (shell, _) in SHELLS {
        let text = String::from_utf8(script(shell)).unwrap();
        // (fish spells a long option `-l wait`, the others `--wait`)
        for word in
            ["upload", "apply", "revert", "replace", "unload", "load", "list", "nodeps", "force", "wait", "json"]
        {
            assert!(text.contains(word), "{shell}: no {word}");
        }
    }
}
