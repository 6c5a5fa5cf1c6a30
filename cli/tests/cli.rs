//! The command as a process: usage errors, --version, --help, a closed pipe,
//! the missing hypervisor, bad scenario files, and every format over the
//! scenario files (never a panic).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xc-livepatch"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run xc-livepatch")
}

fn scenario(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn no_panic(o: &Output) {
    assert!(!stderr(o).contains("panicked"), "panic: {}", stderr(o));
    assert!(o.status.code().is_some(), "killed by a signal: {:?}", o.status);
}

#[test]
fn usage_errors_exit_2() {
    let demo = scenario("tests/fakexen/demo.scn");
    for args in [
        vec!["list", "--format", "yaml"],
        vec!["list", "--bogus"],
        vec!["frobnicate"],
        vec!["list", "--json", "--format", "table"],
        vec!["--sim", &demo, "list", "--label-metadata", "VERSION"],
        vec!["--sim", &demo, "list", "--format", "prometheus", "--label-metadata", "BAD-KEY"],
        vec!["list", "--output"],
        vec!["apply"],
        vec!["upload", "only-a-name"],
        vec!["--sim", &demo, "apply", "x", "--wait", "5"],
        vec!["--sim", &demo, "apply", "x", "--wait", "soon"],
        vec!["--sim", &demo, "revert", "x", "--nodeps"],
        vec!["--sim", &demo, "unload", "x", "--force"],
        vec!["load"],
        vec![],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
        no_panic(&o);
    }
}

#[test]
fn version_names_the_command_and_crate_version() {
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("xc-livepatch {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn list_help_explains_every_format() {
    let o = run(&["list", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for f in ["table:", "json:", "prometheus:", "dump:", "--label-metadata", "--output", "--json", "name_base64"] {
        assert!(help.contains(f), "list --help lacks {f}");
    }
}

#[test]
fn closed_pipe_ends_quietly() {
    // 1500 payloads: far more than a pipe buffer, so the writes hit EPIPE.
    for fmt in ["json", "table", "prometheus", "dump"] {
        let mut child = bin()
            .args(["--sim", &scenario("cli/tests/scenarios/03-many-payloads.scn"), "list", "--format", fmt])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap(); // then dropped: the pipe closes
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{fmt}: {:?} {}", o.status, stderr(&o));
        assert!(o.stderr.is_empty(), "{fmt}: {}", stderr(&o));
    }
}

fn xen_here() -> bool {
    Path::new("/dev/xen/privcmd").exists() || Path::new("/proc/xen/privcmd").exists()
}

#[test]
fn without_sim_it_asks_privcmd_and_without_xen_fails_with_enoent_and_the_hint() {
    if xen_here() {
        // A dom0: the real hypervisor answers; the JSON says where it came from.
        let o = run(&["list", "--json"]);
        if o.status.success() {
            assert!(String::from_utf8_lossy(&o.stdout).contains("\"source\": \"xen\""));
        }
        return;
    }
    let o = run(&["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "printed payloads without a hypervisor");
    assert_eq!(
        stderr(&o),
        "Failed to get list sizes.\nError 2: No such file or directory\n\
         xc-livepatch: no /dev/xen/privcmd: not a Xen dom0, or the xen-privcmd module is not loaded\n"
    );
    for fmt in ["json", "prometheus", "dump"] {
        let o = run(&["list", "--format", fmt]);
        assert_eq!(o.status.code(), Some(1), "{fmt}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{fmt}: {e}");
        assert!(e.contains("ENOENT") && e.contains("hint: no /dev/xen/privcmd"), "{fmt}: {e}");
    }
    let o = run(&["iface"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("ENOENT"));
    let hint = "xc-livepatch: no /dev/xen/privcmd: not a Xen dom0, or the xen-privcmd module is not loaded\n";
    for action in ["apply", "revert", "replace", "unload"] {
        let o = run(&[action, "lp"]);
        assert_eq!(o.status.code(), Some(1), "{action}");
        assert_eq!(stderr(&o), format!("Failed to get status of lp.\nError 2: No such file or directory\n{hint}"));
    }
    // A file that cannot be opened is said alone: the hypervisor was not asked.
    let o = run(&["upload", "lp", "/nonexistent.livepatch"]);
    assert_eq!(
        stderr(&o),
        "xc-livepatch: cannot open /nonexistent.livepatch: No such file or directory (ENOENT); nothing uploaded\n"
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn failing_hypervisors_give_one_line_naming_the_errno_and_exit_1() {
    for (scn, name, table_exit) in [
        ("15-livepatch-absent", "ENOSYS", 1),
        ("16-xsm-deny", "EPERM", 1),
        ("17-flask-deny", "EACCES", 1),
        ("12-interface-0x17", "EACCES", 1),
        ("23-eagain-on-size-probe", "EAGAIN", 2),
        ("24-ebusy-on-data-call", "EBUSY", 2),
        ("20-no-privcmd", "ENOENT", 1),
    ] {
        let s = scenario(&format!("tests/fakexen/scenarios/{scn}.scn"));
        for fmt in ["json", "dump"] {
            let o = run(&["--sim", &s, "list", "--format", fmt]);
            assert_eq!(o.status.code(), Some(1), "{scn} {fmt}");
            assert!(o.stdout.is_empty());
            let e = stderr(&o);
            assert_eq!(e.lines().count(), 1, "{scn} {fmt}: {e}");
            assert!(e.contains(&format!(" {name} (")), "{scn} {fmt}: {e}");
        }
        let o = run(&["--sim", &s, "list"]);
        assert_eq!(o.status.code(), Some(table_exit), "{scn} table");
        assert!(stderr(&o).starts_with("Failed to "), "{scn}");
        let o = run(&["--sim", &s, "list", "--format", "prometheus"]);
        assert_eq!(o.status.code(), Some(1), "{scn} prometheus");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("\nxen_livepatch_list_success 0\n"), "{scn}: {text}");
        assert!(!text.contains("xen_livepatch_info"));
    }
}

#[test]
fn bad_scenario_files_are_errors_not_panics() {
    let dir = std::env::temp_dir().join(format!("xc-livepatch-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [&[u8]; 9] = [
        b"\xff\xfe not utf-8",
        b"payload",
        b"payload x meta=\\",
        b"payload x metahex=zz\xc3\xa9",
        b"payload x metahex=\xc3\xa9\xc3\xa9",
        b"payload x rc=-ENOTANERRNO",
        b"at list",
        b"interface 0xZZ",
        b"generate 3",
    ];
    for (i, text) in cases.iter().enumerate() {
        let f = dir.join(format!("bad-{i}.scn"));
        std::fs::write(&f, text).unwrap();
        let o = run(&["--sim", f.to_str().unwrap(), "list"]);
        assert_eq!(o.status.code(), Some(2), "{:?}: {}", String::from_utf8_lossy(text), stderr(&o));
        assert!(stderr(&o).starts_with("xc-livepatch: "), "{}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        no_panic(&o);
    }
    let o = run(&["--sim", dir.join("missing.scn").to_str().unwrap(), "list"]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `--sim SCENARIO list` and `iface`, each within a generous deadline
/// (a scenario that makes the command wait for ever fails here, not hangs).
fn run_sim_within(scn: &Path, secs: u64) -> Vec<Output> {
    [&["list", "--format", "dump"][..], &["iface"]]
        .iter()
        .map(|args| {
            let mut child =
                bin().arg("--sim").arg(scn).args(*args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
            let t0 = std::time::Instant::now();
            while child.try_wait().unwrap().is_none() {
                if t0.elapsed().as_secs() >= secs {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{} {args:?}: still running after {secs} s", scn.display());
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            child.wait_with_output().unwrap()
        })
        .collect()
}

#[test]
fn hostile_scenario_files_are_refused_with_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("xc-livepatch-cli-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo.scn");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut cases: Vec<(PathBuf, &str)> = vec![
        (fifo, "not a regular file"),
        (PathBuf::from("/dev/zero"), "not a regular file"),
        (dir.clone(), "not a regular file"),
    ];
    let texts: [(&str, &[u8], &str); 6] = [
        ("count", b"generate 18446744073709551615 10\n", "out of range (at most 65536)"),
        ("meta", b"generate 1 3000000000\n", "out of range (at most 1048576)"),
        ("total", b"generate 60000 4096\n", "more than 33554432 bytes"),
        ("iface", b"interface 0x100000015\n", "interface 0x100000015 is out of range"),
        ("state", b"payload a state=0x100000001\n", "out of range"),
        ("big", &[b'#'; (4 << 20) + 1], "larger than 4194304 bytes"),
    ];
    for (name, text, why) in texts {
        let f = dir.join(format!("{name}.scn"));
        std::fs::write(&f, text).unwrap();
        cases.push((f, why));
    }
    for (f, why) in &cases {
        for o in run_sim_within(f, 60) {
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{}: {e}", f.display());
            assert!(o.stdout.is_empty(), "{}", f.display());
            assert_eq!(e.lines().count(), 1, "{}: {e}", f.display());
            assert!(e.starts_with("xc-livepatch: ") && e.contains(why), "{}: {e}", f.display());
            no_panic(&o);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_format_of_every_scenario_runs_without_panic() {
    let mut files: Vec<PathBuf> = Vec::new();
    for d in ["tests/fakexen/scenarios", "cli/tests/scenarios"] {
        for e in std::fs::read_dir(root().join(d)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    assert!(files.len() >= 36, "scenarios found: {}", files.len());
    for f in files.iter().filter(|f| !f.to_string_lossy().contains("5000")) {
        let s = f.to_str().unwrap();
        for fmt in ["table", "json", "prometheus", "dump"] {
            let o = run(&["--sim", s, "list", "--format", fmt]);
            no_panic(&o);
            assert!(matches!(o.status.code(), Some(0..=2)), "{s} {fmt}");
        }
        no_panic(&run(&["--sim", s, "iface"]));
    }
}

#[test]
fn output_file_gets_the_same_bytes_as_stdout() {
    let dir = std::env::temp_dir().join(format!("xc-livepatch-cli-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = scenario("cli/tests/scenarios/01-edge-metadata.scn");
    for fmt in ["table", "json", "prometheus", "dump"] {
        let f = dir.join(format!("out.{fmt}"));
        let o = run(&["--sim", &s, "list", "--format", fmt, "--output", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
        assert_eq!(std::fs::read(&f).unwrap(), run(&["--sim", &s, "list", "--format", fmt]).stdout, "{fmt}");
    }
    let mut left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left.len(), 4, "temporary files left: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dump_has_exactly_one_line_per_payload_whatever_the_names() {
    // Names with a newline, a tab-free backslash, quotes, non-UTF-8 bytes.
    let o = run(&["--sim", &scenario("cli/tests/scenarios/02-hostile-names.scn"), "list", "--format", "dump"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = o.stdout;
    let lines: Vec<&[u8]> = text.strip_suffix(b"\n").unwrap().split(|&b| b == b'\n').collect();
    assert_eq!(lines[0], b"count 9");
    assert_eq!(lines.len(), 1 + 9, "{}", String::from_utf8_lossy(&text));
    for l in &lines[1..] {
        assert_eq!(l.iter().filter(|&&b| b == b'\t').count(), 3, "{}", String::from_utf8_lossy(l));
    }
    assert!(lines.contains(&&b"new\\x0aline\t1\t0\t593d3200"[..]), "{}", String::from_utf8_lossy(&text));
    assert!(lines.contains(&&b"back\\\\slash\t2\t-16\t583d3100"[..]), "{}", String::from_utf8_lossy(&text));
}
