//! One run of the command: arguments -> source -> one snapshot -> one
//! formatter -> stdout or a file, and the exit status.

use crate::args::{Cli, Command, Format, ListArgs};
use crate::source::Source;
use crate::{dump, errno, json, lock, manage, output, prometheus, table};
use std::io::{IsTerminal as _, Write as _};
use xc_livepatch::Error;

/// Writes to stderr; a closed stderr is not worth a panic.
fn stderr(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// The one line every mode but table prints on failure: what failed, the
/// errno's name and text, the library's words, and the README's hint.
pub fn error_line(what: &str, e: &Error) -> String {
    let n = e.errno();
    let code = format!("{} ({})", errno::name(n), errno::strerror(n));
    let mut line = match e {
        Error::Hypervisor { .. } => format!("xc-livepatch: {what}: the hypervisor said {code}"),
        Error::Os { call, .. } => format!("xc-livepatch: {what}: {call} failed: {code}"),
        e => format!("xc-livepatch: {what}: {code}: {e}"),
    };
    if let Some(h) = errno::hint(n) {
        line.push_str("; hint: ");
        line.push_str(h);
    }
    line.push('\n');
    line
}

/// Runs the parsed command line; returns the exit status.
pub fn run(cli: &Cli) -> u8 {
    // The lock first, then the hypervisor: a driver that waited plans from
    // what the one before it left (the --sim-state file is read after it).
    let _lock = match lock(cli) {
        Ok(l) => l,
        Err(msg) => {
            stderr(format!("xc-livepatch: {msg}\n").as_bytes());
            return 1;
        }
    };
    let source = match Source::open(cli.sim.as_deref(), cli.sim_state.as_deref()) {
        Ok(s) => s,
        Err(msg) => {
            // A scenario the command cannot use is an error in its input,
            // as a usage error is.
            stderr(format!("xc-livepatch: {msg}\n").as_bytes());
            return 2;
        }
    };
    let status = command(cli, &source);
    if let Err(m) = source.save() {
        stderr(format!("xc-livepatch: {m}\n").as_bytes());
        return status.max(1);
    }
    status
}

/// The lock of a managing subcommand ([`crate::lock`]); `None` for the
/// others and when nothing is shared.
fn lock(cli: &Cli) -> Result<Option<lock::Held>, String> {
    let Some(wait) = cli.command.lock_wait() else { return Ok(None) };
    match lock::path_for(cli.sim.as_deref(), cli.sim_state.as_deref()) {
        Some(path) => lock::acquire(&path, wait).map(Some),
        None => Ok(None),
    }
}

fn command(cli: &Cli, source: &Source) -> u8 {
    match &cli.command {
        Command::List(a) => list(source, a),
        Command::Iface => match source.interface_version() {
            Ok(v) => emit(None, &dump::interface(v), 0),
            Err(e) => {
                stderr(error_line("cannot find the sysctl interface version", &e).as_bytes());
                1
            }
        },
        Command::Upload(a) => manage::upload(source, a),
        Command::Apply(a) => manage::apply(source, a),
        Command::Revert(a) => manage::other_action(source, xc_livepatch::Action::Revert, a),
        Command::Replace(a) => manage::other_action(source, xc_livepatch::Action::Replace, a),
        Command::Unload(a) => manage::other_action(source, xc_livepatch::Action::Unload, a),
        Command::Load(a) => manage::load(source, a),
        Command::Ensure(a) => crate::ensure::ensure(source, a),
        Command::Inspect(a) => crate::inspect_cmd::run(source, a),
    }
}

/// Writes `bytes`, then exits with `status` (1 if the write failed).
fn emit(file: Option<&std::path::Path>, bytes: &[u8], status: u8) -> u8 {
    match output::write(file, bytes) {
        Ok(()) => status,
        Err(e) => {
            let what = file.map_or("stdout".into(), |f| f.display().to_string());
            stderr(format!("xc-livepatch: cannot write {what}: {e}\n").as_bytes());
            1
        }
    }
}

fn list(source: &Source, a: &ListArgs) -> u8 {
    let result = source.snapshot();
    let file = a.output.as_deref();
    let format = a.effective_format();
    match (&result, format) {
        (_, Format::Prometheus) => {
            let bytes = prometheus::render(&result, &a.label_metadata, &source.identity());
            let status = match &result {
                Ok(_) => 0,
                Err(f) => {
                    stderr(error_line("cannot list live patches", &f.error).as_bytes());
                    1
                }
            };
            // A failure is written too: the collector must see it.
            let written = emit(file, &bytes, status);
            written.max(status)
        }
        (Ok(s), Format::Table) => {
            // On a terminal, names and metadata escaped; a file or a pipe gets xen-livepatch's bytes.
            let escape = file.is_none() && std::io::stdout().is_terminal();
            emit(file, &table::render_for(s, escape), 0)
        }
        (Ok(s), Format::Json) => emit(file, &json::render(s, source.name(), &source.identity()), 0),
        (Ok(s), Format::Dump) => emit(file, &dump::render(s), 0),
        (Err(f), Format::Table) => {
            stderr(&table::failure(f));
            table::exit_code(f.error.errno())
        }
        (Err(f), Format::Json | Format::Dump) => {
            stderr(error_line("cannot list live patches", &f.error).as_bytes());
            1
        }
    }
}
