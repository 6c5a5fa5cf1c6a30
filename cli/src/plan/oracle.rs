//! An independent judge of the planner: a breadth-first search for the
//! shortest sequence of calls Xen accepts (on the model, knowing all it
//! hides) that meets a target, within ensure's rules: it uploads only target
//! files, applies (or, with `--replace`, replaces) only target payloads,
//! reverts only target, `--absent` (or, with `--replace`, any) payloads, and
//! unloads only what the target lets go (`--absent`, `--prune`, a target
//! name to upload again, another file's only with `--reload`).

use super::model::Xen;
use super::{Step, Target};
use crate::step::{APPLIED, CHECKED};
use std::collections::{HashSet, VecDeque};

/// The moves the rules allow from `x`.
fn moves(x: &Xen, t: &Target) -> Vec<Step> {
    let in_stack = |n: &[u8]| t.stack.iter().find(|f| f.name == n);
    let absent = |n: &[u8]| t.absent.iter().any(|a| a == n);
    let mut out = Vec::new();
    for (index, f) in t.stack.iter().enumerate() {
        if x.get(&f.name).is_none() {
            out.push(Step::Upload { index });
        }
    }
    for p in &x.payloads {
        let n = p.file.name.clone();
        let target_file = in_stack(&n);
        if p.state == APPLIED && (t.replace || target_file.is_some() || absent(&n)) {
            out.push(Step::Revert { name: n.clone() });
        }
        if p.state != CHECKED {
            continue;
        }
        match target_file {
            Some(_) if t.replace => out.push(Step::Replace { name: n.clone() }),
            Some(_) => out.push(Step::Apply { name: n.clone() }),
            None => {}
        }
        let unload = match target_file {
            Some(f) => f.modinfo == p.file.modinfo || t.reload,
            None => absent(&n) || t.prune,
        };
        if unload {
            out.push(Step::Unload { name: n });
        }
    }
    out
}

/// The fewest steps from `x` to `t`, if at most `limit`. `conservative`:
/// every CHECKED payload counts as reverted (what ensure must assume) and a
/// reverted payload not safe to re-apply is not replaced either.
pub fn shortest(x: &Xen, t: &Target, conservative: bool, limit: usize) -> Option<usize> {
    let mut start = x.clone();
    if conservative {
        for p in start.payloads.iter_mut().filter(|p| p.state == CHECKED) {
            p.reverted = true;
        }
    }
    let mut seen = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([(start, 0)]);
    while let Some((x, depth)) = queue.pop_front() {
        if x.meets(t).is_ok() {
            return Some(depth);
        }
        if depth == limit {
            continue;
        }
        for m in moves(&x, t) {
            if let Step::Replace { name } = &m {
                let p = x.get(name).expect("a move names a loaded payload");
                if conservative && p.reverted && !p.file.safe_to_reapply {
                    continue;
                }
            }
            let mut y = x.clone();
            if y.run(&m, t).is_ok() && seen.insert(y.clone()) {
                queue.push_back((y, depth + 1));
            }
        }
    }
    None
}
