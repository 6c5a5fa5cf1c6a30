//! `apply`, `revert`, `replace`, `unload`: xen-livepatch's `action_func`,
//! check for check, except two things.
//!
//! - The wait: xen-livepatch sleeps 60 ms once and reads the state once;
//!   here the state is read right after the action is scheduled, then
//!   after 1, 2, 4... ms (at most [`MAX_POLL_GAP`] apart) until the action
//!   has finished, the caller's bound has passed, or SIGINT/SIGTERM came
//!   ([`crate::interrupt`]).
//! - A payload whose rc is -EAGAIN: xen-livepatch refuses it at once
//!   (`Operation already in progress.`). But Xen leaves rc at -EAGAIN also
//!   when it refused the action (`schedule_work` is EBUSY while another
//!   payload's action is scheduled, after `data->rc = -EAGAIN`), and then
//!   nothing is pending and the next action on the payload is accepted.
//!   Only Xen knows which it is, so the action is sent: Xen answers EBUSY
//!   while an action on this payload is scheduled (`is_work_scheduled`,
//!   checked before anything else), and that gets xen-livepatch's lines.
//!   Where the state says there is nothing to do (already in the state
//!   asked for, or a state the action does not start from), the call is one
//!   Xen answers without acting (0, or EINVAL for an unload), so it only
//!   asks whether an action is scheduled.

use crate::control::Control;
use crate::step::{allowed_from, expected_after, name_refusal, After, Kind, Observer, Outcome, Silent, Step};
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
    run_with(ctl, req, &mut Silent)
}

/// [`run`], telling `obs` when the action is asked for and when it ended.
pub fn run_with(ctl: &impl Control, req: Request<'_>, obs: &mut dyn Observer) -> Step {
    let t0 = Instant::now();
    let mut step = Step::new(Kind::Act(req.action), req.name);
    step.nodeps = req.nodeps;
    step.outcome = act(ctl, req, &mut step, obs);
    step.elapsed = t0.elapsed();
    obs.ended(&step);
    step
}

fn act(ctl: &impl Control, req: Request<'_>, step: &mut Step, obs: &mut dyn Observer) -> Outcome {
    if let Some(o) = name_refusal(req.name) {
        return o;
    }
    let before = match ctl.status(req.name) {
        Ok(s) => s,
        Err(e) => return Outcome::GetFailed(e.errno()),
    };
    step.before = Some(before);
    // rc -EAGAIN: an action is scheduled, or Xen refused one and left the rc
    // so; the call tells (see the module's text).
    let maybe_pending = before.rc == -libc::EAGAIN;
    if let Some(decided) = decided_by_state(req.action, before.state.raw()) {
        return if maybe_pending { ask_if_pending(ctl, req, step, decided, obs) } else { decided };
    }
    // xen-livepatch writes `Applying NAME... ` before the call; where Xen may
    // answer "in progress" (EBUSY) instead, only once it did not.
    if !maybe_pending {
        obs.started(step);
    }
    let sent = ctl.act(req.name, req.action, options(req));
    if maybe_pending && !matches!(&sent, Err(e) if e.errno() == libc::EBUSY) {
        obs.started(step);
    }
    match sent {
        Err(e) if maybe_pending && e.errno() == libc::EBUSY => Outcome::InProgress,
        Err(e) => Outcome::Failed(e.errno()),
        Ok(()) => wait(ctl, req, step),
    }
}

fn options(req: Request<'_>) -> ActionOptions {
    ActionOptions { timeout_ns: HYPERVISOR_TIMEOUT_NS, nodeps: req.nodeps }
}

/// xen-livepatch's checks of the state: the outcome when they end the step
/// before the action is asked for.
fn decided_by_state(action: Action, state: u32) -> Option<Outcome> {
    // xen-livepatch compares the unsigned state with the signed goal (-ENOENT
    // for unload, which no state equals in practice).
    if state == expected_after(action) as u32 {
        Some(Outcome::NoActionNeeded)
    } else if allowed_from(action) & state == 0 {
        Some(Outcome::WrongState { state })
    } else {
        None
    }
}

/// A payload with rc -EAGAIN whose state leaves nothing to do: sends the
/// action, which Xen answers without acting in that state, EBUSY while an
/// action on the payload is scheduled. The payload is read again: if it
/// changed meanwhile (the scheduled action finished just before the call,
/// which then did act), the step is waited for as any other.
fn ask_if_pending(
    ctl: &impl Control,
    req: Request<'_>,
    step: &mut Step,
    decided: Outcome,
    obs: &mut dyn Observer,
) -> Outcome {
    match ctl.act(req.name, req.action, options(req)) {
        Err(e) if e.errno() == libc::EBUSY => return Outcome::InProgress,
        // UNLOAD of a payload that is not CHECKED.
        Err(e) if e.errno() == libc::EINVAL && req.action == Action::Unload => {}
        Err(e) => {
            obs.started(step);
            return Outcome::Failed(e.errno());
        }
        Ok(()) => {}
    }
    if ctl.status(req.name).ok() == step.before {
        return decided;
    }
    obs.started(step);
    wait(ctl, req, step)
}

