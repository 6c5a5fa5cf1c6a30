//! Why a target is refused before any step, as data, and its one line.

use std::fmt;

/// Why Xen (or ensure's rules, see [`crate::plan`]) would refuse the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A name Xen cannot take (`why`: empty, too long, holds a NUL).
    BadName { name: Vec<u8>, why: &'static str },
    /// A name given twice in the stack.
    DuplicateName { name: Vec<u8> },
    /// Two files with one build id (Xen refuses the second upload, EEXIST).
    DuplicateBuildId { first: Vec<u8>, second: Vec<u8>, build_id: Vec<u8> },
    /// A name both in the stack and `--absent`.
    AbsentInStack { name: Vec<u8> },
    /// `--replace` with a stack of other than one file.
    ReplaceNeedsOne { count: usize },
    /// A file without a note Xen requires.
    MissingNote { name: Vec<u8>, note: &'static str },
    /// `.livepatch.xen_depends` is not the running hypervisor's build id.
    WrongHypervisor { name: Vec<u8>, xen_depends: Vec<u8>, hypervisor: Vec<u8> },
    /// `.livepatch.depends` is not the build id of what is below it
    /// (`below`: the file before it, or None for the hypervisor).
    BrokenChain { name: Vec<u8>, depends: Vec<u8>, below: Option<Vec<u8>>, expected: Vec<u8> },
    /// REPLACE of a payload with vetoing hooks (Xen: EOPNOTSUPP).
    VetoingHooks { name: Vec<u8> },
    /// An action is pending (rc -EAGAIN): try again later.
    Pending { name: Vec<u8> },
    /// LIST shows a state other than CHECKED and APPLIED.
    UnexpectedState { name: Vec<u8>, state: u32 },
    /// LIST shows a name twice.
    ListedTwice { name: Vec<u8> },
    /// The loaded payload of a target name is another file (no `--reload`).
    MetadataDiffers { name: Vec<u8>, loaded: Vec<u8>, file: Vec<u8> },
    /// A target payload is applied, but not on the one below it in the stack
    /// (`below` None: not at the bottom).
    OutOfOrder { name: Vec<u8>, below: Option<Vec<u8>> },
    /// Applying `for_` needs `name` reverted, which is not in the target.
    WouldRevert { name: Vec<u8>, for_: Vec<u8> },
    /// `revert` must be reverted, but these applied payloads' order is unknown.
    UnknownOrder { applied: Vec<Vec<u8>>, revert: Vec<u8> },
}

impl Refusal {
    /// True when the same target may succeed later (exit 2, as EAGAIN/EBUSY).
    pub fn is_retry_later(&self) -> bool {
        matches!(self, Refusal::Pending { .. })
    }
}

/// Bytes as text: printable ASCII as is, `\` and anything else as `\xNN`.
pub(crate) fn show(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(none)".to_string();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn names(list: &[Vec<u8>]) -> String {
    list.iter().map(|n| show(n)).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Refusal::*;
        match self {
            BadName { name, why } => write!(f, "name '{}': {why} (Xen takes 1 to 127 bytes, no NUL)", show(name)),
            DuplicateName { name } => write!(f, "'{}' is given twice", show(name)),
            DuplicateBuildId { first, second, build_id } => write!(
                f,
                "'{}' and '{}' have the same build id {} (Xen refuses the second upload: EEXIST)",
                show(first),
                show(second),
                hex(build_id)
            ),
            AbsentInStack { name } => write!(f, "'{}' is both in the stack and --absent", show(name)),
            ReplaceNeedsOne { count } => {
                write!(f, "--replace takes one cumulative payload, not {count}")
            }
            MissingNote { name, note } => {
                write!(f, "'{}' has no {note} (Xen refuses the upload: EINVAL)", show(name))
            }
            WrongHypervisor { name, xen_depends, hypervisor } => write!(
                f,
                "'{}' is made for hypervisor build {}, not the running {} (Xen refuses the upload: EINVAL)",
                show(name),
                hex(xen_depends),
                hex(hypervisor)
            ),
            BrokenChain { name, depends, below, expected } => {
                let on = match below {
                    None => "the hypervisor".to_string(),
                    Some(b) => format!("'{}'", show(b)),
                };
                write!(
                    f,
                    "'{}' stacks on build id {}, not on {on} ({}): the depends chain does not hold",
                    show(name),
                    hex(depends),
                    hex(expected)
                )
            }
            VetoingHooks { name } => write!(
                f,
                "'{}' has vetoing hooks (pre/post apply/revert): Xen refuses REPLACE with it (EOPNOTSUPP)",
                show(name)
            ),
            Pending { name } => write!(f, "an action on '{}' is still pending (rc -EAGAIN): try again later", show(name)),
            UnexpectedState { name, state } => write!(f, "'{}' is in unexpected state {state}", show(name)),
            ListedTwice { name } => write!(f, "the hypervisor lists '{}' twice", show(name)),
            MetadataDiffers { name, loaded, file } => write!(
                f,
                "'{}' is loaded with metadata '{}', its file has '{}': another payload of that name (--reload unloads it and uploads the file)",
                show(name),
                show(loaded),
                show(file)
            ),
            OutOfOrder { name, below } => {
                let on = below.as_ref().map_or("the hypervisor".to_string(), |b| format!("'{}'", show(b)));
                write!(f, "'{}' is applied, but not on {on} (applied with --nodeps?): revert it first", show(name))
            }
            WouldRevert { name, for_ } => write!(
                f,
                "applying '{}' needs '{}' reverted, which is not in the target (name it in the stack or --absent, or use --replace)",
                show(for_),
                show(name)
            ),
            UnknownOrder { applied, revert } => write!(
                f,
                "'{}' must be reverted, but the applied order of {} is unknown (LIST does not show it; only the top can be reverted)",
                show(revert),
                names(applied)
            ),
        }
    }
}
