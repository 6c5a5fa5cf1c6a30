//! Lists live patches with the Rust API, printing the table `xen-livepatch
//! list` prints.
//!
//! ```text
//! xc-livepatch-list            # the table
//! xc-livepatch-list --dump     # count, then name<TAB>state<TAB>rc<TAB>hex(metadata)
//! xc-livepatch-list --iface    # the sysctl interface version, e.g. 0x15
//! xc-livepatch-list --sim ...  # a simulated hypervisor with sample payloads
//! ```
//!
//! Without `/dev/xen/privcmd` (no Xen here) it falls back to the simulated
//! hypervisor, saying so on stderr.

use std::ffi::CStr;
use std::io::Write;
use std::process::ExitCode;
use xc_livepatch::{Error, Hypervisor, Payload};

fn strerror(e: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated string that stays
    // valid until the next strerror call on this thread; it is copied at once.
    unsafe { CStr::from_ptr(libc::strerror(e)) }.to_string_lossy().into_owned()
}

/// The table, byte for byte as Xen 4.14+'s `xen-livepatch list` prints it.
fn table(payloads: &[Payload]) -> Vec<u8> {
    let mut o = Vec::new();
    if payloads.is_empty() {
        o.extend_from_slice(b"Nothing to list\n");
        return o;
    }
    o.extend_from_slice(format!("{:<40}| status     | metadata\n", " ID").as_bytes());
    o.extend_from_slice(format!("{}+{}+{}\n", "-".repeat(40), "-".repeat(12), "-".repeat(15)).as_bytes());
    for p in payloads {
        let name = p.name_bytes();
        o.extend_from_slice(name);
        o.resize(o.len() + 40usize.saturating_sub(name.len()), b' ');
        o.extend_from_slice(b"| ");
        o.extend_from_slice(p.state.as_str().as_bytes());
        if p.rc != 0 {
            o.extend_from_slice(format!(" ({}, {})", -p.rc, strerror(-p.rc)).as_bytes());
        }
        o.extend_from_slice(b"    | ");
        let m = p.metadata_raw();
        if let Some((last, body)) = m.split_last() {
            let mut shown: Vec<u8> = body.iter().map(|&b| if b == 0 { b';' } else { b }).collect();
            if *last != 0 {
                shown.push(*last);
            }
            o.extend_from_slice(&shown);
        }
        o.push(b'\n');
    }
    o
}

fn dump(payloads: &[Payload]) -> Vec<u8> {
    let mut o = format!("count {}\n", payloads.len()).into_bytes();
    for p in payloads {
        o.extend_from_slice(p.name_bytes());
        let hex: String = p.metadata_raw().iter().map(|b| format!("{b:02x}")).collect();
        o.extend_from_slice(format!("\t{}\t{}\t{}\n", p.state.raw(), p.rc, hex).as_bytes());
    }
    o
}

fn exit_for(e: &Error) -> ExitCode {
    match e.errno() {
        libc::EAGAIN | libc::EBUSY => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

fn run<H: Hypervisor>(hv: &H, mode: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    if mode == "--iface" {
        return match xc_livepatch::interface_version_of(hv) {
            Ok(v) => {
                let _ = writeln!(stdout, "{v:#x}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("Failed to find the sysctl interface version: {e}");
                exit_for(&e)
            }
        };
    }
    match xc_livepatch::list_from(hv) {
        Ok(p) => {
            let out = if mode == "--dump" { dump(&p) } else { table(&p) };
            let _ = stdout.write_all(&out);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Failed to list live patches.\nError {}: {}", e.errno(), e);
            exit_for(&e)
        }
    }
}

#[cfg(feature = "sim")]
fn simulated(mode: &str) -> ExitCode {
    use xc_livepatch::sim::{Config, Payload as P, SimHypervisor};
    let sample = vec![
        P::new("xsa-123", b"LIVEPATCH_RULEZ=1\0VERSION=2\0"),
        P::new("lp-null", b""),
        P::new("lp-func", b"PATCHES=xen_extra_version\0CVE=none\0").with_state(2, 0),
        P::new("lp-busy", b"NOTE=action in progress\0").with_state(1, -libc::EAGAIN),
        P::new("lp-edge", b"A=1\0\0B=has space\0"),
    ];
    run(&SimHypervisor::new(sample, Config::default()), mode)
}

#[cfg(not(feature = "sim"))]
fn simulated(_mode: &str) -> ExitCode {
    eprintln!("this build has no simulated hypervisor (build with --features sim)");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sim = args.iter().any(|a| a == "--sim");
    let mode = args.iter().find(|a| *a != "--sim").map(String::as_str).unwrap_or("");
    if !matches!(mode, "" | "--dump" | "--iface") {
        eprintln!("usage: xc-livepatch-list [--sim] [--dump | --iface]");
        return ExitCode::from(1);
    }
    let have_xen = ["/dev/xen/privcmd", "/proc/xen/privcmd"].iter().any(|p| std::path::Path::new(p).exists());
    if sim || !have_xen {
        if !sim {
            eprintln!("(no Xen on this machine: listing a simulated hypervisor's sample payloads)");
        }
        return simulated(mode);
    }
    run(&xc_livepatch::Xen, mode)
}
