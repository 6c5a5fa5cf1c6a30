//! `apply`, `revert`, `replace`, `unload`: xen-livepatch's `action_func`,
//! check for check, except the wait. xen-livepatch sleeps 60 ms once and
//! reads the state once; here the state is read right after the action is
//! scheduled, then after 1, 2, 4... ms (at most [`MAX_POLL_GAP`] apart)
//! until the action has finished or the caller's bound has passed.

use crate::control::Control;
use crate::step::{allowed_from, expected_after, name_refusal, After, Kind, Outcome, Step};
use std::time::{Duration, Instant};
use xc_livepatch::manage::DEFAULT_TIMEOUT_NS;
use xc_livepatch::{Action, ActionOptions};

/// The hypervisor's own bound for the CPUs to join the action (what
/// xen-livepatch passes: 30 ms).
pub const HYPERVISOR_TIMEOUT_NS: u32 = DEFAULT_TIMEOUT_NS;
/// The first gap between two reads of the state.
const FIRST_POLL_GAP: Duration = Duration::from_millis(1);
/// The longest gap between two reads of the state.
pub const MAX_POLL_GAP: Duration = Duration::from_millis(20);

/// What an action is asked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The action.
    pub action: Action,
    /// The payload.
    pub name: &'a [u8],
    /// `--nodeps` (apply).
    pub nodeps: bool,
    /// How long to wait for the action to finish.
    pub wait: Duration,
}

/// Runs one action as xen-livepatch does, waiting as described above.
pub fn run(ctl: &impl Control, req: Request<'_>) -> Step {
    let t0 = Instant::now();
    let mut step = Step::new(Kind::Act(req.action), req.name);
    step.nodeps = req.nodeps;
    step.outcome = act(ctl, req, &mut step);
    step.elapsed = t0.elapsed();
    step
}

fn act(ctl: &impl Control, req: Request<'_>, step: &mut Step) -> Outcome {
    if let Some(o) = name_refusal(req.name) {
        return o;
    }
    let before = match ctl.status(req.name) {
        Ok(s) => s,
        Err(e) => return Outcome::GetFailed(e.errno()),
    };
    step.before = Some(before);
    let state = before.state.raw();
    if before.rc == -libc::EAGAIN {
        return Outcome::InProgress;
    }
    // xen-livepatch compares the unsigned state with the signed goal (-ENOENT
    // for unload, which no state equals in practice).
    if state == expected_after(req.action) as u32 {
        return Outcome::NoActionNeeded;
    }
    if allowed_from(req.action) & state == 0 {
        return Outcome::WrongState { state };
    }
    let options = ActionOptions { timeout_ns: HYPERVISOR_TIMEOUT_NS, nodeps: req.nodeps };
    if let Err(e) = ctl.act(req.name, req.action, options) {
        return Outcome::Failed(e.errno());
    }
    let rc = wait(ctl, req, step);
    conclude(req.action, rc)
}

/// Reads the state until the action is no longer pending or `req.wait` has
/// passed; returns xen-livepatch's `rc` of the last read: the GET's -errno,
/// else the payload's non-zero rc, else its state.
fn wait(ctl: &impl Control, req: Request<'_>, step: &mut Step) -> i32 {
    // A wait too long to add to the clock (`--wait 18446744073709551615s`): no bound.
    let deadline = Instant::now().checked_add(req.wait);
    let mut gap = FIRST_POLL_GAP;
    loop {
        let got = ctl.status(req.name);
        step.polls += 1;
        let rc = match got {
            Err(e) => {
                step.after = After::Error(e.errno());
                -e.errno()
            }
            Ok(s) => {
                step.after = After::Status(s);
                if s.rc != 0 {
                    s.rc
                } else {
                    s.state.raw() as i32
                }
            }
        };
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if rc != -libc::EAGAIN || left == Some(Duration::ZERO) {
            return rc;
        }
        std::thread::sleep(left.map_or(gap, |l| gap.min(l)));
        gap = (gap * 2).min(MAX_POLL_GAP);
    }
}

