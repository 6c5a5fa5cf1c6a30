//! Managing live patches: UPLOAD, GET (one payload's status) and ACTION
//! (apply, revert, unload, replace), generic over [`Hypervisor`].
//!
//! Each operation is one `XEN_SYSCTL_livepatch_op` in one hypercall buffer
//! laid out as `[xen_sysctl][name][payload]`: the name (with its NUL) and, for
//! an upload, the payload are copied into it once, and the request is sent
//! with the probed sysctl interface version, so the same code serves Xen 4.14
//! to 4.22 (the four layouts are identical; xen-facts §9). The reply is
//! checked (each of these calls returns 0 or an error; anything else is
//! refused) and only then is anything handed back.
//!
//! Actions return once Xen has scheduled them: APPLY, REVERT and REPLACE run
//! later on all CPUs, and the payload's `rc` reads `-EAGAIN` until they have.
//! Waiting for that is the caller's job ([`status`]).

use crate::abi::{
    XEN_SYSCTL_livepatch_op, LIVEPATCH_ACTION_APPLY, LIVEPATCH_ACTION_APPLY_NODEPS, LIVEPATCH_ACTION_REPLACE,
    LIVEPATCH_ACTION_REVERT, LIVEPATCH_ACTION_UNLOAD, LIVEPATCH_FLAG_FORCE, XEN_LIVEPATCH_NAME_SIZE,
    XEN_SYSCTL_LIVEPATCH_ACTION, XEN_SYSCTL_LIVEPATCH_GET, XEN_SYSCTL_LIVEPATCH_UPLOAD,
};
use crate::error::{Error, Result};
use crate::state::State;
use crate::sysctl::{self, at, Buffer, Hypervisor, SYSCTL_SIZE};

/// Where the name goes in the call's buffer: right after the sysctl.
const NAME_AT: usize = SYSCTL_SIZE;
/// Where an upload's payload goes: after the longest name.
const PAYLOAD_AT: usize = NAME_AT + XEN_LIVEPATCH_NAME_SIZE as usize;

/// The hypervisor's default for an action's timeout when 0 is given: 30 ms.
pub const DEFAULT_TIMEOUT_NS: u32 = 30_000_000;

/// What to do with a loaded payload (`LIVEPATCH_ACTION_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Remove a CHECKED payload from the hypervisor (synchronous).
    Unload,
    /// Undo the last applied payload.
    Revert,
    /// Apply a CHECKED payload.
    Apply,
    /// Revert every applied payload and apply this one, atomically.
    Replace,
}

impl Action {
    /// The `LIVEPATCH_ACTION_*` number.
    pub fn raw(self) -> u32 {
        match self {
            Action::Unload => LIVEPATCH_ACTION_UNLOAD,
            Action::Revert => LIVEPATCH_ACTION_REVERT,
            Action::Apply => LIVEPATCH_ACTION_APPLY,
            Action::Replace => LIVEPATCH_ACTION_REPLACE,
        }
    }

    /// The state a payload is in once the action has completed (`None` for
    /// an unload: the payload is gone).
    pub fn goal(self) -> Option<State> {
        match self {
            Action::Unload => None,
            Action::Revert => Some(State::Checked),
            Action::Apply | Action::Replace => Some(State::Applied),
        }
    }
}

/// How an action is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActionOptions {
    /// How long Xen waits for every CPU to join the patching, in
    /// nanoseconds (0: its default, [`DEFAULT_TIMEOUT_NS`]). Past it the
    /// action ends with `rc = -EBUSY`.
    pub timeout_ns: u32,
    /// Apply without checking `.livepatch.depends` against the payload below
    /// (`LIVEPATCH_ACTION_APPLY_NODEPS`).
    pub nodeps: bool,
}

impl ActionOptions {
    /// The `flags` word sent to Xen.
    pub fn flags(self) -> u32 {
        if self.nodeps {
            LIVEPATCH_ACTION_APPLY_NODEPS
        } else {
            0
        }
    }
}

/// One payload's state and the result of its last action, as GET reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// CHECKED, APPLIED (or whatever else the hypervisor said).
    pub state: State,
    /// 0, `-EAGAIN` while an action is pending, or the last action's error
    /// as a negative errno.
    pub rc: i32,
}

/// A payload name as Xen takes it: at most 127 bytes, no NUL among them (the
/// NUL that ends it on the wire is added here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name<'a>(&'a [u8]);

