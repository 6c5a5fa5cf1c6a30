//! What one managing step did, as data: an upload or an action, what was
//! asked, what the hypervisor said before and after, how it ended, and how
//! long it took. [`crate::lines`] renders it as xen-livepatch's lines,
//! [`crate::report`] as JSON; neither talks to the hypervisor.

use std::path::PathBuf;
use std::time::Duration;
use xc_livepatch::{Action, Status};

/// `LIVEPATCH_STATE_CHECKED` and `LIVEPATCH_STATE_APPLIED`.
pub const CHECKED: u32 = 1;
/// See [`CHECKED`].
pub const APPLIED: u32 = 2;

/// The longest name Xen takes, without its NUL (`XEN_LIVEPATCH_NAME_SIZE - 1`).
pub const NAME_MAX: usize = 127;

/// The refusal of a name Xen would not take.
pub fn name_refusal(name: &[u8]) -> Option<Outcome> {
    (name.len() > NAME_MAX).then_some(Outcome::Refused(Refusal::NameTooLong(name.len())))
}

/// What was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UPLOAD a file.
    Upload,
    /// One of the four actions.
    Act(Action),
}

impl Kind {
    /// The subcommand's word: `upload`, `apply`, `revert`, `unload`, `replace`.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Upload => "upload",
            Kind::Act(Action::Apply) => "apply",
            Kind::Act(Action::Revert) => "revert",
            Kind::Act(Action::Unload) => "unload",
            Kind::Act(Action::Replace) => "replace",
        }
    }
}

/// Why the command refused before asking the hypervisor anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The name is longer than the 127 bytes Xen takes.
    NameTooLong(usize),
    /// The file could not be opened or its status read (where xen-livepatch
    /// says `Could not open FILE.` and `Error N: text`).
    Open(i32),
    /// Reading the file failed.
    Read(i32),
    /// Not a regular file: a directory, a FIFO...
    NotRegular(&'static str),
    /// Larger than the hypervisor (or the 32-bit size field) accepts.
    TooLarge {
        /// The file's size.
        size: u64,
        /// The largest size accepted.
        limit: u64,
        /// Whose limit it is.
        whose: &'static str,
    },
    /// Not an ELF live patch for this hypervisor: why.
    NotLivePatch(String),
    /// Made for another hypervisor build.
    WrongBuildId {
        /// The payload's `.livepatch.xen_depends`.
        payload: Vec<u8>,
        /// The running hypervisor's.
        hypervisor: Vec<u8>,
    },
    /// The running hypervisor's build id could not be read (errno).
    BuildIdUnknown(i32),
}

/// How a step ended. The action outcomes follow xen-livepatch's
/// `action_func` branch by branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: uploaded, or the payload reached the state asked for.
    Completed,
    /// The payload was already in the state asked for.
    NoActionNeeded,
    /// Refused before the hypervisor was asked.
    Refused(Refusal),
    /// The first GET failed with this errno.
    GetFailed(i32),
    /// An action on the payload is still scheduled: its rc was -EAGAIN and
    /// Xen answered the action with EBUSY.
    InProgress,
    /// The payload's state does not allow the action.
    WrongState {
        /// Its state.
        state: u32,
    },
    /// The hypervisor refused the UPLOAD or ACTION call with this errno.
    Failed(i32),
    /// Still pending (rc -EAGAIN) when the wait ran out.
    TimedOut,
    /// The action ended with this errno (the payload's rc, or the GET's).
    EndedWithError(i32),
    /// The action ended without error in another state than expected.
    EndedInWrongState {
        /// The state it ended in.
        state: u32,
    },
    /// SIGINT or SIGTERM came ([`crate::interrupt`]): while waiting for the
    /// action (`sent`), or before the step was asked for.
    Interrupted {
        /// The signal's number.
        signal: i32,
        /// Whether the hypervisor had been asked (the action may still
        /// finish there).
        sent: bool,
    },
}

/// Told when a step asks the hypervisor (an upload, or an action it then
/// waits for) and when it has ended, so that each step's lines are written
/// as they become known, as xen-livepatch writes them.
pub trait Observer {
    /// The step is about to ask (or, for a payload with rc -EAGAIN, has
    /// just asked) the hypervisor: its leading text is due.
    fn started(&mut self, step: &Step);
    /// The step has ended (its outcome is set).
    fn ended(&mut self, step: &Step);
}

/// An observer that does nothing (the JSON document is written at the end).
pub struct Silent;

impl Observer for Silent {
    fn started(&mut self, _: &Step) {}
    fn ended(&mut self, _: &Step) {}
}

/// The last thing a GET said after the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Not asked (the step ended before the action).
    NotAsked,
    /// The payload's status.
    Status(Status),
    /// GET failed with this errno (ENOENT: the payload is gone).
    Error(i32),
}

