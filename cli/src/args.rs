//! The command line: what `xc-livepatch` accepts, and its help texts (the
//! man page is generated from these definitions).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// List Xen live patches: the `xen-livepatch list` table, lossless JSON, or
/// Prometheus text for node_exporter.
#[derive(Debug, Parser)]
#[command(
    name = "xc-livepatch",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    long_about = "List the live patches loaded in the Xen hypervisor this dom0 runs on, through \
/dev/xen/privcmd (the xc-livepatch library; no libxenctrl). The default output is byte for \
byte the table of Xen 4.17's `xen-livepatch list`; --json and --format prometheus are for \
machines.",
    after_help = "Exit status: 0 on success; 1 on failure; 2 on a usage error (see --help for more).",
    after_long_help = TOP_HELP_AND_FORMATS
)]
pub struct Cli {
    /// Read the live patches of a simulated hypervisor described by this
    /// scenario file (the tests/fakexen format) instead of the real one.
    /// Without it, xc-livepatch always talks to /dev/xen/privcmd.
    #[arg(long, value_name = "SCENARIO", global = true)]
    pub sim: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the loaded live patches (default format: the xen-livepatch table).
    #[command(after_long_help = FORMATS_HELP)]
    List(ListArgs),
    /// Print the hypervisor's sysctl interface version (e.g. 0x15 for Xen
    /// 4.17 to 4.20, 0x16 for 4.21 and later).
    Iface,
}

/// `xc-livepatch list` options.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format (see FORMATS below).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Table)]
    pub format: Format,

    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// With --format prometheus: add the metadata value of KEY (a `KEY=value`
    /// string of the payload's .modinfo) as the label `meta_KEY` of
    /// xen_livepatch_info. Repeatable. KEY is letters, digits and `_`.
    #[arg(long = "label-metadata", value_name = "KEY", value_parser = parse_label_key)]
    pub label_metadata: Vec<String>,

    /// Write the output to FILE instead of stdout, atomically (a temporary
    /// file in the same directory, then rename), so that a reader such as
    /// node_exporter's textfile collector never sees half a file. A FILE that
    /// exists and is not a regular file (/dev/null, a FIFO, /dev/stdout) is
    /// written in place as the shell's `>` would, never replaced.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ListArgs {
    /// The format asked for (`--json` is `--format json`).
    pub fn effective_format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

/// The output formats of `xc-livepatch list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The table of `xen-livepatch list`, byte for byte.
    Table,
    /// One JSON document (schema: xc-livepatch-list.schema.json).
    Json,
    /// Prometheus text exposition format (node_exporter textfile collector).
    Prometheus,
    /// `count N`, then per payload name, state, rc and hex metadata, tab-separated.
    Dump,
}

/// What `list --help` (and the man pages) say about the formats: one
/// paragraph each, so that man reflows them.
macro_rules! formats_help {
    () => {
        "FORMATS

table: the table `xen-livepatch list` (Xen 4.17) prints, byte for byte: a header, one row per payload with its name padded to 40 columns, its state (CHECKED, APPLIED or unknown) followed by ` (errno, text)` when its rc is not 0, and its .modinfo strings joined with `;`; `Nothing to list` when there are none. Failures print xen-livepatch's lines (`Failed to get list sizes.` or `Failed to list 0/N.`, then `Error N: text`) and exit 2 for EAGAIN/EBUSY, 1 otherwise.

json: one JSON document (schema: xc-livepatch-list.schema.json): source (xen or simulator), sysctl_interface, list_version, count and payloads, in list order, each with name, state (\"CHECKED\", \"APPLIED\" or the number), state_code, rc, rc_text (strerror of -rc, null when rc is 0), metadata (the .modinfo strings in order, empty strings kept) and metadata_base64 (the exact bytes). Text that is not valid UTF-8 is decoded with U+FFFD replacements and its exact bytes are given too: name_base64 appears when the name is not valid UTF-8; metadata_base64 is always there.

prometheus: the Prometheus text format, for node_exporter's textfile collector: xen_livepatch_list_success, xen_livepatch_list_errno, xen_livepatch_sysctl_interface, xen_livepatch_list_version, xen_livepatch_payloads, xen_livepatch_info{name,state} and xen_livepatch_rc{name}, each with HELP and TYPE. A failed listing is still written (success 0, the errno, no payload series) and exits 1. A name that is not valid UTF-8 gets U+FFFD replacements and a name_base64 label.

dump: `count N`, then one line per payload: name (a backslash as `\\\\`, control bytes as `\\xNN`), state number, rc and the metadata in hex, tab-separated (for test harnesses).

In every format but table, a failure prints one line on stderr naming the errno, with a hint, and exits 1."
    };
}
const FORMATS_HELP: &str = formats_help!();

/// The top-level page: the exit status, examples and the formats.
const TOP_HELP_AND_FORMATS: &str = concat!(
    "Exit status: 0 on success; 1 on failure; 2 on a usage error. In table mode, as xen-livepatch: 2 when the hypervisor said EAGAIN or EBUSY.\n\n",
    "Examples: `xc-livepatch list`; `xc-livepatch list --json`; `xc-livepatch list --format prometheus --output /var/lib/prometheus/node-exporter/xen_livepatch.prom`; `xc-livepatch --sim tests/fakexen/demo.scn list` (a simulated hypervisor).\n\n",
    formats_help!()
);

/// A metadata key usable in a label name (`meta_KEY`).
fn parse_label_key(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(s.to_string())
    } else {
        Err("a metadata key for a label must be letters, digits and '_' (e.g. VERSION)".into())
    }
}