impl<'a> Name<'a> {
    /// Checks `bytes` (without a terminating NUL): EINVAL when longer than
    /// 127 bytes or holding a NUL. An empty name is passed on, as libxenctrl
    /// does; Xen decides about it.
    pub fn new(bytes: &'a [u8]) -> Result<Name<'a>> {
        if bytes.len() >= XEN_LIVEPATCH_NAME_SIZE as usize {
            return Err(Error::InvalidArgument("name longer than 127 bytes"));
        }
        if bytes.contains(&0) {
            return Err(Error::InvalidArgument("name contains a NUL byte"));
        }
        Ok(Name(bytes))
    }

    /// The name's bytes (without the NUL).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// `strlen + 1`, as `struct xen_livepatch_name.size` carries it.
    fn wire_size(&self) -> u16 {
        // At most 128 by construction.
        (self.0.len() + 1) as u16
    }
}

/// Writes `name` and its NUL at [`NAME_AT`] in `buf`.
fn put_name(buf: &mut impl Buffer, name: Name<'_>) {
    let b = buf.as_mut_slice();
    b[NAME_AT..NAME_AT + name.0.len()].copy_from_slice(name.0);
    b[NAME_AT + name.0.len()] = 0;
}

/// The 136 bytes of a request that starts with a `struct xen_livepatch_name`
/// (UPLOAD, GET, ACTION): the sysctl and op headers and the name, every other
/// byte zero (the name's and the op's pads included). `fields` adds the rest.
fn request(buf: &mut impl Buffer, iface: u32, op: u32, name: Name<'_>, fields: &[(usize, &[u8])]) {
    let name_addr = buf.as_mut_ptr() as u64 + NAME_AT as u64;
    let mut b = [0u8; SYSCTL_SIZE];
    for (off, bytes) in [
        (at::CMD, &XEN_SYSCTL_livepatch_op.to_ne_bytes()[..]),
        (at::IFACE, &iface.to_ne_bytes()[..]),
        (at::OP_CMD, &op.to_ne_bytes()[..]),
        (at::NAME_HANDLE, &name_addr.to_ne_bytes()[..]),
        (at::NAME_SIZE, &name.wire_size().to_ne_bytes()[..]),
    ]
    .into_iter()
    .chain(fields.iter().copied())
    {
        b[off..off + bytes.len()].copy_from_slice(bytes);
    }
    buf.as_mut_slice()[..SYSCTL_SIZE].copy_from_slice(&b);
}

/// Each management call returns 0 on success; any other value contradicts
/// Xen's interface.
fn expect_zero(r: i64) -> Result<()> {
    match r {
        0 => Ok(()),
        _ => Err(Error::Overflow("a management call returned a value other than 0")),
    }
}

/// Uploads `payload` (an ELF live patch) as `name`. On success Xen holds it
/// CHECKED; the list's version changes.
///
/// Errors: EINVAL for a name longer than 127 bytes or with a NUL, or a
/// payload of 4 GiB or more (the C interface's limit; Xen's own is 2 MiB in
/// 4.17 and answers EINVAL above it too), otherwise the hypervisor's: EEXIST
/// (a payload of that name or build id is loaded), EINVAL (not a valid live
/// patch for this hypervisor), ENOMEM, EPERM/EACCES.
pub fn upload<H: Hypervisor>(hv: &H, name: &[u8], payload: &[u8]) -> Result<()> {
    upload_with(hv, name, payload, false)
}

/// [`upload`], with `force` sent to Xen as `LIVEPATCH_FLAG_FORCE` in the op's
/// flags word (Xen 4.19+: the upload then skips some of the hypervisor's
/// checks). A hypervisor before 4.19 answers EINVAL to any flag; this is
/// passed back as it comes, as libxenctrl 4.20 does.
pub fn upload_with<H: Hypervisor>(hv: &H, name: &[u8], payload: &[u8], force: bool) -> Result<()> {
    let name = Name::new(name)?;
    let size = u32::try_from(payload.len()).map_err(|_| Error::InvalidArgument("payload of 4 GiB or more"))?;
    let flags = if force { LIVEPATCH_FLAG_FORCE } else { 0 };
    let mut buf = hv.alloc(PAYLOAD_AT + payload.len())?;
    put_name(&mut buf, name);
    buf.as_mut_slice()[PAYLOAD_AT..PAYLOAD_AT + payload.len()].copy_from_slice(payload);
    let payload_addr = buf.as_mut_ptr() as u64 + PAYLOAD_AT as u64;
    let r = sysctl::issue(hv, &mut buf, |b, iface| {
        let fields: [(usize, &[u8]); 3] = [
            (at::OP_PAD, &flags.to_ne_bytes()),
            (at::UPLOAD_SIZE, &u64::from(size).to_ne_bytes()),
            (at::UPLOAD_PAYLOAD, &payload_addr.to_ne_bytes()),
        ];
        request(b, iface, XEN_SYSCTL_LIVEPATCH_UPLOAD, name, &fields);
    })?;
    expect_zero(r)
}

/// The state of payload `name` and the result of its last action.
///
/// Errors: ENOENT when no payload has that name, EINVAL for a name longer
/// than 127 bytes or with a NUL, otherwise the hypervisor's.
pub fn status<H: Hypervisor>(hv: &H, name: &[u8]) -> Result<Status> {
    let name = Name::new(name)?;
    let mut buf = hv.alloc(NAME_AT + XEN_LIVEPATCH_NAME_SIZE as usize)?;
    put_name(&mut buf, name);
    let r = sysctl::issue(hv, &mut buf, |b, iface| request(b, iface, XEN_SYSCTL_LIVEPATCH_GET, name, &[]))?;
    expect_zero(r)?;
    let b = buf.as_slice();
    let word = |off: usize| [b[off], b[off + 1], b[off + 2], b[off + 3]];
    Ok(Status {
        state: State::from_raw(u32::from_ne_bytes(word(at::GET_STATE))),
        rc: i32::from_ne_bytes(word(at::GET_RC)),
    })
}

/// Asks Xen to carry out `action` on payload `name` with raw `flags` (what
/// the C interface passes through; [`ActionOptions::flags`] builds them).
/// Returns once Xen has scheduled it: see the module documentation.
///
/// Errors: ENOENT (no such payload), EBUSY (another action is still
/// scheduled, or a revert of a payload that is not the last applied),
/// EINVAL (the payload is in the wrong state for the action, or the name
/// is longer than 127 bytes or holds a NUL), EOPNOTSUPP (a replace refused
/// by a payload's hooks), otherwise the hypervisor's.
pub fn act_raw<H: Hypervisor>(hv: &H, name: &[u8], action: u32, timeout_ns: u32, flags: u32) -> Result<()> {
    let name = Name::new(name)?;
    let mut buf = hv.alloc(NAME_AT + XEN_LIVEPATCH_NAME_SIZE as usize)?;
    put_name(&mut buf, name);
    let r = sysctl::issue(hv, &mut buf, |b, iface| {
        let fields: [(usize, &[u8]); 3] = [
            (at::ACTION_CMD, &action.to_ne_bytes()),
            (at::ACTION_TIMEOUT, &timeout_ns.to_ne_bytes()),
            (at::ACTION_FLAGS, &flags.to_ne_bytes()),
        ];
        request(b, iface, XEN_SYSCTL_LIVEPATCH_ACTION, name, &fields);
    })?;
    expect_zero(r)
}

/// [`act_raw`] with a typed action and options.
pub fn act<H: Hypervisor>(hv: &H, name: &[u8], action: Action, options: ActionOptions) -> Result<()> {
    act_raw(hv, name, action.raw(), options.timeout_ns, options.flags())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_of_127_bytes_fits_and_128_does_not() {
        assert!(Name::new(&[b'a'; 127]).is_ok());
        assert_eq!(Name::new(&[b'a'; 128]), Err(Error::InvalidArgument("name longer than 127 bytes")));
        assert_eq!(Name::new(b"a\0b").unwrap_err().errno(), libc::EINVAL);
        assert_eq!(Name::new(b"").map(|n| n.wire_size()), Ok(1));
    }

    #[test]
    fn the_nodeps_option_is_xens_flag_bit() {
        assert_eq!(ActionOptions { nodeps: true, timeout_ns: 0 }.flags(), 1);
        assert_eq!(ActionOptions::default().flags(), 0);
    }

    #[test]
    fn action_numbers_are_xens() {
        let raws: Vec<u32> = [Action::Unload, Action::Revert, Action::Apply, Action::Replace].map(Action::raw).into();
        assert_eq!(raws, [1, 2, 3, 4]);
    }
}
