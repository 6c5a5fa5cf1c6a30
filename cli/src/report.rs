//! `--json` of `upload`, `load` and the four actions: one JSON document of
//! what was asked and what each step did (schema:
//! `cli/schema/xc-livepatch-action.schema.json`).

use crate::errno;
use crate::lines::{self, Stream, Text};
use crate::step::{After, Kind, Outcome, Refusal, Step};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::time::Duration;
use xc_livepatch::xenver::hex;
use xc_livepatch::{State, Status};

/// What was asked on the command line.
#[derive(Debug, Clone)]
pub struct Asked<'a> {
    /// The subcommand: `upload`, `apply`, ..., `load`.
    pub command: &'static str,
    /// The payload's name (for `load`: the one derived from the file).
    pub name: &'a [u8],
    /// The file (upload, load).
    pub file: Option<&'a Path>,
    /// `--nodeps`.
    pub nodeps: bool,
    /// `--force`.
    pub force: bool,
    /// `--wait` (not for upload).
    pub wait: Option<Duration>,
}

#[derive(Serialize)]
struct Document {
    command: &'static str,
    source: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_base64: Option<String>,
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_base64: Option<String>,
    nodeps: bool,
    force: bool,
    wait_ns: Option<u64>,
    ok: bool,
    exit_status: u8,
    interrupted: Option<String>,
    elapsed_ns: u64,
    steps: Vec<StepDoc>,
}

#[derive(Serialize)]
struct StepDoc {
    step: &'static str,
    result: &'static str,
    message: Option<String>,
    errno: Option<ErrnoDoc>,
    before: Option<StatusDoc>,
    after: Option<StatusDoc>,
    after_errno: Option<ErrnoDoc>,
    polls: u32,
    elapsed_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<PayloadDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    force_flag: Option<&'static str>,
}

#[derive(Serialize)]
struct ErrnoDoc {
    number: i32,
    name: String,
    text: String,
}

#[derive(Serialize)]
struct StatusDoc {
    state: Value,
    state_code: u32,
    rc: i32,
    rc_text: Option<String>,
}

#[derive(Serialize)]
struct PayloadDoc {
    size: Option<u64>,
    xen_depends: Option<String>,
    build_id: Option<String>,
    hypervisor_build_id: Option<String>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn errno_doc(e: i32) -> ErrnoDoc {
    ErrnoDoc { number: e, name: errno::name(e), text: errno::strerror(e) }
}

fn status_doc(s: Status) -> StatusDoc {
    StatusDoc {
        state: match s.state {
            State::Unknown(v) => Value::from(v),
            st => Value::from(st.as_str()),
        },
        state_code: s.state.raw(),
        rc: s.rc,
        rc_text: (s.rc != 0).then(|| errno::strerror(s.rc.wrapping_neg())),
    }
}

/// The word for how a step ended.
pub fn result_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Completed => "completed",
        Outcome::NoActionNeeded => "no_action_needed",
        Outcome::Refused(_) => "refused",
        Outcome::GetFailed(_) => "get_failed",
        Outcome::InProgress => "in_progress",
        Outcome::WrongState { .. } => "wrong_state",
        Outcome::Failed(_) => "failed",
        Outcome::TimedOut => "timed_out",
        Outcome::EndedWithError(_) => "ended_with_error",
        Outcome::EndedInWrongState { .. } => "ended_in_wrong_state",
        Outcome::Interrupted { .. } => "interrupted",
    }
}

fn step_doc(s: &Step) -> StepDoc {
    let mut t = Text::default();
    lines::render(&mut t, s);
    let err = String::from_utf8_lossy(&t.of(Stream::Err)).to_string();
    // `force_flag` says it; the message is the step's own.
    let err = err.strip_prefix(lines::FORCE_NOT_PASSED).unwrap_or(&err).trim_end().to_string();
    let ret = s.ret();
    let wrong_id = match &s.outcome {
        Outcome::Refused(Refusal::WrongBuildId { hypervisor, .. }) => Some(hex(hypervisor)),
        _ => None,
    };
    let payload = s.payload.as_ref().map(|p| PayloadDoc {
        size: Some(p.size),
        xen_depends: Some(hex(&p.xen_depends)),
        build_id: p.build_id.as_deref().map(hex),
        hypervisor_build_id: wrong_id.clone(),
    });
    StepDoc {
        step: match s.kind {
            Kind::Upload => "upload",
            k => k.word(),
        },
        result: result_word(&s.outcome),
        message: (!err.is_empty()).then_some(err),
        errno: (ret > 0).then(|| errno_doc(ret)),
        before: s.before.map(status_doc),
        after: match s.after {
            After::Status(st) => Some(status_doc(st)),
            _ => None,
        },
        after_errno: match s.after {
            After::Error(e) => Some(errno_doc(e)),
            _ => None,
        },
        force_flag: s.force_flag.map(|sent| if sent { "sent" } else { "not_passed" }),
        polls: s.polls,
        elapsed_ns: nanos(s.elapsed),
        payload,
    }
}

