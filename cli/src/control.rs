//! What the managing subcommands ask of a hypervisor: one payload's status,
//! an upload, an action, and the hypervisor's build id. The real hypervisor
//! and the simulator ([`crate::source::Source`]) answer through the
//! library's safe API; the tests answer with small mocks.

use xc_livepatch::{Action, ActionOptions, Error, Status};

/// The hypervisor operations of `upload`, `load` and the four actions.
pub trait Control {
    /// The payload's state and the result of its last action (GET).
    fn status(&self, name: &[u8]) -> Result<Status, Error>;
    /// Uploads `payload` as `name` (UPLOAD), with `LIVEPATCH_FLAG_FORCE`
    /// when `force` (only for a hypervisor that [takes it](Self::takes_force)).
    fn upload(&self, name: &[u8], payload: &[u8], force: bool) -> Result<(), Error>;
    /// Whether the hypervisor takes `LIVEPATCH_FLAG_FORCE` (Xen 4.19+, by its
    /// version). One that cannot tell says no: the flag is then not sent.
    fn takes_force(&self) -> bool {
        false
    }
    /// Asks for `action` on `name` (ACTION); returns once it is scheduled.
    fn act(&self, name: &[u8], action: Action, options: ActionOptions) -> Result<(), Error>;
    /// The running hypervisor's build id (`XENVER_build_id`).
    fn build_id(&self) -> Result<Vec<u8>, Error>;
}
