//! A model of Xen's live-patch rules (xen/common/livepatch.c, the same at
//! RELEASE-4.17.0 and RELEASE-4.22.0), over payload files: the planner's
//! tests run every plan on it. It keeps what LIST does not show: each
//! payload's file (build id, depends, hooks), whether it was reverted, and
//! the applied stack's order.

use super::{Loaded, Observed, PayloadFile, Step, Target};
use crate::step::{APPLIED, CHECKED, NAME_MAX};
use libc::{EAGAIN, EBUSY, EEXIST, EINVAL, ENODATA, ENOENT, EOPNOTSUPP};

/// One loaded payload, with what Xen keeps of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Payload {
    pub file: PayloadFile,
    pub state: u32,
    pub rc: i32,
    /// Xen's `payload->reverted`: set by a revert (or a REPLACE's), never cleared.
    pub reverted: bool,
}

/// The hypervisor: its build id, `payload_list` and `applied_list`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Xen {
    pub build_id: Vec<u8>,
    /// Load order (what LIST walks).
    pub payloads: Vec<Payload>,
    /// Names, bottom first (apply order).
    pub applied: Vec<Vec<u8>>,
}

/// How Xen refuses a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// The hypercall fails with this errno.
    Errno(i32),
    /// The call returns 0 but sets the payload's rc and changes nothing
    /// (APPLY of a reverted payload that is not safe to re-apply).
    Rc(i32),
    /// The call returns 0 and does nothing (the state is already the goal).
    NoOp,
}

impl Xen {
    pub fn new(build_id: &[u8]) -> Self {
        Xen { build_id: build_id.to_vec(), payloads: Vec::new(), applied: Vec::new() }
    }

    /// What LIST shows.
    pub fn observe(&self) -> Observed {
        let loaded = (self.payloads.iter())
            .map(|p| Loaded { name: p.file.name.clone(), state: p.state, rc: p.rc, metadata: p.file.modinfo.clone() })
            .collect();
        Observed { hypervisor_build_id: self.build_id.clone(), loaded }
    }

    pub fn get(&self, name: &[u8]) -> Option<&Payload> {
        self.payloads.iter().find(|p| p.file.name == name)
    }

    fn index(&self, name: &[u8]) -> Result<usize, Fail> {
        if name.is_empty() || name.len() > NAME_MAX || name.contains(&0) {
            return Err(Fail::Errno(EINVAL)); // get_name
        }
        self.payloads.iter().position(|p| p.file.name == name).ok_or(Fail::Errno(ENOENT))
    }

    /// `livepatch_work.do_work`: an action scheduled and not done (rc -EAGAIN).
    fn work_pending(&self) -> bool {
        self.payloads.iter().any(|p| p.rc == -EAGAIN)
    }

    fn top_build_id(&self) -> Result<Vec<u8>, Fail> {
        match self.applied.last() {
            None if self.build_id.is_empty() => Err(Fail::Errno(ENODATA)),
            None => Ok(self.build_id.clone()),
            Some(top) => Ok(self.get(top).and_then(|p| p.file.build_id.clone()).unwrap_or_default()),
        }
    }

    /// `livepatch_upload`: name free, ELF checks, build id not loaded.
    pub fn upload(&mut self, file: &PayloadFile) -> Result<(), Fail> {
        match self.index(&file.name) {
            Ok(_) => return Err(Fail::Errno(EEXIST)),
            Err(Fail::Errno(ENOENT)) => {}
            Err(e) => return Err(e),
        }
        if self.build_id.is_empty() {
            return Err(Fail::Errno(ENODATA)); // check_xen_buildid
        }
        if file.xen_depends != self.build_id {
            return Err(Fail::Errno(EINVAL));
        }
        let (Some(id), Some(_)) = (&file.build_id, &file.depends) else {
            return Err(Fail::Errno(EINVAL)); // check_special_sections
        };
        if self.payloads.iter().any(|p| p.file.build_id.as_ref() == Some(id)) {
            return Err(Fail::Errno(EEXIST)); // prepare_payload
        }
        self.payloads.push(Payload { file: file.clone(), state: CHECKED, rc: 0, reverted: false });
        Ok(())
    }

    /// LIVEPATCH_ACTION_APPLY (without NODEPS); the work done at once.
    pub fn apply(&mut self, name: &[u8]) -> Result<(), Fail> {
        let i = self.index(name)?;
        let p = &self.payloads[i];
        if p.rc == -EAGAIN {
            return Err(Fail::Errno(EBUSY)); // is_work_scheduled
        }
        if p.state != CHECKED {
            return Err(Fail::NoOp);
        }
        if p.reverted && !p.file.safe_to_reapply {
            self.payloads[i].rc = -EINVAL;
            return Err(Fail::Rc(-EINVAL));
        }
        if p.file.depends.as_ref() != Some(&self.top_build_id()?) {
            return Err(Fail::Errno(EINVAL)); // build_id_dep
        }
        if self.work_pending() {
            return Err(Fail::Errno(EBUSY)); // schedule_work
        }
        let p = &mut self.payloads[i];
        (p.state, p.rc) = (APPLIED, 0);
        self.applied.push(name.to_vec());
        Ok(())
    }

