//! The planner against the model of Xen's rules and the oracle's search, over
//! random real start states (reached by calls Xen accepts, so they include
//! reverted payloads, replaced ones left CHECKED, and rc values left by
//! refused applies) and random targets (mostly chains that hold, some not).
//!
//! For each case: a plan runs on the model with no step refused, reaches the
//! target, plans nothing again, and is as short as the oracle's shortest
//! under what ensure must assume; a refusal is one the oracle confirms
//! (no sequence of allowed calls reaches the target), or one of what LIST
//! cannot tell (an unknown applied order, a pending action) whose facts hold.

use super::model::Xen;
use super::oracle::shortest;
use super::table_tests::{file, run_plan};
use super::*;

use crate::test_rng::Rng;

/// Files of a few names in several versions, stacking in a small tree;
/// each one's hooks and re-apply safety drawn at random.
fn universe(rng: &mut Rng) -> Vec<PayloadFile> {
    let tree = [
        ("a", "A1", "H"),
        ("a", "A2", "H"),
        ("b", "B1", "A1"),
        ("b", "B2", "A2"),
        ("c", "C1", "B1"),
        ("x", "X1", "H"),
        ("x", "X2", "A1"),
        ("y", "Y1", "X1"),
        ("y", "Y2", "B1"),
        ("q", "Q1", "H"),
        ("q", "Q2", "H"),
    ];
    let mut files: Vec<PayloadFile> = tree.iter().map(|(n, id, dep)| file(n, id, dep)).collect();
    for f in &mut files {
        f.safe_to_reapply = !rng.one_in(3);
        f.vetoing_hooks = rng.one_in(5);
    }
    files
}

/// A start state: random calls, each kept only if Xen accepts it.
fn random_start(rng: &mut Rng, files: &[PayloadFile]) -> Xen {
    let mut x = Xen::new(b"H");
    if rng.one_in(3) {
        // A stack applied first, so that more states hold several applied.
        let len = 1 + rng.below(3);
        for f in chain(rng, files, len) {
            let _ = x.upload(&f).and_then(|_| x.apply(&f.name));
        }
    }
    for _ in 0..rng.below(16) {
        let name = match x.payloads.len() {
            0 => rng.pick(files).name.clone(),
            n => x.payloads[rng.below(n)].file.name.clone(),
        };
        let _ = match rng.below(7) {
            0 | 1 => x.upload(rng.pick(files)),
            2 | 6 => x.apply(&name),
            3 => x.revert(&name),
            4 => x.replace(&name),
            _ => x.unload(&name),
        };
    }
    if rng.one_in(40) && !x.payloads.is_empty() {
        let i = rng.below(x.payloads.len());
        x.payloads[i].rc = -libc::EAGAIN;
    }
    x
}

/// Up to `len` files, each stacking on the one before (the first on the
/// hypervisor); one in twelve picks a file at random instead.
fn chain(rng: &mut Rng, files: &[PayloadFile], len: usize) -> Vec<PayloadFile> {
    let (mut out, mut below) = (Vec::new(), b"H".to_vec());
    for _ in 0..len {
        let on: Vec<&PayloadFile> = files.iter().filter(|f| f.depends.as_ref() == Some(&below)).collect();
        let f = match on.is_empty() {
            _ if rng.one_in(12) => rng.pick(files),
            true => break,
            false => *rng.pick(&on),
        };
        below = f.build_id.clone().unwrap();
        out.push(f.clone());
    }
    out
}

/// A target: a chain from the hypervisor (sometimes broken), or one
/// cumulative payload; random --absent names, --prune, --reload.
fn random_target(rng: &mut Rng, files: &[PayloadFile]) -> Target {
    let mut t = Target { replace: rng.one_in(4), prune: rng.one_in(3), reload: rng.one_in(3), ..Target::default() };
    let len = if t.replace { 1 } else { rng.below(4) };
    t.stack = chain(rng, files, len);
    for n in ["a", "b", "x", "y", "q"] {
        if rng.one_in(6) && !t.stack.iter().any(|f| f.name == n.as_bytes()) {
            t.absent.push(n.as_bytes().to_vec());
        }
    }
    t
}

/// Tallies of what happened, to show the cases cover every kind.
#[derive(Default, Debug)]
struct Tally {
    planned: usize,
    /// REPLACE refused by Xen for hooks of an applied payload without a file.
    left_to_xen: usize,
    empty: usize,
    steps: usize,
    /// Planned steps by verb.
    verbs: std::collections::BTreeMap<&'static str, usize>,
    refused: std::collections::BTreeMap<String, usize>,
}

/// Whether the plan's REPLACE meets an applied payload with vetoing hooks
/// that has no file in the target (the documented limit): Xen must then
/// refuse it (EOPNOTSUPP) and change nothing.
fn vetoing_hooks_unknown(x: &Xen, t: &Target, p: &Plan) -> Result<bool, String> {
    let mut y = x.clone();
    for s in &p.steps {
        if let Step::Replace { .. } = s {
            if y.applied.iter().any(|n| y.get(n).is_some_and(|q| q.file.vetoing_hooks)) {
                let before = y.clone();
                return match y.run(s, t) {
                    Err(super::model::Fail::Errno(libc::EOPNOTSUPP)) if y == before => Ok(true),
                    other => Err(format!("REPLACE over vetoing hooks: {other:?}")),
                };
            }
        }
        y.run(s, t).map_err(|e| format!("{s:?} refused by Xen: {e:?}"))?;
    }
    Ok(false)
}

