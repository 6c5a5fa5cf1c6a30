//! `xc-livepatch list --format dump`: the line format test harnesses read
//! (the one `examples/xc-livepatch-list --dump` and the C `lpdump` print):
//! `count N`, then per payload `name<TAB>state<TAB>rc<TAB>hex(metadata)`.

use std::fmt::Write as _;
use xc_livepatch::Snapshot;

/// The dump.
pub fn render(s: &Snapshot) -> Vec<u8> {
    let mut o = format!("count {}\n", s.payloads.len()).into_bytes();
    for p in &s.payloads {
        o.extend_from_slice(p.name_bytes());
        let mut line = format!("\t{}\t{}\t", p.state.raw(), p.rc);
        for b in p.metadata_raw() {
            let _ = write!(line, "{b:02x}");
        }
        line.push('\n');
        o.extend_from_slice(line.as_bytes());
    }
    o
}

/// `xc-livepatch iface`: the interface version in hex, e.g. `0x15`.
pub fn interface(v: u32) -> Vec<u8> {
    format!("{v:#x}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::*;

    #[test]
    fn dump_is_count_then_one_tab_separated_line_per_payload() {
        let out = render(&snapshot(vec![payload(b"a\xff", 2, -16, b"A=1\0\0"), payload("b", 1, 0, b"")]));
        assert_eq!(out, b"count 2\na\xff\t2\t-16\t413d310000\nb\t1\t0\t\n");
        assert_eq!(render(&snapshot(vec![])), b"count 0\n");
    }

    #[test]
    fn interface_is_lower_case_hex() {
        assert_eq!(interface(0x15), b"0x15\n");
    }
}
