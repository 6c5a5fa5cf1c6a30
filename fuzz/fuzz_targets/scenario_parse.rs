//! Fuzz target: the scenario parser that `xc-livepatch --sim` and the
//! fakexen shim share (`src/sim/scenario.rs`), then, for scenarios small
//! enough to list quickly, the listing and every output format of the
//! command over them.
//!
//! Checked (a violation panics, which libFuzzer reports):
//!   * any text is parsed or refused with one line, never a panic, an abort
//!     or an allocation beyond the bounds (libFuzzer's -rss_limit_mb);
//!   * an accepted scenario is within `scenario::bounds` (payload count,
//!     metadata per payload, names and metadata in all);
//!   * running it as the command does never panics, and its outputs hold
//!     the formatters' invariants (`common/checks.rs`).

#![no_main]

#[path = "common/checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;
use xc_livepatch::sim::scenario::{bounds, parse, ScenarioHypervisor};
use xc_livepatch_cli::identity::Identity;

/// Scenarios up to this many payloads, and this many name and metadata
/// bytes, are also listed and formatted (larger ones only slow the search:
/// the formatters' target covers the outputs).
const LISTED: usize = 300;
const LISTED_BYTES: u64 = 256 << 10;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sc = match parse(&text) {
        Ok(sc) => sc,
        Err(e) => {
            assert!(!e.contains('\n'), "a multi-line error: {e:?}");
            return;
        }
    };
    assert!(sc.payloads.len() as u64 <= bounds::PAYLOADS);
    let mut total = 0u64;
    for p in &sc.payloads {
        assert!(p.metadata.len() as u64 <= bounds::METADATA_BYTES);
        total += (p.name.len() + p.metadata.len()) as u64;
    }
    assert!(total <= bounds::TOTAL_BYTES);
    if sc.payloads.len() > LISTED || total > LISTED_BYTES {
        return;
    }
    let hv = ScenarioHypervisor::new(&sc);
    let _ = xc_livepatch::interface_version_of(&hv);
    let hv = ScenarioHypervisor::new(&sc);
    // The identity as the command reads it (`Source::identity`).
    let id = Identity {
        version: xc_livepatch::xenver::version(&hv).ok().map(|v| v.to_string()),
        build_id: xc_livepatch::xenver::build_id(&hv).ok(),
    };
    match xc_livepatch::snapshot_from(&hv) {
        Ok(s) => checks::successful(&s, &["VERSION".to_string()], &id),
        Err(f) => checks::failed(&f, &[], &id),
    }
});
