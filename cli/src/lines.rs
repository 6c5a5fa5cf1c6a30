//! A step rendered as xen-livepatch 4.17 prints it (tools/misc/xen-livepatch.c:
//! `upload_func`, `action_func`): the same words on the same stream, in the
//! same order, so a script written for it keeps working. Refusals that
//! xen-livepatch does not make (it leaves them to Xen) are one line each,
//! `xc-livepatch: ...`, on stderr.

use crate::errno::strerror;
use crate::step::{expected_after, state_name, Kind, Outcome, Refusal, Step};
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

/// Text for the two streams, in the order it is written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text(pub Vec<(Stream, Vec<u8>)>);

impl Text {
    fn out(&mut self, b: impl AsRef<[u8]>) {
        self.0.push((Stream::Out, b.as_ref().to_vec()));
    }
    fn err(&mut self, b: impl AsRef<[u8]>) {
        self.0.push((Stream::Err, b.as_ref().to_vec()));
    }
    /// All that goes to `stream`, concatenated.
    pub fn of(&self, stream: Stream) -> Vec<u8> {
        self.0.iter().filter(|(s, _)| *s == stream).flat_map(|(_, b)| b.clone()).collect()
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
    t.err([name, b" is in the wrong state.\n"].concat());
    t.err(format!("Current state: {}\nExpected state: {}\n", state_name(state), state_name(expected)));
}

/// Appends the lines of `step` to `t`.
pub fn render(t: &mut Text, step: &Step) {
    match step.kind {
        Kind::Upload => upload(t, step),
        Kind::Act(a) => action(t, step, a),
    }
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
    let file = file_bytes(step);
    match &step.outcome {
        Outcome::Refused(r) => refusal(t, step, r),
        outcome => {
            if step.force_flag == Some(false) {
                t.err(FORCE_NOT_PASSED);
            }
            t.out([b"Uploading ", file, b"... "].concat());
            match outcome {
                Outcome::Failed(e) => {
                    t.out("failed\n");
                    error_line(t, *e);
                }
                _ => t.out("completed\n"),
            }
        }
    }
}

fn action(t: &mut Text, step: &Step, a: Action) {
    let name = &step.name[..];
    let started = || [verb(a).as_bytes(), b" ", name, b"... "].concat();
    match &step.outcome {
        Outcome::Refused(r) => refusal(t, step, r),
        Outcome::GetFailed(e) => {
            t.err([b"Failed to get status of ", name, b".\n"].concat());
            error_line(t, *e);
        }
        Outcome::InProgress => {
            t.err(format!("Cannot execute {}.\nOperation already in progress.\n", Kind::Act(a).word()))
        }
        Outcome::NoActionNeeded => t.out("No action needed.\n"),
        Outcome::WrongState { state } => wrong_state(t, name, *state, crate::step::allowed_from(a)),
        Outcome::Completed => {
            t.out(started());
            t.out("completed\n");
        }
        Outcome::Failed(e) | Outcome::EndedWithError(e) => {
            t.out(started());
            t.out("failed\n");
            error_line(t, *e);
        }
        Outcome::TimedOut => {
            t.out(started());
            t.out("failed\n");
            t.err("Operation didn't complete.\n");
        }
        Outcome::EndedInWrongState { state } => {
            t.out(started());
            t.out("failed\n");
            wrong_state(t, name, *state, expected_after(a) as u32);
        }
    }
}

/// The one line of a refusal (where xen-livepatch prints two for a file it cannot
/// open, `Could not open F.` and `Error N: text`).
fn refusal(t: &mut Text, step: &Step, r: &Refusal) {
    let file = String::from_utf8_lossy(file_bytes(step)).into_owned();
    let line = match r {
        Refusal::Open(e) => {
            format!("cannot open {file}: {} ({}); nothing uploaded", strerror(*e), crate::errno::name(*e))
        }
        Refusal::NameTooLong(n) => {
            format!("the name is {n} bytes long; Xen takes at most 127 (XEN_LIVEPATCH_NAME_SIZE, 128 with the NUL)")
        }
        Refusal::Read(e) => format!("cannot read {file}: {}", strerror(*e)),
        Refusal::NotRegular(kind) => format!("{file} is {kind}, not a regular file; nothing uploaded"),
        Refusal::TooLarge { size, limit, whose } => {
            format!("{file} is {size} bytes, larger than the {limit} bytes {whose} accepts; nothing uploaded")
        }
        Refusal::NotLivePatch(why) => format!("{file} is {why}; nothing uploaded"),
        Refusal::WrongBuildId { payload, hypervisor } => format!(
            "{file} was made for the hypervisor with build id {} (its .livepatch.xen_depends), but this \
             hypervisor's build id is {}; nothing uploaded (--force uploads it anyway, and Xen refuses it)",
            hex(payload),
            hex(hypervisor)
        ),
        Refusal::BuildIdUnknown(e) => format!(
            "cannot read the hypervisor's build id to check {file} against it ({}, {}); nothing uploaded \
             (--force uploads without the check)",
            crate::errno::name(*e),
            strerror(*e)
        ),
    };
    t.err(format!("xc-livepatch: {line}\n"));
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
