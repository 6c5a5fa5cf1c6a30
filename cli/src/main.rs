//! `xc-livepatch`: see the crate's library (`src/lib.rs`) for the layout.

use clap::{CommandFactory, Parser};
use std::process::ExitCode;
use xc_livepatch_cli::args::{Cli, Command, Format};

fn main() -> ExitCode {
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
