//! `inspect FILE`: what a live-patch file is ([`crate::elf`]), and, where a
//! hypervisor answers (or `--sim`), whether it would take it now and why
//! not. The judgement is pure ([`judge`]): the file's facts against what
//! LIST and `xen_version` show. LIST shows the load order, not the applied
//! order, and no build id of a payload: what depends on those is said to be
//! unknown, never guessed. Rendered by [`crate::inspect_render`].

use crate::elf::Payload;
use crate::upload::XEN_MAX_SIZE;
use xc_livepatch::{Snapshot, State};

/// Whether Xen would take one step now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `Some(true)`: yes; `Some(false)`: no; `None`: what LIST shows cannot tell.
    pub ok: Option<bool>,
    /// Why not, or what cannot be known; one phrase each.
    pub why: Vec<String>,
}

impl Verdict {
    fn from(refusals: Vec<String>, unknowns: Vec<String>) -> Verdict {
        let ok = if !refusals.is_empty() {
            Some(false)
        } else if !unknowns.is_empty() {
            None
        } else {
            Some(true)
        };
        Verdict { ok, why: if refusals.is_empty() { unknowns } else { refusals } }
    }
}

/// What the hypervisor shows, and the three verdicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Now {
    /// The running hypervisor's build id, if it says.
    pub hypervisor_build_id: Option<Vec<u8>>,
    /// The names LIST shows APPLIED, in load order.
    pub applied: Vec<Vec<u8>>,
    /// UPLOAD under the given name.
    pub upload: Verdict,
    /// APPLY (without NODEPS) once uploaded.
    pub apply: Verdict,
    /// REPLACE once uploaded.
    pub replace: Verdict,
}

/// What `inspect` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The file's size in bytes.
    pub size: u64,
    /// The file's facts.
    pub payload: Payload,
    /// The name it would be uploaded as (`--name`, or `load`'s name).
    pub name: Vec<u8>,
    /// The hypervisor's view; `Err` says why there is none.
    pub now: Result<Now, String>,
}

fn hex(b: &[u8]) -> String {
    xc_livepatch::xenver::hex(b)
}

/// Whether Xen would take the payload `p` (of `size` bytes, as `name`) now,
/// given LIST's `snap` and the hypervisor's build id.
pub fn judge(p: &Payload, size: u64, name: &[u8], snap: &Snapshot, xen_id: Option<&[u8]>) -> Now {
    let applied: Vec<Vec<u8>> =
        snap.payloads.iter().filter(|q| q.state == State::Applied).map(|q| q.name_bytes().to_vec()).collect();
    let (mut up_no, mut up_unknown) = (p.problems.clone(), Vec::new());
    if size > XEN_MAX_SIZE {
        up_no.push(format!("it is {size} bytes, more than Xen's {XEN_MAX_SIZE} (EINVAL)"));
    }
    match xen_id {
        Some(id) if id != p.xen_depends.as_slice() => up_no.push(format!(
            "it was made for hypervisor build {}, this one is {} (EINVAL)",
            hex(&p.xen_depends),
            hex(id)
        )),
        Some(_) => {}
        None => up_unknown.push("the hypervisor does not say its build id".into()),
    }
    if snap.payloads.iter().any(|q| q.name_bytes() == name) {
        up_no.push(format!("a payload named {} is loaded (EEXIST)", String::from_utf8_lossy(name)));
    }
    if !snap.payloads.is_empty() {
        up_unknown.push(format!(
            "Xen refuses a build id that a loaded payload has (EEXIST); LIST does not show build ids ({} loaded)",
            snap.payloads.len()
        ));
    }
    let upload = Verdict::from(up_no, up_unknown);
    let apply = apply_verdict(p, &applied, xen_id);
    let replace = replace_verdict(p, &applied, xen_id);
    Now { hypervisor_build_id: xen_id.map(<[u8]>::to_vec), applied, upload, apply, replace }
}

fn apply_verdict(p: &Payload, applied: &[Vec<u8>], xen_id: Option<&[u8]>) -> Verdict {
    let Some(dep) = &p.stack.depends else {
        return Verdict::from(vec!["it has no readable .livepatch.depends".into()], vec![]);
    };
    let (mut no, mut unknown) = (Vec::new(), Vec::new());
    match (applied.is_empty(), xen_id) {
        (true, Some(id)) if id != dep.as_slice() => no.push(format!(
            "nothing is applied, so it must depend on the hypervisor ({}), not on {} (EINVAL)",
            hex(id),
            hex(dep)
        )),
        (true, Some(_)) => {}
        (true, None) => unknown.push("the hypervisor does not say its build id".into()),
        (false, Some(id)) if id == dep.as_slice() => no.push(format!(
            "it depends on the hypervisor, but {} applied: only REPLACE takes it now (EINVAL)",
            count(applied.len(), "payload is", "payloads are")
        )),
        (false, _) => unknown.push(format!(
            "it stacks on build id {}: the top of the applied stack must have it, and LIST shows neither build ids nor the applied order ({} applied)",
            hex(dep),
            applied.len()
        )),
    }
    Verdict::from(no, unknown)
}

