//! ctest's generated checks: src/abi.rs against our own generated
//! include/xc_livepatch.h (see build.rs). Prints "PASSED <n> tests" or panics.
#![allow(bad_style, dead_code, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/main.rs"));
