//! The bounds of [`super::bounds`]: every count and size a scenario gives is
//! checked before anything is allocated, with one line naming it.

use super::*;

fn error(text: &str) -> String {
    parse(text).expect_err(text)
}

#[test]
fn numbers_beyond_their_field_are_errors_not_truncated() {
    assert_eq!(error("interface 0x100000015"), "line 1: interface 0x100000015 is out of range (at most 4294967295)");
    assert_eq!(parse("interface 0xffffffff").unwrap().config.interface_version, u32::MAX);
    for t in [
        "list-max-nr 4294967296",
        "preempt 99999999999999999999999",
        "lie name-bytes 0x1ffffffff",
        "lie meta-bytes 4294967296",
        "payload a state=4294967296",
        "at list 1 state a 0x100000001 0",
    ] {
        assert!(error(t).contains("out of range (at most 4294967295)"), "{t}: {}", error(t));
    }
    assert_eq!(error("preempt 12a"), "line 1: bad number \"12a\"");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "size is the point: tens of thousands of payloads or megabytes, hours under Miri; the bounds code itself runs in numbers_beyond_their_field_are_errors_not_truncated"
)]
fn generate_is_bounded_before_it_allocates() {
    assert_eq!(
        error("generate 18446744073709551615 10"),
        "line 1: generate: payload count 18446744073709551615 is out of range (at most 65536)"
    );
    assert_eq!(
        error("generate 1 3000000000"),
        "line 1: generate: metadata size 3000000000 is out of range (at most 1048576)"
    );
    assert_eq!(error("generate 65536 1000"), "line 1: more than 33554432 bytes of payload names and metadata in all");
    assert_eq!(error("generate 40000 0\ngenerate 30000 0"), "line 2: more than 65536 payloads in all");
    assert_eq!(parse("generate 65536 0").unwrap().payloads.len(), 65536);
    assert_eq!(parse("generate 31 1048576").unwrap().payloads.len(), 31);
    assert_eq!(error("generate 32 1048576"), "line 1: more than 33554432 bytes of payload names and metadata in all");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "size is the point: tens of thousands of payloads or megabytes, hours under Miri; the bounds code itself runs in numbers_beyond_their_field_are_errors_not_truncated"
)]
fn payloads_and_uploads_share_the_bounds() {
    let big = "a".repeat(2 * 1024 * 1024);
    assert_eq!(error(&format!("payload x meta={big}")), "line 1: more than 1048576 bytes of metadata in one payload");
    assert_eq!(
        error(&format!("at list 1 upload x meta={big}")),
        "line 1: more than 1048576 bytes of metadata in one payload"
    );
    let mut text = "generate 65535 0\npayload last\n".to_string();
    assert_eq!(parse(&text).unwrap().payloads.len(), 65536);
    text.push_str("at data 1 upload one-too-many\n");
    assert_eq!(error(&text), "line 3: more than 65536 payloads in all");
}

fn scratch(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("xc-livepatch-scn-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
#[cfg_attr(miri, ignore = "kernel-only: mkfifo, /dev/zero and the file system, which Miri's isolation refuses")]
fn read_file_refuses_what_is_not_a_regular_file_without_waiting() {
    let d = scratch("kinds");
    let fifo = d.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Opened without a writer: it must not block.
    assert!(read_file(&fifo).unwrap_err().ends_with("not a regular file (a device, FIFO or socket)"));
    assert!(read_file(std::path::Path::new("/dev/zero")).unwrap_err().contains("not a regular file"));
    assert!(read_file(&d).unwrap_err().ends_with("not a regular file (a directory)"));
    assert!(read_file(&d.join("missing")).unwrap_err().starts_with("cannot read scenario "));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "kernel-only: mkfifo, /dev/zero and the file system, which Miri's isolation refuses")]
fn read_file_takes_up_to_the_bound_and_refuses_one_byte_more() {
    let d = scratch("size");
    let f = d.join("s.scn");
    let mut text = vec![b'#'; bounds::FILE_BYTES as usize - 1];
    text.push(b'\n');
    std::fs::write(&f, &text).unwrap();
    assert_eq!(read_file(&f).unwrap().len(), bounds::FILE_BYTES as usize);
    text.insert(0, b'#');
    std::fs::write(&f, &text).unwrap();
    assert_eq!(read_file(&f).unwrap_err(), format!("scenario {}: larger than 4194304 bytes", f.display()));
    std::fs::write(&f, b"\xff").unwrap();
    assert!(read_file(&f).unwrap_err().ends_with("not UTF-8 text"));
    std::fs::remove_dir_all(&d).unwrap();
}