fn replace_verdict(p: &Payload, applied: &[Vec<u8>], xen_id: Option<&[u8]>) -> Verdict {
    let (mut no, mut unknown) = (Vec::new(), Vec::new());
    match (&p.stack.depends, xen_id) {
        (Some(dep), Some(id)) if dep != id => no.push(format!(
            "REPLACE checks depends against the hypervisor ({}), and it depends on {} (EINVAL)",
            hex(id),
            hex(dep)
        )),
        (None, _) => no.push("it has no readable .livepatch.depends".into()),
        (Some(_), Some(_)) => {}
        (Some(_), None) => unknown.push("the hypervisor does not say its build id".into()),
    }
    if p.stack.vetoing_hooks {
        no.push("it has a vetoing hook (EOPNOTSUPP)".into());
    }
    if !applied.is_empty() {
        unknown.push(format!(
            "REPLACE is refused (EOPNOTSUPP) if an applied payload has a vetoing hook; LIST does not show hooks ({} applied)",
            applied.len()
        ));
    }
    Verdict::from(no, unknown)
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::StackFacts;
    use crate::testdata::{payload, snapshot};

    const XEN: [u8; 20] = [0x5e; 20];

    fn lp(depends: &[u8], vetoing: bool) -> Payload {
        Payload {
            stack: StackFacts {
                build_id: Some(vec![0xb1; 20]),
                depends: Some(depends.to_vec()),
                vetoing_hooks: vetoing,
                safe_to_reapply: true,
                modinfo: vec![],
            },
            xen_depends: XEN.to_vec(),
            ..Payload::default()
        }
    }

    #[test]
    fn on_an_empty_hypervisor_a_payload_made_for_it_is_taken_by_each_step() {
        let n = judge(&lp(&XEN, false), 4096, b"a", &snapshot(vec![]), Some(&XEN));
        let yes = Verdict { ok: Some(true), why: vec![] };
        assert_eq!((n.upload, n.apply, n.replace), (yes.clone(), yes.clone(), yes));
    }

    #[test]
    fn another_build_a_loaded_name_and_a_size_over_2_mib_refuse_the_upload() {
        let snap = snapshot(vec![payload("a", 1, 0, b"")]);
        let n = judge(&lp(&XEN, false), (2 << 20) + 1, b"a", &snap, Some(&[0x11; 20]));
        assert_eq!(n.upload.ok, Some(false));
        let why = n.upload.why.join("\n");
        for want in ["more than Xen's 2097152 (EINVAL)", "made for hypervisor build 5e5e", "named a is loaded (EEXIST)"]
        {
            assert!(why.contains(want), "{want}: {why}");
        }
    }

    #[test]
    fn depends_on_another_payload_refused_on_an_empty_hypervisor_unknown_over_an_applied_one() {
        let other = [0xd0; 20];
        let n = judge(&lp(&other, false), 1, b"b", &snapshot(vec![]), Some(&XEN));
        assert_eq!(n.apply.ok, Some(false), "{:?}", n.apply);
        assert_eq!(n.replace.ok, Some(false));
        let n = judge(&lp(&other, false), 1, b"b", &snapshot(vec![payload("a", 2, 0, b"")]), Some(&XEN));
        assert_eq!(n.apply.ok, None, "LIST shows no build ids: {:?}", n.apply);
        assert_eq!(n.applied, [b"a".to_vec()]);
        assert_eq!(n.upload.ok, None, "a loaded payload may have its build id");
    }

    #[test]
    fn a_hypervisor_based_payload_over_an_applied_one_is_only_replaced_and_vetoing_hooks_refuse_replace() {
        let snap = snapshot(vec![payload("a", 2, 0, b"")]);
        let n = judge(&lp(&XEN, false), 1, b"b", &snap, Some(&XEN));
        assert_eq!(n.apply.ok, Some(false));
        assert!(n.apply.why[0].contains("only REPLACE"), "{:?}", n.apply);
        assert_eq!(n.replace.ok, None, "an applied payload's hooks are not shown");
        let n = judge(&lp(&XEN, true), 1, b"b", &snapshot(vec![]), Some(&XEN));
        assert_eq!(n.replace, Verdict { ok: Some(false), why: vec!["it has a vetoing hook (EOPNOTSUPP)".into()] });
    }
}
