//! The planner over a table of start states and targets, Xen's refusals
//! included: each plan is exactly the expected one, running it on the model
//! of Xen's rules reaches the target with no step refused, and planning again
//! from there gives nothing to do.

use super::model::{Fail, Xen};
use super::*;

const H: &[u8] = b"H";

/// A payload file made against `H`, stacking on `dep`, safe to re-apply.
pub fn file(name: &str, id: &str, dep: &str) -> PayloadFile {
    PayloadFile {
        name: name.as_bytes().to_vec(),
        file: format!("/p/{name}-{id}.livepatch").into_bytes(),
        build_id: Some(id.as_bytes().to_vec()),
        depends: Some(dep.as_bytes().to_vec()),
        xen_depends: H.to_vec(),
        vetoing_hooks: false,
        safe_to_reapply: true,
        modinfo: format!("name={name}\0id={id}\0").into_bytes(),
    }
}

fn unsafe_(mut f: PayloadFile) -> PayloadFile {
    f.safe_to_reapply = false;
    f
}

fn vetoing(mut f: PayloadFile) -> PayloadFile {
    f.vetoing_hooks = true;
    f
}

/// A legal operation that builds a start state (or, marked, one that only
/// `--nodeps` or a pending action can make).
#[derive(Clone)]
enum Op {
    Up(PayloadFile),
    Ap(&'static str),
    Rv(&'static str),
    Rp(&'static str),
    Ul(&'static str),
    /// APPLY with NODEPS.
    ApNoDeps(&'static str),
    /// An action still under way (rc -EAGAIN).
    Pending(&'static str),
    /// A state LIST should never show.
    Strange(&'static str, u32),
}

fn start(ops: &[Op]) -> Xen {
    let mut x = Xen::new(H);
    for op in ops {
        let r = match op {
            Op::Up(f) => x.upload(f),
            Op::Ap(n) => x.apply(n.as_bytes()),
            Op::Rv(n) => x.revert(n.as_bytes()),
            Op::Rp(n) => x.replace(n.as_bytes()),
            Op::Ul(n) => x.unload(n.as_bytes()),
            Op::ApNoDeps(n) | Op::Pending(n) | Op::Strange(n, _) => {
                let p = x.payloads.iter_mut().find(|p| p.file.name == n.as_bytes()).unwrap();
                match op {
                    Op::ApNoDeps(_) => {
                        p.state = APPLIED;
                        x.applied.push(n.as_bytes().to_vec());
                    }
                    Op::Pending(_) => p.rc = -libc::EAGAIN,
                    _ => p.state = if let Op::Strange(_, s) = op { *s } else { 0 },
                }
                Ok(())
            }
        };
        r.unwrap_or_else(|e| panic!("start state: {e:?}"));
    }
    x
}

fn stack(files: &[&PayloadFile]) -> Target {
    Target { stack: files.iter().map(|f| (*f).clone()).collect(), ..Target::default() }
}

trait With {
    fn replace(self) -> Self;
    fn prune(self) -> Self;
    fn reload(self) -> Self;
    fn absent(self, names: &[&str]) -> Self;
}

impl With for Target {
    fn replace(mut self) -> Self {
        self.replace = true;
        self
    }
    fn prune(mut self) -> Self {
        self.prune = true;
        self
    }
    fn reload(mut self) -> Self {
        self.reload = true;
        self
    }
    fn absent(mut self, names: &[&str]) -> Self {
        self.absent = names.iter().map(|n| n.as_bytes().to_vec()).collect();
        self
    }
}

/// A step in the table's shorthand: `up a`, `ap a`, `rv a`, `rp a`, `ul a`.
pub fn short(step: &Step, target: &Target) -> String {
    let verb = match step {
        Step::Upload { .. } => "up",
        Step::Apply { .. } => "ap",
        Step::Revert { .. } => "rv",
        Step::Replace { .. } => "rp",
        Step::Unload { .. } => "ul",
    };
    format!("{verb} {}", show(step.name(target)))
}

/// What a row expects: the plan's steps, or the refusal's variant name.
enum Want {
    Steps(&'static [&'static str]),
    /// The plan, and the step Xen refuses (hooks of a payload without a file).
    XenRefusesAt(&'static [&'static str], usize, Fail),
    Refused(&'static str),
}

/// Run `plan` on the model: every step accepted, the target met, then nothing left to do.
pub fn run_plan(x: &Xen, target: &Target, plan: &Plan) -> Result<Xen, String> {
    let mut x = x.clone();
    for (i, s) in plan.steps.iter().enumerate() {
        x.run(s, target).map_err(|e| format!("step {i} ({}) refused by Xen: {e:?}", short(s, target)))?;
    }
    x.meets(target).map_err(|e| format!("target not reached: {e}"))?;
    match super::plan(&x.observe(), target) {
        Ok(again) if again.is_empty() => Ok(x),
        again => Err(format!("planning again from the reached state gives {again:?}")),
    }
}

fn check(label: &str, ops: &[Op], target: Target, want: Want) {
    let x = start(ops);
    let got = super::plan(&x.observe(), &target);
    let shorts = |p: &Plan| p.steps.iter().map(|s| short(s, &target)).collect::<Vec<_>>();
    match (want, got) {
        (Want::Steps(w), Ok(p)) => {
            assert_eq!(shorts(&p), w, "{label}: plan");
            if let Err(e) = run_plan(&x, &target, &p) {
                panic!("{label}: {e}");
            }
        }
        (Want::XenRefusesAt(w, at, fail), Ok(p)) => {
            assert_eq!(shorts(&p), w, "{label}: plan");
            let mut y = x.clone();
            for s in &p.steps[..at] {
                y.run(s, &target).unwrap();
            }
            let before = y.clone();
            assert_eq!(y.run(&p.steps[at], &target), Err(fail), "{label}: step {at}");
            assert_eq!(y, before, "{label}: the refused step changed nothing");
        }
        (Want::Refused(w), Err(r)) => {
            let variant = format!("{r:?}");
            assert!(variant.starts_with(w), "{label}: refused {variant}, want {w}");
            assert!(!r.to_string().is_empty() && !r.to_string().contains('\n'), "{label}: one line");
        }
        (Want::Steps(w) | Want::XenRefusesAt(w, ..), Err(r)) => panic!("{label}: refused ({r}), want {w:?}"),
        (Want::Refused(w), Ok(p)) => panic!("{label}: planned {:?}, want refusal {w}", shorts(&p)),
    }
}

mod rows;

#[test]
fn steps_and_refusals_render_as_one_line_each() {
    let mut t = stack(&[&file("a\x1b", "A", "H")]);
    t.stack[0].file = b"/p/a.livepatch".to_vec();
    let p = super::plan(&Observed { hypervisor_build_id: H.to_vec(), loaded: vec![] }, &t).unwrap();
    let lines: Vec<String> = p.steps.iter().map(|s| s.describe(&t)).collect();
    assert_eq!(lines, ["upload a\\x1b from /p/a.livepatch", "apply a\\x1b"]);
    t.stack[0].file.clear();
    assert_eq!(Step::Upload { index: 0 }.describe(&t), "upload a\\x1b");
    let r = Step::Replace { name: b"cum".to_vec() };
    assert_eq!((r.describe(&t), r.verb()), ("replace all applied payloads with cum".to_string(), "replace"));
    let refusal = Refusal::MetadataDiffers { name: b"a".to_vec(), loaded: b"v=1\0".to_vec(), file: b"v=2\0".to_vec() };
    assert_eq!(
        refusal.to_string(),
        "'a' is loaded with metadata 'v=1\\x00', its file has 'v=2\\x00': another payload of that name (--reload unloads it and uploads the file)"
    );
    let chain = Refusal::BrokenChain { name: b"b".to_vec(), depends: vec![0xab], below: None, expected: vec![0x01] };
    assert_eq!(
        chain.to_string(),
        "'b' stacks on build id ab, not on the hypervisor (01): the depends chain does not hold"
    );
}
