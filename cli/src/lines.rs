//! A step rendered as xen-livepatch 4.17 prints it (tools/misc/xen-livepatch.c:
//! `upload_func`, `action_func`): the same words on the same stream, in the
//! same order, so a script written for it keeps working. Refusals that
//! xen-livepatch does not make (it leaves them to Xen) are one line each,
//! `xc-livepatch: ...`, on stderr.

use crate::errno::strerror;
use crate::step::{expected_after, state_name, After, Kind, Outcome, Refusal, Step};
use std::os::unix::ffi::OsStrExt as _;
use xc_livepatch::xenver::hex;
use xc_livepatch::Action;

/// Where a piece of text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// One piece of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Where it goes.
    pub stream: Stream,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Bytes the command did not write itself (a payload's name, a file
    /// name): shown escaped on a terminal ([`Text::shown`]).
    pub foreign: bool,
}

/// Text for the two streams, in the order it is written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text(pub Vec<Piece>);

impl Text {
    fn push(&mut self, stream: Stream, b: &[u8], foreign: bool) {
        self.0.push(Piece { stream, bytes: b.to_vec(), foreign });
    }
    fn out(&mut self, b: impl AsRef<[u8]>) {
        self.push(Stream::Out, b.as_ref(), false);
    }
    fn err(&mut self, b: impl AsRef<[u8]>) {
        self.push(Stream::Err, b.as_ref(), false);
    }
    fn out_foreign(&mut self, b: &[u8]) {
        self.push(Stream::Out, b, true);
    }
    fn err_foreign(&mut self, b: &[u8]) {
        self.push(Stream::Err, b, true);
    }
    /// Appends `other`.
    pub fn extend(&mut self, other: Text) {
        self.0.extend(other.0);
    }
    /// All that goes to `stream`, concatenated, byte for byte.
    pub fn of(&self, stream: Stream) -> Vec<u8> {
        self.shown(stream, false)
    }
    /// All that goes to `stream`; with `escape` (a terminal), the foreign
    /// pieces escaped as `--format dump` escapes names
    /// ([`crate::dump::escape_name`]).
    pub fn shown(&self, stream: Stream, escape: bool) -> Vec<u8> {
        let mut o = Vec::new();
        for p in self.0.iter().filter(|p| p.stream == stream) {
            if escape && p.foreign {
                crate::dump::escape_name(&p.bytes, &mut o);
            } else {
                o.extend_from_slice(&p.bytes);
            }
        }
        o
    }
}

/// xen-livepatch's verb for an action.
fn verb(a: Action) -> &'static str {
    match a {
        Action::Apply => "Applying",
        Action::Revert => "Reverting",
        Action::Unload => "Unloading",
        Action::Replace => "Replacing all live patches with",
    }
}

fn error_line(t: &mut Text, e: i32) {
    t.err(format!("Error {e}: {}\n", strerror(e)));
}

fn wrong_state(t: &mut Text, name: &[u8], state: u32, expected: u32) {
    t.err_foreign(name);
    t.err(" is in the wrong state.\n");
    t.err(format!("Current state: {}\nExpected state: {}\n", state_name(state), state_name(expected)));
}

/// Whether a step with this outcome wrote its leading text
/// (`Uploading F... `, `Applying NAME... `): it asked the hypervisor.
pub fn announces(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Completed
            | Outcome::Failed(_)
            | Outcome::EndedWithError(_)
            | Outcome::TimedOut
            | Outcome::EndedInWrongState { .. }
            | Outcome::Interrupted { sent: true, .. }
    )
}

/// The text written when the step asks the hypervisor, before its answer
/// (xen-livepatch's `printf("%s %s... ")`, stdout unbuffered).
pub fn leading(step: &Step) -> Text {
    let mut t = Text::default();
    match step.kind {
        Kind::Upload => {
            if step.force_flag == Some(false) {
                t.err(FORCE_NOT_PASSED);
            }
            t.out("Uploading ");
            t.out_foreign(file_bytes(step));
        }
        Kind::Act(a) => {
            t.out(verb(a));
            t.out(" ");
            t.out_foreign(&step.name);
        }
    }
    t.out("... ");
    t
}