/// Reads the state until the action is no longer pending, `req.wait` has
/// passed, or SIGINT/SIGTERM came; concludes from xen-livepatch's `rc` of
/// the last read: the GET's -errno, else the payload's non-zero rc, else
/// its state.
fn wait(ctl: &impl Control, req: Request<'_>, step: &mut Step) -> Outcome {
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
            return conclude(req.action, rc);
        }
        if let Some(signal) = crate::interrupt::requested() {
            return Outcome::Interrupted { signal, sent: true };
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
    fn rc_eagain_is_sent_and_only_xens_ebusy_makes_it_in_progress() {
        // (action, status before, what ACTION answers, outcome, GETs made)
        let cases = [
            // Left at -EAGAIN by a refused schedule_work: nothing pending.
            (Action::Apply, st(CHECKED, -11), Ok(()), Outcome::Completed),
            (Action::Unload, st(CHECKED, -11), Ok(()), Outcome::Completed),
            (Action::Revert, st(APPLIED, -11), Ok(()), Outcome::Completed),
            (Action::Apply, st(APPLIED, -11), Ok(()), Outcome::NoActionNeeded),
            (Action::Revert, st(CHECKED, -11), Ok(()), Outcome::NoActionNeeded),
            (Action::Unload, st(APPLIED, -11), Err(libc::EINVAL), Outcome::WrongState { state: APPLIED }),
            // Really scheduled: Xen's is_work_scheduled says EBUSY.
            (Action::Apply, st(CHECKED, -11), Err(libc::EBUSY), Outcome::InProgress),
            (Action::Unload, st(CHECKED, -11), Err(libc::EBUSY), Outcome::InProgress),
            (Action::Apply, st(APPLIED, -11), Err(libc::EBUSY), Outcome::InProgress),
            (Action::Revert, st(CHECKED, -11), Err(libc::EBUSY), Outcome::InProgress),
            (Action::Unload, st(APPLIED, -11), Err(libc::EBUSY), Outcome::InProgress),
        ];
        for (a, before, answer, want) in cases {
            let done = match a {
                Action::Unload => Err(libc::ENOENT),
                Action::Revert => st(CHECKED, 0),
                _ => st(APPLIED, 0),
            };
            // Unchanged at the second read where the state leaves nothing to do.
            let after = if want == Outcome::Completed { done } else { before };
            let mut hv = Scripted::new(vec![before, after]);
            hv.act_result = answer;
            assert_eq!(run(&hv, req(a, 50)).outcome, want, "{a:?} from {before:?}, ACTION {answer:?}");
            assert_eq!(hv.acts.borrow().len(), 1, "{a:?} from {before:?}: not sent once");
        }
        // Without -EAGAIN before, an EBUSY is the call's failure, not "in progress".
        let mut hv = Scripted::new(vec![st(CHECKED, 0)]);
        hv.act_result = Err(libc::EBUSY);
        assert_eq!(run(&hv, req(Action::Apply, 10)).outcome, Outcome::Failed(libc::EBUSY));
    }

    #[test]
    fn a_payload_that_changed_during_the_question_is_waited_for() {
        // The scheduled revert finished just before the APPLY, which then applied.
        let hv = Scripted::new(vec![st(APPLIED, -11), st(CHECKED, -11), st(APPLIED, 0)]);
        let s = run(&hv, req(Action::Apply, 1000));
        assert_eq!((s.outcome, s.after), (Outcome::Completed, After::Status(Status { state: State::Applied, rc: 0 })));
    }

    /// Counts the observer's calls.
    #[derive(Default)]
    struct Counting {
        started: u32,
        ended: u32,
    }

    impl Observer for Counting {
        fn started(&mut self, _: &Step) {
            self.started += 1;
        }
        fn ended(&mut self, _: &Step) {
            self.ended += 1;
        }
    }

    #[test]
    fn the_leading_text_is_announced_exactly_for_the_outcomes_that_print_it() {
        let gets = [st(CHECKED, 0), st(APPLIED, 0), st(CHECKED, -11), st(APPLIED, -11), st(0, 0), Err(libc::ENOENT)];
        let answers = [Ok(()), Err(libc::EBUSY), Err(libc::EINVAL), Err(libc::EPERM)];
        let afters = [st(APPLIED, 0), st(CHECKED, 0), st(CHECKED, -11), st(CHECKED, -16), Err(libc::ENOENT)];
        for a in [Action::Apply, Action::Revert, Action::Unload, Action::Replace] {
            for before in gets {
                for answer in answers {
                    for after in afters {
                        let mut hv = Scripted::new(vec![before, after]);
                        hv.act_result = answer;
                        let mut obs = Counting::default();
                        let s = run_with(&hv, req(a, 5), &mut obs);
                        let want = u32::from(crate::lines::announces(&s.outcome));
                        let case = format!("{a:?} {before:?} {answer:?} {after:?}: {:?}", s.outcome);
                        assert_eq!((obs.started, obs.ended), (want, 1), "{case}");
                    }
                }
            }
        }
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
