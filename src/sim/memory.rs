//! Guest memory as the simulated hypervisor sees it: a set of registered
//! address ranges. Any access outside them faults (EFAULT), as an access to
//! memory that is not hypercall-safe may on a real hypervisor.

use super::GuestMemory;
use crate::sysctl::Buffer;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Registered ranges, `start -> len`.
#[derive(Debug, Default)]
pub struct Ranges {
    live: Mutex<BTreeMap<usize, usize>>,
}

impl Ranges {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<usize, usize>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `[start, start + len)` accessible to the hypervisor.
    ///
    /// # Safety
    /// The range must stay valid for reads and writes of bytes until it is
    /// unregistered, and nothing else may access it while a hypercall that
    /// uses it runs (its owner is blocked in the hypercall, as a guest is).
    pub unsafe fn register(&self, start: usize, len: usize) {
        self.lock().insert(start, len);
    }

    /// Forgets the range registered at `start`.
    pub fn unregister(&self, start: usize) {
        self.lock().remove(&start);
    }

    /// Number of registered ranges.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// The registered ranges as `(start, len)`.
    pub fn ranges(&self) -> Vec<(usize, usize)> {
        self.lock().iter().map(|(&a, &l)| (a, l)).collect()
    }

    /// `addr` if `[addr, addr + len)` lies inside one registered range.
    fn find(&self, addr: u64, len: usize) -> Option<usize> {
        let a = usize::try_from(addr).ok()?;
        let end = a.checked_add(len)?;
        let live = self.lock();
        let (&start, &l) = live.range(..=a).next_back()?;
        (end <= start + l).then_some(a)
    }
}

impl GuestMemory for Ranges {
    fn read(&self, addr: u64, out: &mut [u8]) -> bool {
        match self.find(addr, out.len()) {
            // SAFETY: the range lies inside a registered range, valid and
            // not otherwise accessed for now (`register`'s contract).
            Some(a) => unsafe {
                core::ptr::copy(a as *const u8, out.as_mut_ptr(), out.len());
                true
            },
            None => out.is_empty(),
        }
    }

    fn write(&self, addr: u64, data: &[u8]) -> bool {
        match self.find(addr, data.len()) {
            // SAFETY: as in `read`.
            Some(a) => unsafe {
                core::ptr::copy(data.as_ptr(), a as *mut u8, data.len());
                true
            },
            None => data.is_empty(),
        }
    }
}

/// Zeroed, page-sized heap memory usable as a hypercall buffer by models of
/// the hypervisor (it is not hypercall-safe for a real one).
#[derive(Debug)]
pub struct HeapBuffer {
    mem: Box<[u64]>,
    len: usize,
}

impl HeapBuffer {
    /// At least `bytes` (at least one page), in whole pages.
    pub fn new(bytes: usize) -> HeapBuffer {
        let len = bytes.max(1).next_multiple_of(4096);
        HeapBuffer { mem: vec![0u64; len / 8].into_boxed_slice(), len }
    }
}

impl Buffer for HeapBuffer {
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.mem.as_mut_ptr().cast()
    }
    fn len(&self) -> usize {
        self.len
    }
    fn as_slice(&self) -> &[u8] {
        // SAFETY: `mem` holds `len` initialised bytes (u64s are plain data)
        // and is borrowed immutably for the slice's lifetime.
        unsafe { core::slice::from_raw_parts(self.mem.as_ptr().cast(), self.len) }
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes the borrow unique, and
        // any byte pattern is a valid u64.
        unsafe { core::slice::from_raw_parts_mut(self.mem.as_mut_ptr().cast(), self.len) }
    }
}

/// What a [`Tracked`] buffer runs when it is dropped.
type OnDrop<B> = Box<dyn FnOnce(&mut B)>;

/// A buffer that runs a closure when it is dropped: to unregister it from a
/// [`Ranges`], or to count it.
pub struct Tracked<B: Buffer> {
    inner: B,
    on_drop: Option<OnDrop<B>>,
}

impl<B: Buffer> Tracked<B> {
    /// Wraps `inner`; `on_drop` runs once, before `inner` is dropped.
    pub fn new(inner: B, on_drop: impl FnOnce(&mut B) + 'static) -> Tracked<B> {
        Tracked { inner, on_drop: Some(Box::new(on_drop)) }
    }
}

impl<B: Buffer + std::fmt::Debug> std::fmt::Debug for Tracked<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<B: Buffer> Buffer for Tracked<B> {
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.inner.as_mut_ptr()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn as_slice(&self) -> &[u8] {
        self.inner.as_slice()
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        self.inner.as_mut_slice()
    }
}

impl<B: Buffer> Drop for Tracked<B> {
    fn drop(&mut self) {
        if let Some(f) = self.on_drop.take() {
            f(&mut self.inner);
        }
    }
}
