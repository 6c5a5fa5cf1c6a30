//! Fuzz target: every output format of `xc-livepatch list` over arbitrary
//! payloads (any name bytes, state, rc and metadata bytes) and arbitrary
//! failures (any errno, with or without sizes and interface version), on a
//! hypervisor of any version text and build id.
//!
//! The input gives the payloads a simulated hypervisor holds; the library
//! lists them (as the command does), and each formatter's output is checked
//! (`common/checks.rs`; any violation panics, which libFuzzer reports):
//!   * JSON: parses, and decodes back to the exact name and metadata bytes,
//!     state and rc of every payload, in order;
//!   * dump: `count N` then exactly N lines of four tab-separated fields,
//!     no control byte, the name unescaping to its exact bytes;
//!   * Prometheus: valid text exposition format (metric and label names,
//!     label value escapes, HELP/TYPE once and before the samples, values),
//!     one `xen_livepatch_info` per payload; replayed with
//!     `XC_FUZZ_PROM_DIR` set, each text is also kept for `promtool`;
//!   * table and the error line: no panic.

#![no_main]

#[path = "common/checks.rs"]
mod checks;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use xc_livepatch::error::Error;
use xc_livepatch::list::Sizes;
use xc_livepatch::sim::{Config, Payload, SimHypervisor};
use xc_livepatch::Failure;
use xc_livepatch_cli::identity::Identity;

fn bytes(u: &mut Unstructured, min: usize, max: usize) -> Result<Vec<u8>> {
    let n = u.int_in_range(min..=max)?;
    (0..n).map(|_| u.arbitrary::<u8>()).collect()
}

fn payloads(u: &mut Unstructured) -> Result<Vec<Payload>> {
    let n = u.int_in_range(0..=24)?;
    (0..n)
        .map(|_| {
            let name = bytes(u, 1, 127)?;
            let meta = bytes(u, 0, 300)?;
            Ok(Payload::new(name, meta).with_state(u.arbitrary()?, u.arbitrary()?))
        })
        .collect()
}

/// `--label-metadata` keys: letters, digits and `_`, as the command accepts.
fn keys(u: &mut Unstructured) -> Result<Vec<String>> {
    const ALPHABET: &[u8] = b"ABCKVXSabz019_";
    let n = u.int_in_range(0..=3)?;
    (0..n)
        .map(|_| {
            let len = u.int_in_range(1..=4)?;
            (0..len).map(|_| Ok(char::from(*u.choose(ALPHABET)?))).collect()
        })
        .collect()
}

/// The hypervisor's version (any text) and build id (any bytes), or none.
fn identity(u: &mut Unstructured) -> Result<Identity> {
    let version = if u.arbitrary()? { Some(String::from_utf8_lossy(&bytes(u, 0, 40)?).into_owned()) } else { None };
    let build_id = if u.arbitrary()? { Some(bytes(u, 0, 40)?) } else { None };
    Ok(Identity { version, build_id })
}

fn failure(u: &mut Unstructured) -> Result<Failure> {
    let sizes = if u.arbitrary()? {
        Some(Sizes {
            nr: u.arbitrary()?,
            name_total_size: u.arbitrary()?,
            metadata_total_size: u.arbitrary()?,
            version: u.arbitrary()?,
        })
    } else {
        None
    };
    Ok(Failure { error: Error::Hypervisor { errno: u.arbitrary()? }, sizes, interface_version: u.arbitrary()? })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(ps), Ok(ks)) = (payloads(&mut u), keys(&mut u)) else { return };
    let id = identity(&mut u).unwrap_or_default();
    let config =
        Config { interface_version: *u.choose(&[0x15, 0x16, 0x13, 0x14]).unwrap_or(&0x15), ..Config::default() };
    match xc_livepatch::snapshot_from(&SimHypervisor::new(ps.clone(), config)) {
        Ok(s) => {
            assert_eq!(s.payloads.len(), ps.len(), "an honest model lists every payload");
            checks::successful(&s, &ks, &id);
        }
        Err(f) => checks::failed(&f, &ks, &id),
    }
    if let Ok(f) = failure(&mut u) {
        checks::failed(&f, &ks, &id);
    }
});
