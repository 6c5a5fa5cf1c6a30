//! What the managing subcommands ask of a hypervisor: one payload's status,
//! an upload, an action, and the hypervisor's build id. The real hypervisor
//! and the simulator ([`crate::source::Source`]) answer through the
//! library's safe API; the tests answer with small mocks.

use xc_livepatch::{Action, ActionOptions, Error, Status};

/// The hypervisor operations of `upload`, `load` and the four actions.
pub trait Control {
    /// The payload's state and the result of its last action (GET).
    fn status(&self, name: &[u8]) -> Result<Status, Error>;
    /// Uploads `payload` as `name` (UPLOAD).
    fn upload(&self, name: &[u8], payload: &[u8]) -> Result<(), Error>;
    /// Asks for `action` on `name` (ACTION); returns once it is scheduled.
    fn act(&self, name: &[u8], action: Action, options: ActionOptions) -> Result<(), Error>;
    /// The running hypervisor's build id (`XENVER_build_id`).
    fn build_id(&self) -> Result<Vec<u8>, Error>;
}