/// The outcome of xen-livepatch's final `rc`.
fn conclude(action: Action, rc: i32) -> Outcome {
    if rc == -libc::EAGAIN {
        Outcome::TimedOut
    } else if rc == expected_after(action) {
        Outcome::Completed
    } else if rc < 0 {
        Outcome::EndedWithError(rc.wrapping_neg())
    } else {
        Outcome::EndedInWrongState { state: rc as u32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::{APPLIED, CHECKED};
    use std::cell::{Cell, RefCell};
    use xc_livepatch::{Error, State, Status};

    /// A hypervisor whose GET answers come from a script, the last one
    /// repeated; it records the actions asked.
    struct Scripted {
        gets: RefCell<Vec<Result<Status, i32>>>,
        act_result: Result<(), i32>,
        acts: RefCell<Vec<(Action, ActionOptions)>>,
        get_calls: Cell<u32>,
    }

    fn st(state: u32, rc: i32) -> Result<Status, i32> {
        Ok(Status { state: State::from_raw(state), rc })
    }

    impl Scripted {
        fn new(gets: Vec<Result<Status, i32>>) -> Scripted {
            Scripted { gets: RefCell::new(gets), act_result: Ok(()), acts: RefCell::default(), get_calls: Cell::new(0) }
        }
    }

    impl Control for Scripted {
        fn status(&self, _: &[u8]) -> Result<Status, Error> {
            self.get_calls.set(self.get_calls.get() + 1);
            let mut g = self.gets.borrow_mut();
            let r = if g.len() > 1 { g.remove(0) } else { g[0] };
            r.map_err(|errno| Error::Hypervisor { errno })
        }
        fn upload(&self, _: &[u8], _: &[u8], _: bool) -> Result<(), Error> {
            unreachable!("no upload in an action")
        }
        fn act(&self, _: &[u8], a: Action, o: ActionOptions) -> Result<(), Error> {
            self.acts.borrow_mut().push((a, o));
            self.act_result.map_err(|errno| Error::Hypervisor { errno })
        }
        fn build_id(&self) -> Result<Vec<u8>, Error> {
            unreachable!()
        }
    }

    fn req(action: Action, wait_ms: u64) -> Request<'static> {
        Request { action, name: b"lp", nodeps: false, wait: Duration::from_millis(wait_ms) }
    }

    #[test]
    fn apply_polls_until_applied_and_passes_30ms_and_nodeps() {
        let hv = Scripted::new(vec![st(CHECKED, 0), st(CHECKED, -11), st(CHECKED, -11), st(APPLIED, 0)]);
        let s = run(&hv, Request { nodeps: true, ..req(Action::Apply, 5000) });
        assert_eq!(s.outcome, Outcome::Completed);
        assert_eq!(s.polls, 3);
        assert_eq!(hv.acts.borrow()[0], (Action::Apply, ActionOptions { timeout_ns: 30_000_000, nodeps: true }));
        assert_eq!(s.before, Some(Status { state: State::Checked, rc: 0 }));
        assert_eq!(s.after, After::Status(Status { state: State::Applied, rc: 0 }));
    }

    #[test]
    fn a_pending_action_times_out_at_the_bound_not_before() {
        let hv = Scripted::new(vec![st(CHECKED, 0), st(CHECKED, -11)]);
        let s = run(&hv, req(Action::Apply, 100));
        assert_eq!(s.outcome, Outcome::TimedOut);
        assert!(s.elapsed >= Duration::from_millis(100), "{:?}", s.elapsed);
        assert!(s.elapsed < Duration::from_secs(2), "{:?}", s.elapsed);
        // 1 + 2 + 4 + ... capped at 20 ms: about ten reads in 100 ms.
        assert!((5..=40).contains(&s.polls), "{} polls", s.polls);
    }

    #[test]
    fn a_wait_beyond_the_clock_does_not_overflow() {
        let hv = Scripted::new(vec![st(CHECKED, 0), st(CHECKED, -11), st(APPLIED, 0)]);
        let s = run(&hv, Request { wait: Duration::MAX, ..req(Action::Apply, 0) });
        assert_eq!((s.outcome, s.polls), (Outcome::Completed, 2));
    }

    #[test]
    fn wait_zero_reads_once() {
        let hv = Scripted::new(vec![st(APPLIED, 0), st(APPLIED, -11)]);
        let s = run(&hv, req(Action::Revert, 0));
        assert_eq!((s.outcome, s.polls), (Outcome::TimedOut, 1));
    }

    #[test]
    fn unload_completes_when_get_says_enoent() {
        let hv = Scripted::new(vec![st(CHECKED, 0), Err(libc::ENOENT)]);
        let s = run(&hv, req(Action::Unload, 1000));
        assert_eq!((s.outcome.clone(), s.after), (Outcome::Completed, After::Error(libc::ENOENT)));
    }

    #[test]
    fn the_states_before_decide_as_xen_livepatch_does() {
        let cases = [
            (Action::Apply, st(APPLIED, 0), Outcome::NoActionNeeded),
            (Action::Replace, st(APPLIED, 0), Outcome::NoActionNeeded),
            (Action::Revert, st(CHECKED, 0), Outcome::NoActionNeeded),
            (Action::Unload, st(APPLIED, 0), Outcome::WrongState { state: APPLIED }),
            (Action::Revert, st(0, 0), Outcome::WrongState { state: 0 }),
            (Action::Apply, st(CHECKED, -11), Outcome::InProgress),
            (Action::Apply, Err(libc::ENOENT), Outcome::GetFailed(libc::ENOENT)),
        ];
        for (a, before, want) in cases {
            let hv = Scripted::new(vec![before]);
            assert_eq!(run(&hv, req(a, 10)).outcome, want, "{a:?} from {before:?}");
            assert!(hv.acts.borrow().is_empty(), "{a:?}: acted");
        }
        // State 3 has the CHECKED bit: xen-livepatch's mask lets apply try.
        let hv = Scripted::new(vec![st(3, 0), st(APPLIED, 0)]);
        assert_eq!(run(&hv, req(Action::Apply, 10)).outcome, Outcome::Completed);
    }

    #[test]
    fn how_it_ends_after_the_action() {
        let cases = [
            (Action::Apply, st(CHECKED, -16), Outcome::EndedWithError(libc::EBUSY)),
            (Action::Apply, st(CHECKED, 0), Outcome::EndedInWrongState { state: CHECKED }),
            (Action::Revert, st(APPLIED, -22), Outcome::EndedWithError(libc::EINVAL)),
            (Action::Unload, st(CHECKED, 0), Outcome::EndedInWrongState { state: CHECKED }),
            (Action::Replace, Err(libc::EFAULT), Outcome::EndedWithError(libc::EFAULT)),
        ];
        for (a, after, want) in cases {
            let start = if a == Action::Revert { st(APPLIED, 0) } else { st(CHECKED, 0) };
            let hv = Scripted::new(vec![start, after]);
            assert_eq!(run(&hv, req(a, 10)).outcome, want, "{a:?} then {after:?}");
        }
    }

    #[test]
    fn a_refused_action_call_is_failed_with_its_errno() {
        let mut hv = Scripted::new(vec![st(APPLIED, 0)]);
        hv.act_result = Err(libc::EBUSY);
        let s = run(&hv, req(Action::Revert, 10));
        assert_eq!((s.outcome.clone(), s.polls), (Outcome::Failed(libc::EBUSY), 0));
        assert_eq!(s.ret(), libc::EBUSY);
    }

    #[test]
    fn a_name_over_127_bytes_asks_nothing() {
        let hv = Scripted::new(vec![st(CHECKED, 0)]);
        let long = [b'n'; 128];
        let s = run(&hv, Request { name: &long, ..req(Action::Apply, 10) });
        assert_eq!(s.outcome, Outcome::Refused(crate::step::Refusal::NameTooLong(128)));
        assert_eq!(hv.get_calls.get(), 0);
    }
}
