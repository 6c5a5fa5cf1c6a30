//! A `Hypervisor` whose buffers are the library's real `HypercallBuffer`s
//! (mmap'd, guard page, MAP_LOCKED + MADV_DONTFORK anonymous pages: no
//! /dev/xen/hypercall here) and whose hypercalls run the `sim` model on them.
//! Used by the hardening tests that need the real allocation path (mmap
//! failure injection, fork).

#![allow(dead_code)]

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use xc_livepatch::hypercall_buffer::HypercallBuffer;
use xc_livepatch::sim::{Config, Payload, Ranges, Sim, Tracked};
use xc_livepatch::sysctl::{Buffer, Hypervisor};

/// A real hypercall buffer, registered with the model while alive.
pub type RealBuf = Tracked<HypercallBuffer>;

/// Called inside every hypercall, after the model ran (test hook).
pub type Hook = Box<dyn Fn(&mut RealBuf) + Send + Sync>;

pub struct RealBufSim {
    pub sim: Sim,
    pub regions: Arc<Ranges>,
    iface: AtomicU32,
    hint: AtomicU32,
    pub hook: Mutex<Option<Arc<Hook>>>,
}

impl RealBufSim {
    pub fn new(payloads: Vec<Payload>, cfg: Config) -> RealBufSim {
        RealBufSim {
            sim: Sim::new(payloads, cfg),
            regions: Arc::default(),
            iface: AtomicU32::new(0),
            hint: AtomicU32::new(0),
            hook: Mutex::new(None),
        }
    }
}

impl Hypervisor for RealBufSim {
    type Buffer = RealBuf;

    fn alloc(&self, bytes: usize) -> xc_livepatch::Result<RealBuf> {
        let mut inner = HypercallBuffer::new(bytes)?;
        let (start, len) = (inner.as_mut_ptr(), inner.len());
        // SAFETY: the mapping stays alive until the RealBuf's Drop, which
        // unregisters it first; its owner is blocked during each hypercall.
        unsafe { self.regions.register(start, len) };
        let regions = self.regions.clone();
        Ok(Tracked::new(inner, move |b| regions.unregister(b.as_mut_ptr() as usize)))
    }

    fn sysctl(&self, buf: &mut RealBuf) -> xc_livepatch::Result<i64> {
        let addr = buf.as_mut_ptr() as u64;
        let r = self.sim.hypercall(&*self.regions, 35, [addr, 0, 0, 0, 0]);
        let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(h) = hook {
            h(buf);
        }
        if r < 0 {
            Err(xc_livepatch::Error::Hypervisor { errno: (-r) as i32 })
        } else {
            Ok(r)
        }
    }

    fn interface_cache(&self) -> &AtomicU32 {
        &self.iface
    }

    fn count_hint(&self) -> &AtomicU32 {
        &self.hint
    }
}

/// Number of mappings in /proc/self/maps.
pub fn mapping_count() -> usize {
    std::fs::read_to_string("/proc/self/maps").unwrap().lines().count()
}

/// Whether `addr` is mapped in this process.
pub fn is_mapped(addr: usize) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().any(|line| {
        let range = line.split_whitespace().next().unwrap();
        let (a, b) = range.split_once('-').unwrap();
        let (a, b) = (usize::from_str_radix(a, 16).unwrap(), usize::from_str_radix(b, 16).unwrap());
        (a..b).contains(&addr)
    })
}
