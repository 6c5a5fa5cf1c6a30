//! `xc-livepatch`: see the crate's library (`src/lib.rs`) for the layout.

use clap::{CommandFactory, Parser};
use std::process::ExitCode;
use xc_livepatch_cli::args::{Cli, Command, Format};

/// A write beyond `ulimit -f` then fails with EFBIG, which is reported
/// (the old `--output` file kept, the temporary one removed), instead of
/// SIGXFSZ killing the command half-way.
#[allow(unsafe_code)]
fn ignore_sigxfsz() {
    // SAFETY: SIG_IGN installs no handler (no code runs in signal context);
    // called first thing in main, before any thread exists, and the old
    // disposition is not needed.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn main() -> ExitCode {
    ignore_sigxfsz();
    let cli = Cli::parse();
    if let Command::List(a) = &cli.command {
        if !a.label_metadata.is_empty() && a.effective_format() != Format::Prometheus {
            Cli::command()
                .error(clap::error::ErrorKind::ArgumentConflict, "--label-metadata needs --format prometheus")
                .exit();
        }
    }
    ExitCode::from(xc_livepatch_cli::run::run(&cli))
}
