//! The table `xen-livepatch list` (Xen 4.14 to 4.22, Debian 12's 4.17)
//! prints, byte for byte, and its error lines and exit codes.

use crate::errno::strerror;
use xc_livepatch::{Failure, Payload, Snapshot};

/// Column of the first `|`.
const NAME_WIDTH: usize = 40;

/// The table, byte for byte xen-livepatch's (for a pipe or a file).
pub fn render(s: &Snapshot) -> Vec<u8> {
    render_for(s, false)
}

/// The table; with `escape` (stdout is a terminal), the names' and
/// metadata's control bytes and backslashes shown as `--format dump` shows
/// names ([`crate::dump::escape_name`]), so that a payload's name cannot
/// drive the operator's terminal.
pub fn render_for(s: &Snapshot, escape: bool) -> Vec<u8> {
    let mut o = Vec::new();
    if s.payloads.is_empty() {
        o.extend_from_slice(b"Nothing to list\n");
        return o;
    }
    o.extend_from_slice(format!("{:<NAME_WIDTH$}| status     | metadata\n", " ID").as_bytes());
    o.extend_from_slice(format!("{}+{}+{}\n", "-".repeat(NAME_WIDTH), "-".repeat(12), "-".repeat(15)).as_bytes());
    for p in &s.payloads {
        row(&mut o, p, escape);
    }
    o
}

/// Up to the first NUL, as printf's `%s` stops there.
fn c_string(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

/// `b` as it is, or escaped.
fn shown(b: &[u8], escape: bool) -> std::borrow::Cow<'_, [u8]> {
    if !escape {
        return b.into();
    }
    let mut e = Vec::with_capacity(b.len());
    crate::dump::escape_name(b, &mut e);
    e.into()
}

fn row(o: &mut Vec<u8>, p: &Payload, escape: bool) {
    // printf("%-40.*s| ", len, name): padded to 40 bytes, never cut.
    let name = shown(c_string(p.name_bytes()), escape);
    o.extend_from_slice(&name);
    o.resize(o.len() + NAME_WIDTH.saturating_sub(name.len()), b' ');
    o.extend_from_slice(b"| ");
    o.extend_from_slice(p.state.as_str().as_bytes());
    if p.rc != 0 {
        let e = p.rc.wrapping_neg();
        o.extend_from_slice(format!(" ({e}, {})", strerror(e)).as_bytes());
    }
    o.extend_from_slice(b"    | ");
    // Every NUL but the last byte becomes ';'; the last byte stays; printed
    // up to the first NUL left.
    let m = p.metadata_raw();
    if let Some((last, body)) = m.split_last() {
        let mut shown: Vec<u8> = body.iter().map(|&b| if b == 0 { b';' } else { b }).collect();
        shown.push(*last);
        o.extend_from_slice(&self::shown(c_string(&shown), escape));
    }
    o.push(b'\n');
}

/// xen-livepatch's exit status for a failure with this errno.
pub fn exit_code(errno: i32) -> u8 {
    match errno {
        libc::EAGAIN | libc::EBUSY => 2,
        _ => 1,
    }
}

