//! The memory page: the unit the kernel maps and the hypervisor copies in.
//! Below every module that maps memory (`hypercall_buffer`, `fork_guard`),
//! importing nothing.

/// The page size of every architecture Xen's livepatch supports (x86, Arm).
pub const PAGE_SIZE: usize = 4096;