    /// LIVEPATCH_ACTION_REVERT: only the top of the applied stack.
    pub fn revert(&mut self, name: &[u8]) -> Result<(), Fail> {
        let i = self.index(name)?;
        let p = &self.payloads[i];
        if p.rc == -EAGAIN {
            return Err(Fail::Errno(EBUSY));
        }
        if p.state != APPLIED {
            return Err(Fail::NoOp);
        }
        if self.applied.last().map(Vec::as_slice) != Some(name) || self.work_pending() {
            return Err(Fail::Errno(EBUSY));
        }
        self.applied.pop();
        let p = &mut self.payloads[i];
        (p.state, p.rc, p.reverted) = (CHECKED, 0, true);
        Ok(())
    }

    /// LIVEPATCH_ACTION_REPLACE: depends on the hypervisor, no vetoing hooks
    /// anywhere; every applied payload reverted, this one applied.
    pub fn replace(&mut self, name: &[u8]) -> Result<(), Fail> {
        let i = self.index(name)?;
        let p = &self.payloads[i];
        if p.rc == -EAGAIN {
            return Err(Fail::Errno(EBUSY));
        }
        if p.state != CHECKED {
            return Err(Fail::NoOp);
        }
        if self.build_id.is_empty() {
            return Err(Fail::Errno(ENODATA));
        }
        if p.file.depends.as_ref() != Some(&self.build_id) {
            return Err(Fail::Errno(EINVAL));
        }
        let vetoing = |n: &Vec<u8>| self.get(n).is_some_and(|q| q.file.vetoing_hooks);
        if p.file.vetoing_hooks || self.applied.iter().any(vetoing) {
            return Err(Fail::Errno(EOPNOTSUPP));
        }
        if self.work_pending() {
            return Err(Fail::Errno(EBUSY));
        }
        for n in std::mem::take(&mut self.applied).iter().rev() {
            let q = self.payloads.iter_mut().find(|q| &q.file.name == n).expect("applied is loaded");
            (q.state, q.rc, q.reverted) = (CHECKED, 0, true);
        }
        let p = &mut self.payloads[i];
        (p.state, p.rc) = (APPLIED, 0);
        self.applied.push(name.to_vec());
        Ok(())
    }

    /// LIVEPATCH_ACTION_UNLOAD: only a CHECKED payload.
    pub fn unload(&mut self, name: &[u8]) -> Result<(), Fail> {
        let i = self.index(name)?;
        if self.payloads[i].rc == -EAGAIN {
            return Err(Fail::Errno(EBUSY));
        }
        if self.payloads[i].state != CHECKED {
            return Err(Fail::Errno(EINVAL));
        }
        self.payloads.remove(i);
        Ok(())
    }

    /// One planned step.
    pub fn run(&mut self, step: &Step, target: &Target) -> Result<(), Fail> {
        match step {
            Step::Upload { index } => self.upload(&target.stack[*index]),
            Step::Apply { name } => self.apply(name),
            Step::Revert { name } => self.revert(name),
            Step::Replace { name } => self.replace(name),
            Step::Unload { name } => self.unload(name),
        }
    }

    /// Whether the target holds here, and if not, why.
    pub fn meets(&self, target: &Target) -> Result<(), String> {
        for f in &target.stack {
            match self.get(&f.name) {
                Some(p) if p.file.build_id == f.build_id && p.file.modinfo == f.modinfo && p.state == APPLIED => {}
                p => return Err(format!("{:?} is not its file's, applied: {p:?}", super::show(&f.name))),
            }
        }
        let names: Vec<&[u8]> = target.stack.iter().map(|f| f.name.as_slice()).collect();
        let bottom: Vec<&[u8]> = self.applied.iter().take(names.len()).map(Vec::as_slice).collect();
        if bottom != names || (target.replace && self.applied.len() != 1) {
            return Err(format!("applied stack {:?}, want {names:?} at its bottom", self.applied));
        }
        if let Some(a) = target.absent.iter().find(|a| self.get(a).is_some()) {
            return Err(format!("{a:?} is still loaded"));
        }
        let pruned = |p: &&Payload| p.state == CHECKED && !names.contains(&p.file.name.as_slice());
        if let Some(p) = self.payloads.iter().find(pruned).filter(|_| target.prune) {
            return Err(format!("{:?} is CHECKED after --prune", p.file.name));
        }
        Ok(())
    }
}

/// The model against the rules read in livepatch.c, one call each.
mod tests {
    use super::super::table_tests::file;
    use super::*;

    fn xen_with(files: &[&PayloadFile], applied: &[&str]) -> Xen {
        let mut x = Xen::new(b"H");
        files.iter().for_each(|f| x.upload(f).unwrap());
        applied.iter().for_each(|n| x.apply(n.as_bytes()).unwrap());
        x
    }

