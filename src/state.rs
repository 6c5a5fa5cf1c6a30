//! A payload's state as Xen reports it (`LIVEPATCH_STATE_*`), shared by the
//! listing and by management.

use crate::abi::{LIVEPATCH_STATE_APPLIED, LIVEPATCH_STATE_CHECKED};

/// A payload's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Loaded and checked (1).
    Checked,
    /// Applied (2).
    Applied,
    /// Any other value the hypervisor reported.
    Unknown(u32),
}

impl State {
    /// From `LIVEPATCH_STATE_*`.
    pub fn from_raw(v: u32) -> State {
        match v {
            LIVEPATCH_STATE_CHECKED => State::Checked,
            LIVEPATCH_STATE_APPLIED => State::Applied,
            v => State::Unknown(v),
        }
    }

    /// The raw value.
    pub fn raw(self) -> u32 {
        match self {
            State::Checked => LIVEPATCH_STATE_CHECKED,
            State::Applied => LIVEPATCH_STATE_APPLIED,
            State::Unknown(v) => v,
        }
    }

    /// The word `xen-livepatch list` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Checked => "CHECKED",
            State::Applied => "APPLIED",
            State::Unknown(_) => "unknown",
        }
    }
}