/// One case: the checks in the module's docs. Err says what failed.
fn one_case(x: &Xen, t: &Target, tally: &mut Tally) -> Result<(), String> {
    match plan(&x.observe(), t) {
        Ok(p) if vetoing_hooks_unknown(x, t, &p)? => tally.left_to_xen += 1,
        Ok(p) => {
            run_plan(x, t, &p)?;
            let best = shortest(x, t, true, p.steps.len()).ok_or("the oracle finds no way, the plan does")?;
            if best != p.steps.len() {
                return Err(format!("plan of {} steps, the oracle's takes {best}: {p:?}", p.steps.len()));
            }
            tally.planned += 1;
            tally.empty += p.is_empty() as usize;
            tally.steps += p.steps.len();
            for s in &p.steps {
                *tally.verbs.entry(s.verb()).or_default() += 1;
            }
        }
        Err(r) => {
            let kind = format!("{r:?}").split([' ', '{']).next().unwrap_or_default().to_string();
            match &r {
                Refusal::Pending { name } if x.get(name).is_some_and(|p| p.rc == -libc::EAGAIN) => {}
                Refusal::UnknownOrder { applied, .. }
                    if applied.len() > 1 && applied.iter().all(|n| x.get(n).is_some_and(|p| p.state == APPLIED)) => {}
                Refusal::Pending { .. } | Refusal::UnknownOrder { .. } | Refusal::OutOfOrder { .. } => {
                    return Err(format!("refusal whose facts do not hold: {r}"))
                }
                _ => {
                    if let Some(n) = shortest(x, t, false, 20) {
                        return Err(format!("refused ({r}), but {n} allowed calls reach the target"));
                    }
                }
            }
            *tally.refused.entry(kind).or_default() += 1;
        }
    }
    Ok(())
}

#[test]
fn random_states_and_targets_are_reached_or_rightly_refused_and_no_step_is_refused_by_xen() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut tally = Tally::default();
    let cases = 5000;
    for case in 0..cases {
        let seed = rng.next();
        let mut r = Rng(seed | 1);
        let files = universe(&mut r);
        let x = random_start(&mut r, &files);
        let t = random_target(&mut r, &files);
        if let Err(e) = one_case(&x, &t, &mut tally) {
            panic!("case {case} (seed {seed:#x}): {e}\nstart: {x:?}\ntarget: {t:?}");
        }
    }
    eprintln!("{cases} cases: {tally:?}");
    // Every kind of outcome is met (else the generator has drifted).
    assert!(tally.planned > cases / 4 && tally.empty > 0 && tally.left_to_xen > 0, "{tally:?}");
    assert!(
        ["upload", "apply", "revert", "replace", "unload"].iter().all(|v| tally.verbs.get(v) > Some(&0)),
        "{tally:?}"
    );
    for kind in ["BrokenChain", "MetadataDiffers", "WouldRevert", "UnknownOrder", "VetoingHooks", "Pending"] {
        assert!(tally.refused.get(kind).is_some_and(|&n| n > 0), "no {kind} refusal: {tally:?}");
    }
}

#[test]
fn any_input_gives_a_plan_or_a_refusal_without_panicking() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let bytes = |rng: &mut Rng, n: usize| -> Vec<u8> { (0..rng.below(n)).map(|_| *rng.pick(b"ab\0\xffH")).collect() };
    let mut planned = 0;
    for _ in 0..20_000 {
        let loaded = (0..rng.below(5))
            .map(|_| Loaded {
                name: bytes(&mut rng, 3),
                state: *rng.pick(&[0, 1, 2, 3, u32::MAX]),
                rc: *rng.pick(&[0, -libc::EAGAIN, -libc::EINVAL, i32::MIN]),
                metadata: bytes(&mut rng, 3),
            })
            .collect();
        let observed = Observed { hypervisor_build_id: bytes(&mut rng, 2), loaded };
        let stack = (0..rng.below(4))
            .map(|_| PayloadFile {
                name: bytes(&mut rng, 3),
                build_id: (!rng.one_in(4)).then(|| bytes(&mut rng, 2)),
                depends: (!rng.one_in(4)).then(|| bytes(&mut rng, 2)),
                xen_depends: bytes(&mut rng, 2),
                vetoing_hooks: rng.one_in(2),
                safe_to_reapply: rng.one_in(2),
                modinfo: bytes(&mut rng, 3),
                ..PayloadFile::default()
            })
            .collect();
        let absent = (0..rng.below(3)).map(|_| bytes(&mut rng, 3)).collect();
        let (replace, prune, reload) = (rng.one_in(2), rng.one_in(2), rng.one_in(2));
        let target = Target { stack, replace, absent, prune, reload };
        match plan(&observed, &target) {
            Ok(p) => {
                planned += 1;
                p.steps.iter().for_each(|s| assert!(!s.describe(&target).is_empty()));
            }
            Err(r) => assert!(!r.to_string().contains('\n')),
        }
    }
    assert!(planned > 100, "only {planned} inputs planned");
}