    #[test]
    fn upload_refuses_a_loaded_name_or_build_id_and_another_hypervisors_file() {
        let (a, b) = (file("a", "A", "H"), file("b", "B", "A"));
        let mut x = xen_with(&[&a], &[]);
        assert_eq!(x.upload(&a), Err(Fail::Errno(EEXIST)));
        let mut same_id = b.clone();
        same_id.build_id = a.build_id.clone();
        assert_eq!(x.upload(&same_id), Err(Fail::Errno(EEXIST)));
        let mut other = b.clone();
        other.xen_depends = b"G".to_vec();
        assert_eq!(x.upload(&other), Err(Fail::Errno(EINVAL)));
        other = b.clone();
        other.depends = None;
        assert_eq!(x.upload(&other), Err(Fail::Errno(EINVAL)));
        other.name = vec![b'n'; 128];
        assert_eq!(x.upload(&other), Err(Fail::Errno(EINVAL)));
        assert_eq!(x.upload(&b), Ok(()));
        assert_eq!(x.observe().loaded.iter().map(|p| p.state).collect::<Vec<_>>(), [CHECKED, CHECKED]);
    }

    #[test]
    fn apply_checks_depends_against_the_top_and_the_reapply_rule() {
        let (a, b, u) = (file("a", "A", "H"), file("b", "B", "A"), file("u", "U", "H"));
        let mut x = xen_with(&[&a, &b], &[]);
        assert_eq!(x.apply(b"b"), Err(Fail::Errno(EINVAL)), "b is not on the hypervisor");
        assert_eq!(x.apply(b"a"), Ok(()));
        assert_eq!(x.apply(b"a"), Err(Fail::NoOp));
        assert_eq!(x.apply(b"b"), Ok(()));
        assert_eq!(x.applied, [b"a".to_vec(), b"b".to_vec()]);
        let mut u = u;
        u.safe_to_reapply = false;
        let mut x = xen_with(&[&u], &["u"]);
        assert_eq!(x.revert(b"u"), Ok(()));
        assert_eq!(x.apply(b"u"), Err(Fail::Rc(-EINVAL)));
        assert_eq!((x.get(b"u").unwrap().state, x.get(b"u").unwrap().rc), (CHECKED, -EINVAL));
        assert_eq!(x.unload(b"u").and_then(|_| x.upload(&u)).and_then(|_| x.apply(b"u")), Ok(()));
    }

    #[test]
    fn only_the_top_is_reverted_and_only_checked_is_unloaded() {
        let (a, b) = (file("a", "A", "H"), file("b", "B", "A"));
        let mut x = xen_with(&[&a, &b], &["a", "b"]);
        assert_eq!(x.revert(b"a"), Err(Fail::Errno(EBUSY)));
        assert_eq!(x.unload(b"b"), Err(Fail::Errno(EINVAL)));
        assert_eq!(x.revert(b"b"), Ok(()));
        assert_eq!(x.revert(b"b"), Err(Fail::NoOp));
        assert!(x.get(b"b").unwrap().reverted);
        assert_eq!(x.unload(b"b"), Ok(()));
        assert_eq!(x.unload(b"b"), Err(Fail::Errno(ENOENT)));
    }

    #[test]
    fn replace_wants_the_hypervisor_no_vetoing_hooks_and_leaves_the_others_reverted() {
        let (a, b, q) = (file("a", "A", "H"), file("b", "B", "A"), file("q", "Q", "H"));
        let mut x = xen_with(&[&a, &b, &q], &["a", "b"]);
        let mut veto = file("v", "V", "H");
        veto.vetoing_hooks = true;
        x.upload(&veto).unwrap();
        assert_eq!(x.replace(b"v"), Err(Fail::Errno(EOPNOTSUPP)), "the new one's hooks");
        assert_eq!(x.replace(b"b"), Err(Fail::NoOp));
        assert_eq!(x.replace(b"q"), Ok(()));
        assert_eq!(x.applied, [b"q".to_vec()]);
        assert!(x.get(b"a").unwrap().reverted && x.get(b"b").unwrap().state == CHECKED);
        let mut x = xen_with(&[&veto, &q], &["v"]);
        assert_eq!(x.replace(b"q"), Err(Fail::Errno(EOPNOTSUPP)), "an applied one's hooks");
        let mut x = xen_with(&[&a, &b], &[]);
        assert_eq!(x.replace(b"b"), Err(Fail::Errno(EINVAL)), "b is not made against the hypervisor");
    }

    #[test]
    fn a_pending_action_makes_every_other_action_ebusy_but_not_unload_of_another() {
        let (a, x_) = (file("a", "A", "H"), file("x", "X", "H"));
        let mut x = xen_with(&[&a, &x_], &[]);
        x.payloads[0].rc = -EAGAIN;
        assert_eq!(x.apply(b"a"), Err(Fail::Errno(EBUSY)));
        assert_eq!(x.apply(b"x"), Err(Fail::Errno(EBUSY)));
        assert_eq!(x.unload(b"a"), Err(Fail::Errno(EBUSY)));
        assert_eq!(x.unload(b"x"), Ok(()));
    }
}
