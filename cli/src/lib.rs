//! The `xc-livepatch` command: arguments -> the library's snapshot (the real
//! hypervisor, or the simulator when `--sim` is given) -> one pure formatter
//! per output format -> stdout or a file.
//!
//! | module | job |
//! |---|---|
//! | [`args`] | the command line (clap), help texts, the man page's source |
//! | [`source`] | the real hypervisor or a scenario, and its snapshot |
//! | [`identity`] | the hypervisor's version and build id |
//! | [`control`] | what the managing subcommands ask of a hypervisor |
//! | [`step`] | one upload or action as data: asked, before, after, outcome |
//! | [`actions`] | apply, revert, replace, unload, and the wait for them |
//! | [`upload`] | upload and load, with the file, size and build-id checks |
//! | [`elf`] | what a live-patch file says about itself (`object`): one reader for upload and inspect |
//! | [`inspect`] | whether the hypervisor would take a payload now, judged from LIST and its build id |
//! | [`inspect_render`] | an inspection as text or JSON |
//! | [`inspect_cmd`] | `inspect FILE`: glue and exit status |
//! | [`lines`] | a step as xen-livepatch's lines |
//! | [`report`] | a step as the JSON document |
//! | [`manage`] | one managing subcommand: glue and exit status |
//! | [`plan`] | `ensure`'s planner: the minimal steps to a target, or why Xen would refuse it (pure) |
//! | [`ensure`] | `ensure`: observe, plan, run the steps, stop safely |
//! | [`ensure_render`] | an `ensure` run as text or its JSON document |
//! | [`lock`] | one driver at a time: the flock every managing subcommand holds |
//! | [`table`] | `xen-livepatch list`'s table, error lines and exit codes |
//! | [`json`] | the JSON document |
//! | [`prometheus`] | the Prometheus text format |
//! | [`dump`] | the harnesses' dump and the interface version line |
//! | [`errno`] | errno names, texts and hints |
//! | [`interrupt`] | SIGINT and SIGTERM as a flag a wait looks at |
//! | [`output`] | stdout (quiet on EPIPE), an atomically replaced file, or a device or FIFO written in place |
//! | [`run`] | one run: glue and exit status |

pub mod actions;
pub mod args;
pub mod control;
pub mod dump;
pub mod elf;
pub mod ensure;
pub mod ensure_render;
pub mod errno;
pub mod identity;
pub mod inspect;
pub mod inspect_cmd;
pub mod inspect_render;
pub mod interrupt;
pub mod json;
pub mod lines;
pub mod lock;
pub mod manage;
pub mod output;
pub mod plan;
pub mod prometheus;
#[cfg(test)]
mod random_payloads;
pub mod report;
pub mod run;
pub mod source;
pub mod step;
pub mod table;
#[cfg(test)]
mod test_rng;
#[cfg(test)]
mod testdata;
#[cfg(test)]
mod testpayload;
pub mod upload;