/// One step's document (the `steps` items of the action schema), for
/// `ensure --json`.
pub fn step_value(s: &Step) -> Value {
    serde_json::to_value(step_doc(s)).unwrap_or_default()
}

fn text_and_base64(b: &[u8]) -> (String, Option<String>) {
    let utf8 = std::str::from_utf8(b).is_ok();
    (String::from_utf8_lossy(b).into_owned(), (!utf8).then(|| BASE64.encode(b)))
}

/// The document, pretty-printed, with a final newline.
pub fn render(asked: &Asked<'_>, source: &'static str, steps: &[Step], exit_status: u8) -> Vec<u8> {
    let (name, name_base64) = text_and_base64(asked.name);
    let (file, file_base64) = match asked.file.map(|f| text_and_base64(f.as_os_str().as_bytes())) {
        Some((f, b)) => (Some(f), b),
        None => (None, None),
    };
    let doc = Document {
        command: asked.command,
        source,
        name,
        name_base64,
        file,
        file_base64,
        nodeps: asked.nodeps,
        force: asked.force,
        wait_ns: asked.wait.map(nanos),
        ok: exit_status == 0,
        exit_status,
        interrupted: steps.iter().find_map(Step::interrupted).map(crate::interrupt::name),
        elapsed_ns: steps.iter().map(|s| nanos(s.elapsed)).sum(),
        steps: steps.iter().map(step_doc).collect(),
    };
    // Plain structs with string keys: serializing cannot fail.
    let mut out = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::PayloadFacts;
    use xc_livepatch::Action;

    fn doc(steps: &[Step], exit: u8) -> Value {
        let asked = Asked {
            command: "load",
            name: b"lp-\xff",
            file: Some(Path::new("x/lp-é.livepatch")),
            nodeps: true,
            force: false,
            wait: Some(Duration::from_secs(5)),
        };
        serde_json::from_slice(&render(&asked, "simulator", steps, exit)).unwrap()
    }

    #[test]
    fn a_completed_apply_has_states_before_and_after() {
        let mut s = Step::new(Kind::Act(Action::Apply), b"lp");
        s.before = Some(Status { state: State::Checked, rc: 0 });
        s.after = After::Status(Status { state: State::Applied, rc: 0 });
        s.polls = 3;
        s.elapsed = Duration::from_millis(2);
        let d = doc(&[s], 0);
        assert_eq!(d["ok"], true);
        assert_eq!(d["wait_ns"], 5_000_000_000u64);
        assert_eq!(d["name"], "lp-\u{fffd}");
        assert_eq!(d["name_base64"], "bHAt/w==");
        assert_eq!(d["file"], "x/lp-\u{e9}.livepatch");
        assert!(d.get("file_base64").is_none());
        let st = &d["steps"][0];
        assert_eq!((st["step"].as_str(), st["result"].as_str()), (Some("apply"), Some("completed")));
        assert_eq!((st["before"]["state"].as_str(), st["after"]["state"].as_str()), (Some("CHECKED"), Some("APPLIED")));
        assert_eq!((st["polls"].as_u64(), st["elapsed_ns"].as_u64()), (Some(3), Some(2_000_000)));
        assert_eq!(st["message"], Value::Null);
        assert_eq!(st["errno"], Value::Null);
    }

    #[test]
    fn an_action_ending_in_ebusy_names_the_errno() {
        let mut s = Step::new(Kind::Act(Action::Apply), b"lp");
        s.after = After::Status(Status { state: State::Checked, rc: -libc::EBUSY });
        s.outcome = Outcome::EndedWithError(libc::EBUSY);
        let d = doc(&[s], 2);
        let st = &d["steps"][0];
        assert_eq!(st["errno"]["name"], "EBUSY");
        assert_eq!(st["errno"]["text"], "Device or resource busy");
        assert_eq!(st["after"]["rc_text"], "Device or resource busy");
        assert_eq!(st["message"], "Error 16: Device or resource busy");
        assert_eq!((d["ok"].clone(), d["exit_status"].clone()), (Value::from(false), Value::from(2)));
    }

    #[test]
    fn a_wrong_build_id_gives_both_ids() {
        let mut s = Step::new(Kind::Upload, b"lp");
        s.payload = Some(PayloadFacts { size: 900, xen_depends: vec![0xab; 20], build_id: Some(vec![1, 2]) });
        s.outcome = Outcome::Refused(Refusal::WrongBuildId { payload: vec![0xab; 20], hypervisor: vec![0x5e; 20] });
        let d = doc(&[s], 1);
        let p = &d["steps"][0]["payload"];
        assert_eq!(p["xen_depends"], "ab".repeat(20));
        assert_eq!(p["hypervisor_build_id"], "5e".repeat(20));
        assert_eq!(p["build_id"], "0102");
        assert_eq!(d["steps"][0]["result"], "refused");
    }
}
