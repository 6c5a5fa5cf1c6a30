//! PLACEHOLDER (helper "ensure"): a minimal planner with the interface of
//! PLAN-API.md, so that the `ensure` glue compiles and runs before helper
//! "plan"'s planner lands; replaced by it on merge. Pure: no I/O.

use std::fmt;

/// A payload file, as its ELF says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFile {
    pub name: Vec<u8>,
    pub build_id: Option<Vec<u8>>,
    pub depends: Option<Vec<u8>>,
    pub xen_depends: Vec<u8>,
    pub vetoing_hooks: bool,
    pub safe_to_reapply: bool,
    pub modinfo: Vec<u8>,
}

/// One loaded payload as LIST shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub name: Vec<u8>,
    pub state: u32,
    pub rc: i32,
    pub metadata: Vec<u8>,
}

/// What was observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub hypervisor_build_id: Vec<u8>,
    pub loaded: Vec<Loaded>,
}

/// What must hold afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub stack: Vec<PayloadFile>,
    pub replace: bool,
    pub absent: Vec<Vec<u8>>,
    pub prune: bool,
    pub reload: bool,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Upload { index: usize },
    Apply { name: Vec<u8> },
    Revert { name: Vec<u8> },
    Replace { name: Vec<u8> },
    Unload { name: Vec<u8> },
}

/// The steps, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

/// Why the target is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    MetadataDiffers { name: Vec<u8> },
    Unsupported(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::MetadataDiffers { name } => {
                write!(
                    f,
                    "{} is loaded with other metadata than its file's (give --reload)",
                    String::from_utf8_lossy(name)
                )
            }
            Refusal::Unsupported(s) => f.write_str(s),
        }
    }
}

const CHECKED: u32 = 1;
const APPLIED: u32 = 2;

/// The plan from `observed` to `target`.
pub fn plan(observed: &Observed, target: &Target) -> Result<Plan, Refusal> {
    let find = |n: &[u8]| observed.loaded.iter().find(|l| l.name == n);
    let mut steps = Vec::new();
    for p in &target.stack {
        if let Some(l) = find(&p.name) {
            if l.metadata != p.modinfo {
                return Err(Refusal::MetadataDiffers { name: p.name.clone() });
            }
        }
    }
    if target.replace {
        let p = &target.stack[0];
        let others_applied = observed.loaded.iter().any(|l| l.state == APPLIED && l.name != p.name);
        match find(&p.name) {
            None => {
                steps.push(Step::Upload { index: 0 });
                steps.push(Step::Replace { name: p.name.clone() });
            }
            Some(l) if l.state == CHECKED || others_applied => steps.push(Step::Replace { name: p.name.clone() }),
            Some(_) => {}
        }
        if target.prune {
            for l in &observed.loaded {
                if l.name != p.name && !target.absent.contains(&l.name) {
                    steps.push(Step::Unload { name: l.name.clone() });
                }
            }
        }
    } else {
        for (i, p) in target.stack.iter().enumerate() {
            match find(&p.name) {
                None => {
                    steps.push(Step::Upload { index: i });
                    steps.push(Step::Apply { name: p.name.clone() });
                }
                Some(l) if l.state == CHECKED => steps.push(Step::Apply { name: p.name.clone() }),
                Some(_) => {}
            }
        }
        if target.prune {
            for l in &observed.loaded {
                let wanted = target.stack.iter().any(|p| p.name == l.name);
                if l.state == CHECKED && !wanted && !target.absent.contains(&l.name) {
                    steps.push(Step::Unload { name: l.name.clone() });
                }
            }
        }
    }
    for n in &target.absent {
        if let Some(l) = find(n) {
            if l.state == APPLIED && !target.replace {
                steps.push(Step::Revert { name: n.clone() });
            }
            steps.push(Step::Unload { name: n.clone() });
        }
    }
    Ok(Plan { steps })
}