/// The lines xen-livepatch prints on stderr when listing fails. A missing
/// privcmd (no Xen) gets the same two lines and a hint, where xen-livepatch
/// prints libxencall's complaint and exits 0.
pub fn failure(f: &Failure) -> Vec<u8> {
    let e = f.error.errno();
    let mut o = match f.sizes {
        None => b"Failed to get list sizes.\n".to_vec(),
        // libxenctrl prints `left`, which is 0 after a failed call of ours.
        Some(sizes) => format!("Failed to list 0/{}.\n", sizes.nr).into_bytes(),
    };
    o.extend_from_slice(format!("Error {e}: {}\n", strerror(e)).as_bytes());
    if crate::source::privcmd_missing(&f.error) {
        if let Some(h) = crate::errno::hint(e) {
            o.extend_from_slice(format!("xc-livepatch: {h}\n").as_bytes());
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::*;

    fn text(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn empty_list_is_nothing_to_list() {
        assert_eq!(text(render(&snapshot(vec![]))), "Nothing to list\n");
    }

    #[test]
    fn header_is_63_and_69_columns_with_bars_at_40_and_53() {
        let t = text(render(&snapshot(vec![payload("a", 1, 0, b"")])));
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0].len(), 63);
        assert_eq!(lines[0].find('|'), Some(40));
        assert_eq!(lines[0].rfind('|'), Some(53));
        assert_eq!(lines[1].len(), 69);
    }

    #[test]
    fn row_pads_name_and_joins_metadata_with_semicolons() {
        let t = text(render(&snapshot(vec![payload("xsa-123", 2, 0, b"A=1\0\0B=2\0")])));
        assert_eq!(t.lines().nth(2).unwrap(), format!("{:<40}| APPLIED    | A=1;;B=2", "xsa-123"));
    }

    #[test]
    fn rc_prints_errno_and_text_and_breaks_alignment() {
        let t = text(render(&snapshot(vec![payload("p", 1, -11, b"X=1\0")])));
        assert_eq!(
            t.lines().nth(2).unwrap(),
            format!("{:<40}| CHECKED (11, Resource temporarily unavailable)    | X=1", "p")
        );
    }

    #[test]
    fn empty_metadata_leaves_trailing_space_and_lone_nul_prints_nothing() {
        let t = text(render(&snapshot(vec![payload("a", 1, 0, b""), payload("b", 1, 0, b"\0")])));
        assert!(t.lines().nth(2).unwrap().ends_with("| "));
        assert!(t.lines().nth(3).unwrap().ends_with("| "));
    }

    #[test]
    fn metadata_without_final_nul_keeps_its_last_byte() {
        let t = text(render(&snapshot(vec![payload("a", 1, 0, b"A=1\0B")])));
        assert!(t.lines().nth(2).unwrap().ends_with("| A=1;B"));
    }

    #[test]
    fn unknown_state_long_names_and_raw_bytes_pass_through() {
        let long = "n".repeat(127);
        let out = render(&snapshot(vec![payload(&long, 0, 0, b"K=\xff\xfe\0"), payload("s", 7, 0, b"")]));
        let rows: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(rows[2], [long.as_bytes(), b"| unknown    | K=\xff\xfe"].concat());
        assert_eq!(rows[3], format!("{:<40}| unknown    | ", "s").as_bytes());
    }

    #[test]
    fn on_a_terminal_control_bytes_in_names_and_metadata_are_escaped() {
        let snap = snapshot(vec![payload(b"a\x1b]0;pwned\x07\\", 1, 0, b"K=\x1b[2J\0V=\xff\0")]);
        let raw = render_for(&snap, false);
        assert_eq!(raw, render(&snap));
        assert!(raw.windows(2).any(|w| w == b"\x1b]"), "a pipe gets the bytes");
        let t = render_for(&snap, true);
        let row = t.split(|&b| b == b'\n').nth(2).unwrap();
        assert_eq!(row, [&b"a\\x1b]0;pwned\\x07\\\\"[..], &[b' '; 21], b"| CHECKED    | K=\\x1b[2J;V=\xff"].concat());
        assert!(!t.iter().any(|&b| b == 0x1b || b == 0x07));
    }

    #[test]
    fn rc_of_int_min_does_not_overflow() {
        let t = text(render(&snapshot(vec![payload("a", 1, i32::MIN, b"")])));
        assert!(t.contains("(-2147483648, Unknown error -2147483648)"));
    }

    #[test]
    fn failures_before_and_after_the_size_probe() {
        assert_eq!(
            text(failure(&failed(libc::ENOSYS, None))),
            "Failed to get list sizes.\nError 38: Function not implemented\n"
        );
        assert_eq!(
            text(failure(&failed(libc::EAGAIN, Some(10)))),
            "Failed to list 0/10.\nError 11: Resource temporarily unavailable\n"
        );
        assert_eq!(exit_code(libc::EAGAIN), 2);
        assert_eq!(exit_code(libc::EBUSY), 2);
        assert_eq!(exit_code(libc::EACCES), 1);
    }
}
