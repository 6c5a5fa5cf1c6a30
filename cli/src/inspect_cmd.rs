//! `inspect FILE`: glue. Reads the file (as `upload` does: a regular file of
//! at most 2 MiB), reads it as a live patch ([`crate::elf::inspect`]), asks
//! the hypervisor (LIST and its build id; no lock, nothing changed) unless
//! `--no-hypervisor`, and prints [`crate::inspect_render`]'s text or JSON.
//! A file that cannot be read or is not a live patch: one line on stderr,
//! exit 1.

use crate::args::InspectArgs;
use crate::control::Control as _;
use crate::inspect::{judge, Inspection};
use crate::source::Source;
use crate::step::Refusal;
use crate::{errno, inspect_render, output, upload};
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;

fn refusal_text(r: &Refusal) -> String {
    match r {
        Refusal::Open(e) | Refusal::Read(e) => format!("cannot read it: {}", errno::strerror(*e)),
        Refusal::NotRegular(kind) => format!("is {kind}, not a regular file"),
        Refusal::TooLarge { size, limit, whose } => format!("is {size} bytes, more than {whose} accepts ({limit})"),
        Refusal::NotLivePatch(why) => format!("is {why}"),
        other => format!("{other:?}"),
    }
}

/// Runs `inspect`; returns the exit status.
pub fn run(source: &Source, a: &InspectArgs) -> u8 {
    let shown = String::from_utf8_lossy(a.file.as_os_str().as_bytes()).into_owned();
    let fail = |why: String| {
        let _ = writeln!(std::io::stderr(), "xc-livepatch: {} {why}", shown.escape_debug());
        1
    };
    let bytes = match upload::read_regular(&a.file) {
        Ok(b) => b,
        Err(r) => return fail(refusal_text(&r)),
    };
    let payload = match crate::elf::inspect(&bytes) {
        Ok(p) => p,
        Err(why) => return fail(format!("is {why}")),
    };
    let name = a.name.as_ref().map_or_else(|| upload::load_name(&a.file), |n| n.as_bytes().to_vec());
    let size = bytes.len() as u64;
    let now = if a.no_hypervisor {
        Err("--no-hypervisor".to_string())
    } else {
        match source.snapshot() {
            Ok(snap) => Ok(judge(&payload, size, &name, &snap, source.build_id().ok().as_deref())),
            Err(f) => Err(crate::run::error_line("cannot list live patches", &f.error)
                .trim_end()
                .trim_start_matches("xc-livepatch: ")
                .to_string()),
        }
    };
    let i = Inspection { size, payload, name, now };
    let out = if a.json { inspect_render::json(&i, &a.file, source.name()) } else { inspect_render::text(&i, &a.file) };
    match output::write(None, &out) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "xc-livepatch: cannot write stdout: {e}");
            1
        }
    }
}
