//! ctest's generated checks: src/abi.rs against Debian 12's Xen 4.17 headers
//! (see build.rs). Prints "PASSED <n> tests" or panics listing each mismatch.
#![allow(bad_style, dead_code, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/main.rs"));
