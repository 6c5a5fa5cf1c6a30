//! One managing subcommand: arguments -> steps ([`crate::upload`],
//! [`crate::actions`]) -> xen-livepatch's lines, written as each step goes,
//! or the JSON document at the end -> stdout and stderr, and the exit
//! status.

use crate::actions::{self, Request};
use crate::args::{ActionArgs, ApplyArgs, LoadArgs, UploadArgs};
use crate::lines::{self, Stream};
use crate::report::{self, Asked};
use crate::source::Source;
use crate::step::{exit_status, Observer, Outcome, Refusal, Silent, Step};
use crate::upload;
use std::io::{IsTerminal as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use xc_livepatch::Action;

/// Writes each step's lines as the step goes, as xen-livepatch does
/// (stdout unbuffered): the leading text when the step asks the
/// hypervisor, the rest when it has ended. On a terminal, names and file
/// names are shown escaped ([`lines::Text::shown`]); into a pipe or a file,
/// byte for byte.
struct Printer {
    escape_out: bool,
    escape_err: bool,
}

impl Printer {
    fn new() -> Printer {
        Printer { escape_out: std::io::stdout().is_terminal(), escape_err: std::io::stderr().is_terminal() }
    }

    fn write(&self, t: &lines::Text) {
        for p in &t.0 {
            let one = lines::Text(vec![p.clone()]);
            let _ = match p.stream {
                Stream::Out => {
                    let mut o = std::io::stdout().lock();
                    o.write_all(&one.shown(Stream::Out, self.escape_out)).and_then(|()| o.flush())
                }
                Stream::Err => std::io::stderr().lock().write_all(&one.shown(Stream::Err, self.escape_err)),
            };
        }
    }
}

impl Observer for Printer {
    fn started(&mut self, step: &Step) {
        self.write(&lines::leading(step));
    }
    fn ended(&mut self, step: &Step) {
        self.write(&lines::tail(step));
    }
}

/// The lines' printer, or (for `--json`, one document at the end) nothing.
pub fn observer(json: bool) -> Box<dyn Observer> {
    if json {
        Box::new(Silent)
    } else {
        Box::new(Printer::new())
    }
}

/// `upload NAME FILE`.
pub fn upload(source: &Source, a: &UploadArgs) -> u8 {
    let name = a.name.as_bytes();
    let step =
        upload::upload_with(source, name, &a.file, upload::UploadMode::from_force(a.force), observer(a.json).as_mut());
    let asked = Asked { command: "upload", name, file: Some(&a.file), nodeps: false, force: a.force, wait: None };
    finish(source, &asked, a.json, &[step], None)
}

/// `apply NAME`.
pub fn apply(source: &Source, a: &ApplyArgs) -> u8 {
    let req = Request { action: Action::Apply, name: a.name.as_bytes(), nodeps: a.nodeps, wait: a.wait.wait };
    action(source, "apply", req, a.wait.json)
}

/// `revert`, `replace` and `unload` NAME.
pub fn other_action(source: &Source, action_: Action, a: &ActionArgs) -> u8 {
    let word = crate::step::Kind::Act(action_).word();
    let req = Request { action: action_, name: a.name.as_bytes(), nodeps: false, wait: a.wait.wait };
    action(source, word, req, a.wait.json)
}

fn action(source: &Source, command: &'static str, req: Request<'_>, json: bool) -> u8 {
    crate::interrupt::install();
    let step = actions::run_with(source, req, observer(json).as_mut());
    let asked = Asked { command, name: req.name, file: None, nodeps: req.nodeps, force: false, wait: Some(req.wait) };
    finish(source, &asked, json, &[step], None)
}

/// `load FILE`.
pub fn load(source: &Source, a: &LoadArgs) -> u8 {
    crate::interrupt::install();
    let steps = upload::load_with(source, &a.file, a.nodeps, a.force, a.wait.wait, observer(a.wait.json).as_mut());
    let name = upload::load_name(&a.file);
    let asked = Asked {
        command: "load",
        name: &name,
        file: Some(&a.file),
        nodeps: a.nodeps,
        force: a.force,
        wait: Some(a.wait.wait),
    };
    finish(source, &asked, a.wait.json, &steps, Some(upload::load_ret(&steps)))
}

/// Writes the JSON document (the lines were written as the steps went) and
/// returns the exit status: 128 + the signal's number if SIGINT or SIGTERM
/// stopped a step, else xen-livepatch's from `ret` (or the one step's).
fn finish(source: &Source, asked: &Asked<'_>, json: bool, steps: &[Step], ret: Option<i32>) -> u8 {
    let ret = ret.unwrap_or_else(|| steps.iter().map(Step::ret).find(|&r| r != 0).unwrap_or(0));
    let status = match steps.iter().find_map(Step::interrupted) {
        Some(sig) => crate::interrupt::exit_status(sig),
        None => exit_status(ret),
    };
    if json {
        let doc = report::render(asked, source.name(), steps, status);
        if let Err(e) = crate::output::write(None, &doc) {
            let _ = writeln!(std::io::stderr(), "xc-livepatch: cannot write stdout: {e}");
            return status.max(1);
        }
        return status;
    }
    let asked_xen = steps.iter().any(|s| {
        matches!(s.outcome, Outcome::GetFailed(_) | Outcome::Failed(_) | Outcome::Refused(Refusal::BuildIdUnknown(_)))
    });
    if asked_xen && matches!(source.interface_version(), Err(e) if crate::source::privcmd_missing(&e)) {
        // As `list`: xen-livepatch's lines, then why (not a dom0).
        if let Some(h) = crate::errno::hint(libc::ENOENT) {
            let _ = writeln!(std::io::stderr(), "xc-livepatch: {h}");
        }
    }
    status
}
