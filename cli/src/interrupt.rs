//! SIGINT and SIGTERM as a flag the command looks at between two steps of
//! a wait, so that Ctrl-C or a service manager's stop ends a wait with what
//! is known printed, instead of killing the command half-way.
//!
//! - The handler does one thing: an atomic store of the signal's number
//!   (async-signal-safe; no allocation, no lock, no I/O).
//! - `SA_RESTART` is **not** set: a blocking call (`nanosleep`, `flock`,
//!   `poll`) the signal arrives in returns `EINTR`, so a caller that waits
//!   in one can look at [`requested`] at once. The standard library's
//!   reads and writes (`write_all`, `read_to_end`) retry `EINTR` by
//!   themselves; `std::thread::sleep` sleeps on for what is left, which is
//!   why the command's waits sleep at most [`crate::actions::MAX_POLL_GAP`]
//!   (20 ms) at a time and look at the flag between sleeps.
//! - The handler stays installed: a second SIGINT or SIGTERM changes
//!   nothing (the first one's number is kept). `timeout -s INT` sends its
//!   signal to the command and then to the command's process group, so the
//!   command often gets it twice in a row; with `SA_RESETHAND` the second
//!   one killed it before it could say what it had started (seen in
//!   32-cli's `timeout` part under load). Every wait looks at the flag at
//!   least every 20 ms, so nothing is left to hurry.

use std::sync::atomic::{AtomicI32, Ordering};

/// 0 until a signal arrived, then its number (the first one).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // An atomic store is async-signal-safe; the first signal wins.
    let _ = SIGNAL.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
}

/// Installs the handler for SIGINT and SIGTERM (see the module's text).
/// Idempotent; a failure of `sigaction` (it has none for these signals)
/// leaves the default action in place.
#[allow(unsafe_code)]
pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: an all-zero `sigaction` is a valid value (no flags, empty
        // mask) which the lines below complete; `on_signal` has the
        // `extern "C" fn(c_int)` type `sa_handler` expects (no SA_SIGINFO)
        // and only does an atomic store; the old action is not asked for
        // (null); `sigemptyset` gets a valid pointer to the mask.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            sa.sa_flags = 0;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The number of the first SIGINT or SIGTERM since [`install`], if one
/// arrived.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// The exit status for a command ended by `sig`: 128 + its number (130 for
/// SIGINT, 143 for SIGTERM), as a shell reports a process the signal
/// killed, so that a caller sees it was stopped, not that it failed.
pub fn exit_status(sig: i32) -> u8 {
    u8::try_from(128 + sig.clamp(0, 127)).unwrap_or(u8::MAX)
}

/// `SIGINT`, `SIGTERM`, or `signal N`.
pub fn name(sig: i32) -> String {
    match sig {
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The handler itself is tested with real signals sent to the command
    // (tests/cli.rs): raising one here would stop the other unit tests'
    // waits, which share this process's flag.
    #[test]
    fn exit_status_is_128_plus_the_signal() {
        assert_eq!((exit_status(libc::SIGINT), exit_status(libc::SIGTERM)), (130, 143));
        assert_eq!((name(libc::SIGINT), name(libc::SIGTERM)), ("SIGINT".into(), "SIGTERM".into()));
    }
}
