//! Guest memory as the simulated hypervisor sees it: a set of registered
//! address ranges. Any access outside them faults (EFAULT), as an access to
//! memory that is not hypercall-safe may on a real hypervisor.
//!
//! The hypervisor receives guest addresses as integers (handles inside the
//! `xen_sysctl`). Each registered range keeps the pointer it was registered
//! with, and every access is derived from that pointer (`with_addr`), never
//! from the integer alone: the model has exactly the provenance of the
//! memory it was given (checked by Miri with `-Zmiri-strict-provenance`).

use super::GuestMemory;
use crate::sysctl::Buffer;
use core::ptr::NonNull;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// One registered range: the pointer it was registered with and its length.
#[derive(Debug, Clone, Copy)]
struct Region {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a Region is only dereferenced inside `Ranges::read` / `write`, under
// the contract of `Ranges::register` (valid, and not otherwise accessed while
// a hypercall uses it), whichever thread runs the hypercall.
unsafe impl Send for Region {}

/// Registered ranges, by start address.
#[derive(Debug, Default)]
pub struct Ranges {
    live: Mutex<BTreeMap<usize, Region>>,
}

impl Ranges {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<usize, Region>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `[start, start + len)` accessible to the hypervisor; every
    /// access to it is made through `start` (and so with its provenance).
    ///
    /// # Safety
    /// The range must stay valid for reads and writes of bytes through
    /// `start` until it is unregistered, and nothing else may access it while
    /// a hypercall that uses it runs (its owner is blocked in the hypercall,
    /// as a guest is).
    pub unsafe fn register(&self, start: *mut u8, len: usize) {
        self.lock().insert(start.addr(), Region { ptr: start, len });
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
        self.lock().iter().map(|(&a, r)| (a, r.len)).collect()
    }

    /// A pointer to `addr`, derived from the registered range's pointer, if
    /// `[addr, addr + len)` lies inside one registered range.
    fn find(&self, addr: u64, len: usize) -> Option<*mut u8> {
        let a = usize::try_from(addr).ok()?;
        let end = a.checked_add(len)?;
        let live = self.lock();
        let (&start, r) = live.range(..=a).next_back()?;
        (end <= start + r.len).then_some(r.ptr.with_addr(a))
    }
}

impl GuestMemory for Ranges {
    fn read(&self, addr: u64, out: &mut [u8]) -> bool {
        match self.find(addr, out.len()) {
            // SAFETY: the range lies inside a registered range, valid and
            // not otherwise accessed for now (`register`'s contract).
            Some(p) => unsafe {
                core::ptr::copy(p.cast_const(), out.as_mut_ptr(), out.len());
                true
            },
            None => out.is_empty(),
        }
    }

    fn write(&self, addr: u64, data: &[u8]) -> bool {
        match self.find(addr, data.len()) {
            // SAFETY: as in `read`.
            Some(p) => unsafe {
                core::ptr::copy(data.as_ptr(), p, data.len());
                true
            },
            None => data.is_empty(),
        }
    }
}

/// Zeroed, page-sized heap memory usable as a hypercall buffer by models of
/// the hypervisor (it is not hypercall-safe for a real one).
///
/// The memory is held through a raw pointer, not a `Box`: a `Box` asserts
/// unique access whenever it is moved (Stacked Borrows retags it), which
/// would invalidate the pointer the buffer was registered with in a
/// [`Ranges`] as soon as the buffer moves (into a [`Tracked`], or out of
/// `alloc`). Every access, the model's included, derives from `ptr`.
#[derive(Debug)]
pub struct HeapBuffer {
    /// `len / 8` u64s from `Box::<[u64]>::into_raw`, owned; freed in `Drop`.
    ptr: NonNull<u64>,
    len: usize,
}

// SAFETY: the buffer owns its allocation exclusively (as the Box<[u64]> it
// was made from would); shared access only reads, through `as_slice`.
unsafe impl Send for HeapBuffer {}
// SAFETY: as above: `&HeapBuffer` allows only reads.
unsafe impl Sync for HeapBuffer {}

impl HeapBuffer {
    /// At least `bytes` (at least one page), in whole pages.
    pub fn new(bytes: usize) -> HeapBuffer {
        let len = bytes.max(1).next_multiple_of(4096);
        let mem: Box<[u64]> = vec![0u64; len / 8].into_boxed_slice();
        // SAFETY: `Box::into_raw` never returns null.
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(mem).cast::<u64>()) };
        HeapBuffer { ptr, len }
    }
}

impl Drop for HeapBuffer {
    fn drop(&mut self) {
        let mem = core::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len / 8);
        // SAFETY: `mem` is exactly the boxed slice leaked in `new`, freed
        // only here, once.
        drop(unsafe { Box::from_raw(mem) });
    }
}

impl Buffer for HeapBuffer {
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr().cast()
    }
    fn len(&self) -> usize {
        self.len
    }
    fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` holds `len` initialised bytes (u64s are plain data),
        // owned by `self`, and borrowed immutably for the slice's lifetime.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().cast(), self.len) }
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes the borrow unique, and
        // any byte pattern is a valid u64.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr().cast(), self.len) }
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
