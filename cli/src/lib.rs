//! The `xc-livepatch` command: arguments -> the library's snapshot (the real
//! hypervisor, or the simulator when `--sim` is given) -> one pure formatter
//! per output format -> stdout or a file.
//!
//! | module | job |
//! |---|---|
//! | [`args`] | the command line (clap), help texts, the man page's source |
//! | [`source`] | the real hypervisor or a scenario, and its snapshot |
//! | [`table`] | `xen-livepatch list`'s table, error lines and exit codes |
//! | [`json`] | the JSON document |
//! | [`prometheus`] | the Prometheus text format |
//! | [`dump`] | the harnesses' dump and the interface version line |
//! | [`errno`] | errno names, texts and hints |
//! | [`output`] | stdout (quiet on EPIPE), an atomically replaced file, or a device or FIFO written in place |
//! | [`run`] | one run: glue and exit status |

pub mod args;
pub mod dump;
pub mod errno;
pub mod json;
pub mod output;
pub mod prometheus;
#[cfg(test)]
mod random_payloads;
pub mod run;
pub mod source;
pub mod table;
#[cfg(test)]
mod testdata;