/// The rest of the step's text, written once it has ended.
pub fn tail(step: &Step) -> Text {
    let mut t = Text::default();
    match step.kind {
        Kind::Upload => upload(&mut t, step),
        Kind::Act(a) => action(&mut t, step, a),
    }
    t
}

/// Appends the lines of `step` to `t`: [`leading`] (if it [`announces`]),
/// then [`tail`].
pub fn render(t: &mut Text, step: &Step) {
    if announces(&step.outcome) {
        t.extend(leading(step));
    }
    t.extend(tail(step));
}

/// All the steps' lines.
pub fn render_all(steps: &[Step]) -> Text {
    let mut t = Text::default();
    for s in steps {
        render(&mut t, s);
    }
    t
}

fn file_bytes(step: &Step) -> &[u8] {
    step.file.as_deref().map_or(b"", |f| f.as_os_str().as_bytes())
}

/// Before an upload with `--force` that the hypervisor cannot be told about.
pub const FORCE_NOT_PASSED: &str = "xc-livepatch: --force cannot be passed to this hypervisor (Xen before 4.19 takes no LIVEPATCH_FLAG_FORCE): uploading without it, the build-id check skipped\n";

fn upload(t: &mut Text, step: &Step) {
    match &step.outcome {
        Outcome::Refused(r) => refusal(t, step, r),
        Outcome::Failed(e) => {
            t.out("failed\n");
            error_line(t, *e);
        }
        Outcome::Interrupted { signal, .. } => interrupted(t, step, *signal),
        _ => t.out("completed\n"),
    }
}

fn action(t: &mut Text, step: &Step, a: Action) {
    let name = &step.name[..];
    match &step.outcome {
        Outcome::Refused(r) => refusal(t, step, r),
        Outcome::GetFailed(e) => {
            t.err("Failed to get status of ");
            t.err_foreign(name);
            t.err(".\n");
            error_line(t, *e);
        }
        Outcome::InProgress => {
            t.err(format!("Cannot execute {}.\nOperation already in progress.\n", Kind::Act(a).word()))
        }
        Outcome::NoActionNeeded => t.out("No action needed.\n"),
        Outcome::WrongState { state } => wrong_state(t, name, *state, crate::step::allowed_from(a)),
        Outcome::Completed => t.out("completed\n"),
        Outcome::Failed(e) | Outcome::EndedWithError(e) => {
            t.out("failed\n");
            error_line(t, *e);
        }
        Outcome::TimedOut => {
            t.out("failed\n");
            t.err("Operation didn't complete.\n");
        }
        Outcome::EndedInWrongState { state } => {
            t.out("failed\n");
            wrong_state(t, name, *state, expected_after(a) as u32);
        }
        Outcome::Interrupted { signal, .. } => interrupted(t, step, *signal),
    }
}

/// A step SIGINT or SIGTERM stopped: `interrupted` after the leading text
/// (if it was written), and one line saying what was last known.
fn interrupted(t: &mut Text, step: &Step, signal: i32) {
    let sig = crate::interrupt::name(signal);
    let word = step.kind.word();
    if !announces(&step.outcome) {
        t.err(format!("xc-livepatch: {sig}: stopped before the {word} of "));
        t.err_foreign(&step.name);
        t.err(" was asked for\n");
        return;
    }
    t.out("interrupted\n");
    t.err(format!("xc-livepatch: {sig}: stopped waiting for the {word} of "));
    t.err_foreign(&step.name);
    let last = match step.after {
        After::Status(s) if s.rc != 0 => {
            format!("{} with rc {} ({})", state_name(s.state.raw()), s.rc, strerror(s.rc.wrapping_neg()))
        }
        After::Status(s) => format!("{} with rc 0", state_name(s.state.raw())),
        After::Error(e) => format!("not readable (Error {e}: {})", strerror(e)),
        After::NotAsked => "not read".into(),
    };
    t.err(format!("; at the last read it was {last}; the hypervisor may still finish the {word}\n"));
}

