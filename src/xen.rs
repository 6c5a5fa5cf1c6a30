//! The real hypervisor: sysctl hypercalls through privcmd, arguments in
//! hypercall buffers.

use crate::abi::{__HYPERVISOR_sysctl, __HYPERVISOR_xen_version};
use crate::error::Result;
use crate::hypercall_buffer::HypercallBuffer;
use crate::privcmd;
use crate::sysctl::{Buffer, Hypervisor};
use core::sync::atomic::AtomicU32;

/// The sysctl interface version found on this host (0 until probed). One
/// hypervisor per host, so one per process.
static INTERFACE: AtomicU32 = AtomicU32::new(0);
/// The payload count of the latest size probe in this process.
static COUNT_HINT: AtomicU32 = AtomicU32::new(0);

/// The hypervisor this process runs on, reached through `/dev/xen/privcmd`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Xen;

impl Buffer for HypercallBuffer {
    fn as_mut_ptr(&mut self) -> *mut u8 {
        HypercallBuffer::as_mut_ptr(self)
    }
    fn len(&self) -> usize {
        HypercallBuffer::len(self)
    }
    fn as_slice(&self) -> &[u8] {
        HypercallBuffer::as_slice(self)
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        HypercallBuffer::as_mut_slice(self)
    }
}

impl Hypervisor for Xen {
    type Buffer = HypercallBuffer;

    fn alloc(&self, bytes: usize) -> Result<HypercallBuffer> {
        HypercallBuffer::new(bytes)
    }

    fn sysctl(&self, buf: &mut HypercallBuffer) -> Result<i64> {
        let addr = buf.as_mut_ptr() as u64;
        privcmd::hypercall(u64::from(__HYPERVISOR_sysctl), [addr, 0, 0, 0, 0])
    }

    fn xen_version(&self, cmd: u32, buf: Option<&mut HypercallBuffer>) -> Result<i64> {
        let addr = buf.map_or(0, |b| b.as_mut_ptr() as u64);
        privcmd::hypercall(u64::from(__HYPERVISOR_xen_version), [u64::from(cmd), addr, 0, 0, 0])
    }

    fn interface_cache(&self) -> &AtomicU32 {
        &INTERFACE
    }

    fn count_hint(&self) -> &AtomicU32 {
        &COUNT_HINT
    }
}
