//! `xc-livepatch list --format dump`: the line format test harnesses read
//! (the one the C `lpdump` of tests/real-xen prints):
//! `count N`, then one line per payload,
//! `escaped-name<TAB>state<TAB>rc<TAB>hex(metadata)`.
//! In the name, a backslash is `\\` and every control byte (0x00-0x1f,
//! 0x7f: newline, tab...) is `\xNN` (lower-case hex); other bytes, also
//! non-UTF-8 ones, are as they are. So each payload is exactly one line.

use std::fmt::Write as _;
use xc_livepatch::Snapshot;

/// Appends `name` escaped (see the module's documentation).
pub fn escape_name(name: &[u8], out: &mut Vec<u8>) {
    for &b in name {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            _ => out.push(b),
        }
    }
}

/// The dump.
pub fn render(s: &Snapshot) -> Vec<u8> {
    let mut o = format!("count {}\n", s.payloads.len()).into_bytes();
    for p in &s.payloads {
        escape_name(p.name_bytes(), &mut o);
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
    fn names_are_escaped_so_that_each_payload_is_one_line() {
        let out = render(&snapshot(vec![
            payload(b"new\nline\ttab\\back\r\x7f\x00\x1f", 1, 0, b"K=v\n\0"),
            payload(b"\\x0a", 2, -11, b""),
        ]));
        assert_eq!(
            out,
            b"count 2\nnew\\x0aline\\x09tab\\\\back\\x0d\\x7f\\x00\\x1f\t1\t0\t4b3d760a00\n\\\\x0a\t2\t-11\t\n"
        );
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 3);
    }

    #[test]
    fn interface_is_lower_case_hex() {
        assert_eq!(interface(0x15), b"0x15\n");
    }
}
