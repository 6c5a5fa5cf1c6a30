//! One managing subcommand: arguments -> steps ([`crate::upload`],
//! [`crate::actions`]) -> xen-livepatch's lines or the JSON document ->
//! stdout and stderr, and the exit status.

use crate::actions::{self, Request};
use crate::args::{ActionArgs, ApplyArgs, LoadArgs, UploadArgs};
use crate::lines::{self, Stream};
use crate::report::{self, Asked};
use crate::source::Source;
use crate::step::{exit_status, Step};
use crate::upload;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use xc_livepatch::Action;

/// `upload NAME FILE`.
pub fn upload(source: &Source, a: &UploadArgs) -> u8 {
    let name = a.name.as_bytes();
    let step = upload::upload(source, name, &a.file, a.force);
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
    let step = actions::run(source, req);
    let asked = Asked { command, name: req.name, file: None, nodeps: req.nodeps, force: false, wait: Some(req.wait) };
    finish(source, &asked, json, &[step], None)
}

/// `load FILE`.
pub fn load(source: &Source, a: &LoadArgs) -> u8 {
    let steps = upload::load(source, &a.file, a.nodeps, a.force, a.wait.wait);
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

/// Prints the steps and returns the exit status (from `ret`, or the one
/// step's).
fn finish(source: &Source, asked: &Asked<'_>, json: bool, steps: &[Step], ret: Option<i32>) -> u8 {
    let ret = ret.unwrap_or_else(|| steps.iter().map(Step::ret).find(|&r| r != 0).unwrap_or(0));
    let status = exit_status(ret);
    if json {
        let doc = report::render(asked, source.name(), steps, status);
        if let Err(e) = crate::output::write(None, &doc) {
            let _ = writeln!(std::io::stderr(), "xc-livepatch: cannot write stdout: {e}");
            return status.max(1);
        }
        return status;
    }
    // As xen-livepatch, stdout unbuffered: each piece is written in order.
    for (stream, bytes) in lines::render_all(steps).0 {
        let _ = match stream {
            Stream::Out => std::io::stdout().lock().write_all(&bytes).and_then(|()| std::io::stdout().flush()),
            Stream::Err => std::io::stderr().lock().write_all(&bytes),
        };
    }
    status
}