/// One step's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What was asked.
    pub kind: Kind,
    /// The payload's name.
    pub name: Vec<u8>,
    /// The file uploaded (as given on the command line).
    pub file: Option<PathBuf>,
    /// Whether `--nodeps` was given (apply).
    pub nodeps: bool,
    /// The payload's status before the action (GET), if read.
    pub before: Option<Status>,
    /// What GET said after the action.
    pub after: After,
    /// How it ended.
    pub outcome: Outcome,
    /// GET calls made after the action.
    pub polls: u32,
    /// Wall-clock time of the whole step.
    pub elapsed: Duration,
    /// What the file's ELF said (upload).
    pub payload: Option<PayloadFacts>,
    /// With `--force` (upload): whether `LIVEPATCH_FLAG_FORCE` was sent
    /// (false: the hypervisor, before Xen 4.19, cannot take it).
    pub force_flag: Option<bool>,
}

/// What an uploaded file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFacts {
    /// Its size in bytes.
    pub size: u64,
    /// Its `.livepatch.xen_depends` build id.
    pub xen_depends: Vec<u8>,
    /// Its own `.note.gnu.build-id`, if it has one.
    pub build_id: Option<Vec<u8>>,
}

impl Step {
    /// A step of `kind` on `name` that has not started.
    pub fn new(kind: Kind, name: &[u8]) -> Step {
        Step {
            kind,
            name: name.to_vec(),
            file: None,
            nodeps: false,
            before: None,
            after: After::NotAsked,
            outcome: Outcome::Completed,
            polls: 0,
            elapsed: Duration::ZERO,
            payload: None,
            force_flag: None,
        }
    }

    /// What xen-livepatch's function would return for this step: 0, an
    /// errno, or -1 for a payload in the wrong state.
    pub fn ret(&self) -> i32 {
        match &self.outcome {
            Outcome::Completed | Outcome::NoActionNeeded => 0,
            Outcome::Refused(Refusal::Open(e) | Refusal::Read(e)) => *e,
            Outcome::Refused(Refusal::BuildIdUnknown(_)) => -1,
            Outcome::Refused(_) => libc::EINVAL,
            Outcome::GetFailed(e) | Outcome::Failed(e) | Outcome::EndedWithError(e) => *e,
            Outcome::InProgress | Outcome::TimedOut => libc::EAGAIN,
            Outcome::WrongState { .. } | Outcome::EndedInWrongState { .. } => -1,
            Outcome::Interrupted { .. } => libc::EINTR,
        }
    }

    /// Whether the step ended as asked.
    pub fn ok(&self) -> bool {
        self.ret() == 0
    }

    /// The signal that stopped the step, if one did.
    pub fn interrupted(&self) -> Option<i32> {
        match self.outcome {
            Outcome::Interrupted { signal, .. } => Some(signal),
            _ => None,
        }
    }
}

/// xen-livepatch's `main`: 0 stays 0, EAGAIN and EBUSY (try again) are 2,
/// anything else 1.
pub fn exit_status(ret: i32) -> u8 {
    match ret {
        0 => 0,
        libc::EAGAIN | libc::EBUSY => 2,
        _ => 1,
    }
}

/// The states an action may start from (xen-livepatch's `allow`, a mask).
pub fn allowed_from(action: Action) -> u32 {
    match action {
        Action::Revert => APPLIED,
        Action::Apply | Action::Unload | Action::Replace => CHECKED,
    }
}

/// The state an action ends in (xen-livepatch's `expected`): unload's is
/// `-ENOENT`, what GET answers once the payload is gone.
pub fn expected_after(action: Action) -> i32 {
    match action {
        Action::Revert => CHECKED as i32,
        Action::Apply | Action::Replace => APPLIED as i32,
        Action::Unload => -libc::ENOENT,
    }
}

/// xen-livepatch's `state2str`: CHECKED, APPLIED, or `unknown`.
pub fn state_name(state: u32) -> &'static str {
    match state {
        CHECKED => "CHECKED",
        APPLIED => "APPLIED",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_is_xen_livepatchs_mapping() {
        assert_eq!(exit_status(0), 0);
        assert_eq!(exit_status(libc::EAGAIN), 2);
        assert_eq!(exit_status(libc::EBUSY), 2);
        assert_eq!(exit_status(-1), 1);
        assert_eq!(exit_status(libc::EINVAL), 1);
        assert_eq!(exit_status(libc::ENOENT), 1);
    }

    #[test]
    fn names_of_127_bytes_pass_and_128_are_refused() {
        assert_eq!(name_refusal(&[b'a'; 127]), None);
        assert_eq!(name_refusal(&[b'a'; 128]), Some(Outcome::Refused(Refusal::NameTooLong(128))));
    }

    #[test]
    fn unknown_states_print_as_unknown() {
        assert_eq!(state_name(0), "unknown");
        assert_eq!(state_name(3), "unknown");
        assert_eq!(state_name(-libc::ENOENT as u32), "unknown");
        assert_eq!(state_name(2), "APPLIED");
    }
}