/// The one line of a refusal (where xen-livepatch prints two for a file it cannot
/// open, `Could not open F.` and `Error N: text`).
fn refusal(t: &mut Text, step: &Step, r: &Refusal) {
    // The line is `xc-livepatch: ` PRE FILE POST (no FILE: PRE alone).
    let (pre, post): (&str, String) = match r {
        Refusal::Open(e) => {
            ("cannot open ", format!(": {} ({}); nothing uploaded", strerror(*e), crate::errno::name(*e)))
        }
        Refusal::NameTooLong(n) => {
            t.err(format!(
                "xc-livepatch: the name is {n} bytes long; Xen takes at most 127 (XEN_LIVEPATCH_NAME_SIZE, 128 \
                 with the NUL)\n"
            ));
            return;
        }
        Refusal::Read(e) => ("cannot read ", format!(": {}", strerror(*e))),
        Refusal::NotRegular(kind) => ("", format!(" is {kind}, not a regular file; nothing uploaded")),
        Refusal::TooLarge { size, limit, whose } => {
            ("", format!(" is {size} bytes, larger than the {limit} bytes {whose} accepts; nothing uploaded"))
        }
        Refusal::NotLivePatch(why) => ("", format!(" is {why}; nothing uploaded")),
        Refusal::WrongBuildId { payload, hypervisor } => (
            "",
            format!(
                " was made for the hypervisor with build id {} (its .livepatch.xen_depends), but this \
                 hypervisor's build id is {}; nothing uploaded (--force uploads it anyway, and Xen refuses it)",
                hex(payload),
                hex(hypervisor)
            ),
        ),
        Refusal::BuildIdUnknown(e) => (
            "cannot read the hypervisor's build id to check ",
            format!(
                " against it ({}, {}); nothing uploaded (--force uploads without the check)",
                crate::errno::name(*e),
                strerror(*e)
            ),
        ),
    };
    t.err(format!("xc-livepatch: {pre}"));
    t.err_foreign(file_bytes(step));
    t.err(format!("{post}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::CHECKED;

    fn text(kind: Kind, outcome: Outcome) -> (String, String) {
        let mut s = Step::new(kind, b"lp-1");
        s.file = Some("p/lp-1.livepatch".into());
        s.outcome = outcome;
        let t = render_all(&[s]);
        (String::from_utf8(t.of(Stream::Out)).unwrap(), String::from_utf8(t.of(Stream::Err)).unwrap())
    }

    fn pair(o: &str, e: &str) -> (String, String) {
        (o.to_string(), e.to_string())
    }

    #[test]
    fn upload_lines_are_xen_livepatchs() {
        assert_eq!(text(Kind::Upload, Outcome::Completed), pair("Uploading p/lp-1.livepatch... completed\n", ""));
        assert_eq!(
            text(Kind::Upload, Outcome::Failed(libc::EEXIST)),
            pair("Uploading p/lp-1.livepatch... failed\n", "Error 17: File exists\n")
        );
        assert_eq!(
            text(Kind::Upload, Outcome::Refused(Refusal::Open(libc::ENOENT))),
            pair(
                "",
                "xc-livepatch: cannot open p/lp-1.livepatch: No such file or directory (ENOENT); nothing uploaded\n"
            )
        );
    }

    #[test]
    fn action_lines_are_xen_livepatchs() {
        let apply = Kind::Act(Action::Apply);
        assert_eq!(text(apply, Outcome::Completed), pair("Applying lp-1... completed\n", ""));
        assert_eq!(text(apply, Outcome::NoActionNeeded), pair("No action needed.\n", ""));
        assert_eq!(text(apply, Outcome::TimedOut), pair("Applying lp-1... failed\n", "Operation didn't complete.\n"));
        assert_eq!(
            text(Kind::Act(Action::Revert), Outcome::WrongState { state: CHECKED }),
            pair("", "lp-1 is in the wrong state.\nCurrent state: CHECKED\nExpected state: APPLIED\n")
        );
        assert_eq!(
            text(Kind::Act(Action::Unload), Outcome::EndedInWrongState { state: CHECKED }),
            pair(
                "Unloading lp-1... failed\n",
                "lp-1 is in the wrong state.\nCurrent state: CHECKED\nExpected state: unknown\n"
            )
        );
        assert_eq!(
            text(Kind::Act(Action::Replace), Outcome::EndedWithError(libc::EBUSY)),
            pair("Replacing all live patches with lp-1... failed\n", "Error 16: Device or resource busy\n")
        );
        assert_eq!(
            text(Kind::Act(Action::Unload), Outcome::InProgress),
            pair("", "Cannot execute unload.\nOperation already in progress.\n")
        );
        assert_eq!(
            text(apply, Outcome::GetFailed(libc::ENOENT)),
            pair("", "Failed to get status of lp-1.\nError 2: No such file or directory\n")
        );
    }

    #[test]
    fn names_and_file_names_are_escaped_only_when_asked_and_only_they() {
        let mut s = Step::new(Kind::Act(Action::Revert), b"lp\x1b[2J");
        s.outcome = Outcome::WrongState { state: CHECKED };
        let t = render_all(&[s]);
        assert_eq!(t.of(Stream::Err), t.shown(Stream::Err, false));
        assert!(t.of(Stream::Err).starts_with(b"lp\x1b[2J is in the wrong state.\n"));
        assert!(t.shown(Stream::Err, true).starts_with(b"lp\\x1b[2J is in the wrong state.\nCurrent state: CHECKED\n"));
        let mut s = Step::new(Kind::Upload, b"x");
        s.file = Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b"f\x07\\.lp")));
        s.outcome = Outcome::Refused(Refusal::NotRegular("a FIFO"));
        let shown = render_all(&[s]).shown(Stream::Err, true);
        assert_eq!(shown, b"xc-livepatch: f\\x07\\\\.lp is a FIFO, not a regular file; nothing uploaded\n");
    }

    #[test]
    fn the_leading_text_is_what_an_announcing_step_starts_with() {
        let mut s = Step::new(Kind::Act(Action::Apply), b"lp-1");
        s.outcome = Outcome::TimedOut;
        let mut whole = leading(&s);
        whole.extend(tail(&s));
        assert_eq!(whole, render_all(&[s.clone()]));
        assert_eq!(leading(&s).of(Stream::Out), b"Applying lp-1... ");
        s.outcome = Outcome::Interrupted { signal: libc::SIGTERM, sent: false };
        let (o, e) = (render_all(&[s.clone()]).of(Stream::Out), render_all(&[s]).of(Stream::Err));
        assert_eq!(
            (o, e),
            (vec![], b"xc-livepatch: SIGTERM: stopped before the apply of lp-1 was asked for\n".to_vec())
        );
    }

    #[test]
    fn refusals_are_one_line_naming_the_file_and_both_build_ids() {
        let (o, e) = text(
            Kind::Upload,
            Outcome::Refused(Refusal::WrongBuildId { payload: vec![0xab, 0x01], hypervisor: vec![0x5e, 0x6d] }),
        );
        assert_eq!(o, "");
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(
            e.starts_with("xc-livepatch: p/lp-1.livepatch was made for ") && e.contains("ab01") && e.contains("5e6d")
        );
        let (_, e) = text(Kind::Upload, Outcome::Refused(Refusal::NotRegular("a directory")));
        assert_eq!(e, "xc-livepatch: p/lp-1.livepatch is a directory, not a regular file; nothing uploaded\n");
    }
}
