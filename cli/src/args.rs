//! The command line: what `xc-livepatch` accepts, and its help texts (the
//! man page is generated from these definitions).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// List and manage Xen live patches: `xen-livepatch`'s output, lossless
/// JSON, or Prometheus text for node_exporter.
#[derive(Debug, Parser)]
#[command(
    name = "xc-livepatch",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    long_about = "List and manage the live patches of the Xen hypervisor this dom0 runs on, \
through /dev/xen/privcmd (the xc-livepatch library; no libxenctrl). The default output is byte \
for byte that of Xen 4.17's `xen-livepatch` (its table, its action lines, its exit codes); \
--json and --format prometheus are for machines.",
    after_help = "Exit status: 0 on success; 1 on failure; 2 on a usage error (see --help for more).",
    after_long_help = TOP_HELP_AND_FORMATS
)]
pub struct Cli {
    /// Read the live patches of a simulated hypervisor described by this
    /// scenario file (the tests/fakexen format) instead of the real one.
    /// Without it, xc-livepatch always talks to /dev/xen/privcmd.
    #[arg(long, value_name = "SCENARIO", global = true)]
    pub sim: Option<PathBuf>,

    /// With --sim: carry the simulated hypervisor's state from one command
    /// to the next in FILE (read at the start if it exists, written after
    /// every upload and action; the format of fakexen's FAKEXEN_STATE). The
    /// managing subcommands then lock FILE.lock instead of the system lock.
    #[arg(long, value_name = "FILE", global = true, requires = "sim")]
    pub sim_state: Option<PathBuf>,

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
    /// Upload the live patch FILE as NAME (it is then CHECKED: loaded, not
    /// applied).
    #[command(after_long_help = UPLOAD_HELP)]
    Upload(UploadArgs),
    /// Apply the CHECKED live patch NAME and wait until it is APPLIED.
    #[command(after_long_help = ACTION_HELP)]
    Apply(ApplyArgs),
    /// Revert the APPLIED live patch NAME (the last one applied) and wait
    /// until it is CHECKED.
    #[command(after_long_help = ACTION_HELP)]
    Revert(ActionArgs),
    /// Revert every applied live patch and apply the CHECKED NAME instead,
    /// atomically; the replaced ones stay loaded (CHECKED).
    #[command(after_long_help = ACTION_HELP)]
    Replace(ActionArgs),
    /// Unload the CHECKED live patch NAME (free its hypervisor memory).
    #[command(after_long_help = ACTION_HELP)]
    Unload(ActionArgs),
    /// Upload FILE and apply it, named after the file (its base name without
    /// its last extension); unload it again if the apply fails.
    #[command(after_long_help = UPLOAD_HELP)]
    Load(LoadArgs),
    /// Bring the hypervisor to the live patches it must have: every FILE
    /// APPLIED, in the order given (bottom of the stack first), planned from
    /// what is loaded, with no step the target does not need.
    #[command(after_long_help = ENSURE_HELP)]
    Ensure(EnsureArgs),
    /// What a live-patch file is, and whether the hypervisor would take it now
    #[command(after_long_help = INSPECT_HELP)]
    Inspect(InspectArgs),
}

impl Command {
    /// The `--lock-wait` of a managing subcommand; `None` for those that
    /// take no lock (`list`, `iface`, `inspect`).
    pub fn lock_wait(&self) -> Option<Duration> {
        match self {
            Command::List(_) | Command::Iface | Command::Inspect(_) => None,
            Command::Upload(a) => Some(a.lock.lock_wait),
            Command::Apply(a) => Some(a.wait.lock.lock_wait),
            Command::Revert(a) | Command::Replace(a) | Command::Unload(a) => Some(a.wait.lock.lock_wait),
            Command::Load(a) => Some(a.wait.lock.lock_wait),
            Command::Ensure(a) => Some(a.wait.lock.lock_wait),
        }
    }
}

/// The lock every managing subcommand holds (see `ensure --help`).
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Wait at most DURATION for another xc-livepatch managing live patches
    /// to finish (`0`: do not wait); past it, fail (exit 1) with one line
    /// naming the holder's PID.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    pub lock_wait: Duration,
}

/// `inspect FILE`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The live-patch file (an ELF relocatable object).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The name it would be uploaded as (default: `load`'s, FILE's base name without its last extension).
    #[arg(long, value_name = "NAME")]
    pub name: Option<OsString>,

    /// Read the file only; do not ask the hypervisor.
    #[arg(long)]
    pub no_hypervisor: bool,

    /// One JSON document (schema: xc-livepatch-inspect.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `ensure`.
#[derive(Debug, Args)]
pub struct EnsureArgs {
    /// The payloads, bottom of the stack first: NAME=FILE, or FILE named as
    /// load names it (its base name without its last extension).
    #[arg(value_name = "[NAME=]FILE")]
    pub payloads: Vec<OsString>,

    /// FILE (exactly one) is a cumulative payload: afterwards it is the
    /// only one applied (REPLACE).
    #[arg(long)]
    pub replace: bool,

    /// Afterwards NAME is not loaded (reverted if applied, then unloaded).
    /// Repeat for several.
    #[arg(long, value_name = "NAME")]
    pub absent: Vec<OsString>,

    /// Unload the payloads loaded but not applied and not in the target.
    #[arg(long)]
    pub prune: bool,

    /// A loaded payload whose metadata differs from its FILE's .modinfo is
    /// unloaded and uploaded again (otherwise the target is refused).
    #[arg(long)]
    pub reload: bool,

    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Send LIVEPATCH_FLAG_FORCE with every upload (Xen 4.19 or later; an
    /// older one cannot take it: one line says so). The build-id checks
    /// stay: Xen refuses a payload made for another build whatever the flag.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub wait: WaitArgs,
}

/// What every action waits for and how it reports.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// After asking the hypervisor, read the payload's state until the
    /// action has finished, for at most DURATION (`500ms`, `5s`, `1m`; `0`:
    /// look once). Past it: `Operation didn't complete.` and exit 2.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub wait: Duration,

    /// Print one JSON document (schema: xc-livepatch-action.schema.json;
    /// for ensure, xc-livepatch-ensure.schema.json) instead of the lines.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// `revert`, `replace` and `unload`.
#[derive(Debug, Args)]
pub struct ActionArgs {
    /// The live patch's name (as uploaded; at most 127 bytes).
    #[arg(value_name = "NAME")]
    pub name: OsString,

    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The live patch's name (as uploaded; at most 127 bytes).
    #[arg(value_name = "NAME")]
    pub name: OsString,

    /// Do not check the payload's .livepatch.depends against the live patch
    /// applied last (only against the hypervisor's build id).
    #[arg(long)]
    pub nodeps: bool,

    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The name to give the live patch (at most 127 bytes).
    #[arg(value_name = "NAME")]
    pub name: OsString,

    /// The live patch: an ELF relocatable object made for this hypervisor.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Skip this command's build-id check (the payload's
    /// .livepatch.xen_depends against the running hypervisor's, or a build
    /// id that cannot be read) and, on Xen 4.19 or later, ask Xen to skip
    /// some of its own checks (LIVEPATCH_FLAG_FORCE, as `xen-livepatch
    /// --force`). Xen before 4.19 cannot take the flag: one line says so and
    /// the upload goes ahead without it.
    #[arg(long)]
    pub force: bool,

    /// Print one JSON document (schema: xc-livepatch-action.schema.json)
    /// instead of xen-livepatch's lines.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub lock: LockArgs,
}

/// `load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The live patch: an ELF relocatable object made for this hypervisor.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Apply without checking .livepatch.depends (see `apply --nodeps`).
    #[arg(long)]
    pub nodeps: bool,

    /// Upload as `upload --force` does (no build-id check; LIVEPATCH_FLAG_FORCE
    /// on Xen 4.19 or later).
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub wait: WaitArgs,
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

table: the table `xen-livepatch list` (Xen 4.17) prints, byte for byte: a header, one row per payload with its name padded to 40 columns, its state (CHECKED, APPLIED or unknown) followed by ` (errno, text)` when its rc is not 0, and its .modinfo strings joined with `;`; `Nothing to list` when there are none. On a terminal (stdout, no --output), control bytes in names and metadata are shown escaped as --format dump shows names (\\xNN, a backslash as \\\\); into a pipe or a file the bytes are xen-livepatch's. Failures print xen-livepatch's lines (`Failed to get list sizes.` or `Failed to list 0/N.`, then `Error N: text`) and exit 2 for EAGAIN/EBUSY, 1 otherwise.

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

/// What `upload --help` and `load --help` say about the checks.
const UPLOAD_HELP: &str = "Before anything is uploaded, FILE must be a regular file of at most 2 MiB (what Xen 4.14 to 4.22 accept) holding a 64-bit ELF relocatable object for this machine with a .livepatch.xen_depends GNU build-id note, and that build id must be the running hypervisor's (unless --force, which on Xen 4.19 or later also sends LIVEPATCH_FLAG_FORCE). Each refusal is one line on stderr, exit 1. Otherwise the output is xen-livepatch's: `Uploading FILE... completed`, or `failed` and `Error N: text` on stderr, exit 2 for EAGAIN/EBUSY and 1 for other errors. A name longer than 127 bytes is refused (exit 1).

load FILE: the name is FILE's base name without its last extension (`/tmp/xsa-1.livepatch` is `xsa-1`), as xen-livepatch load does; it uploads, applies (see apply --help), and unloads the payload again if the apply fails (whenever Xen allows it: also when the apply was refused while another payload's action was scheduled), exiting with the apply's status. Each step's `Uploading FILE... ` / `Applying NAME... ` is written when the step starts; SIGINT or SIGTERM ends load as it ends apply (see apply --help), without unloading a payload whose apply may still finish.";

/// What the actions' help says about the output and the waiting.
const INSPECT_HELP: &str = "From the file alone (no hypervisor needed): its own build id (.note.gnu.build-id), what it stacks on (.livepatch.depends: the hypervisor's build id for the bottom of a stack, else the payload below), the hypervisor build it was made for (.livepatch.xen_depends), the functions it replaces (names from the relocations of .livepatch.funcs, old and new sizes, the payload format version), its hooks (.livepatch.hooks.*, vetoing or not), whether it can be applied again after a revert (its only writable section is .livepatch.funcs), its .modinfo metadata, and anything else in it that Xen refuses. The build-id notes are read as Xen reads them: the first note of the section, whatever its type (objcopy makes SHT_PROGBITS ones).

Then, unless --no-hypervisor, the hypervisor (or --sim) is asked for its build id and LIST (no lock, nothing changed): whether an upload under NAME, an apply and a replace would be accepted now, and why not. LIST shows neither the payloads' build ids, nor their hooks, nor the applied order: what depends on them is `cannot tell`, never guessed. A hypervisor that cannot be asked is said so, and the exit status stays 0.

Exit status: 0 when the file is a live patch (even one Xen would refuse: see its problems); 1 when it cannot be read or is not a live patch (one line on stderr).";

const ACTION_HELP: &str = "The output and exit codes are xen-livepatch's: `Applying NAME... completed` (Reverting, Unloading, Replacing all live patches with), `No action needed.` when the payload is already in the state asked for, `NAME is in the wrong state.` with the current and expected states (exit 1), `Failed to get status of NAME.` or `Error N: text` on stderr (exit 2 for EAGAIN/EBUSY, 1 otherwise), `Cannot execute ACTION.` / `Operation already in progress.` (exit 2) when an action on the payload is still scheduled. Unlike xen-livepatch, the command does not conclude that from the payload's rc -EAGAIN alone (Xen also leaves it so when it refused an action while another payload's was scheduled): it asks, and prints those lines when Xen answers EBUSY.

Unlike xen-livepatch, which sleeps 60 ms once and then gives up, the command reads the payload's state right after asking and then every 1 ms, 2 ms, 4 ms... (at most 20 ms apart) until the action has finished or --wait has passed; only then does it print `Operation didn't complete.` (exit 2). The hypervisor itself gives the CPUs 30 ms to join an action and otherwise ends it with EBUSY. `Applying NAME... ` is written before the wait; SIGINT or SIGTERM during it ends the line with `interrupted`, prints one line with the payload's state at the last read (the action may still finish in the hypervisor) and exits 130 or 143 (with --json: the document, `interrupted` naming the signal).

On a terminal, control bytes in names and file names are shown escaped (\\xNN, a backslash as \\\\); into a pipe or a file they are written as they are.";

/// What `ensure --help` says.
const ENSURE_HELP: &str = "The plan is made before the first step from LIST, the hypervisor's build id and each FILE's ELF (its build id, .livepatch.depends, .livepatch.xen_depends, hooks, writable sections, .modinfo), by Xen's rules: a payload applies only on the one whose build id its .livepatch.depends names (the hypervisor's when none is applied); only the top of the applied stack can be reverted; a reverted payload that is not safe to reapply is unloaded and uploaded again; REPLACE refuses vetoing hooks. A loaded payload of a FILE's name is reused only if its metadata equals the FILE's .modinfo (else refused, unless --reload). A target Xen would refuse is refused before the first step, with the reason (exit 1). The plan is printed first; --dry-run stops there. Each step prints the lines of its own subcommand (upload, apply, ...). A run on the state it reached plans nothing, says so and exits 0.

A step that fails stops the run: one line says which, what was done and the state now; exit 2 for EAGAIN/EBUSY (or an action still pending), 1 otherwise. A payload this run uploaded and could not apply is unloaded again when its action has ended. SIGINT or SIGTERM stop the run at the next step boundary (exit 130 or 143); SIGKILL anywhere leaves a state the next run plans from.

One driver at a time: upload, apply, revert, replace, unload, load and ensure hold an exclusive flock on /run/lock/xc-livepatch.lock (with --sim-state FILE: FILE.lock; the environment variable XC_LIVEPATCH_LOCK overrides the path) for their whole run; a second one waits up to --lock-wait (default 1m) and then fails naming the holder's PID. list takes no lock.

--json: one document (schema: xc-livepatch-ensure.schema.json): the target, the state before, the plan, each step with its outcome and timing (the step document of xc-livepatch-action.schema.json), the state after, changed, interrupted, the hypervisor's build id.";

/// `5s`, `250ms`, `100us`, `1m`, `0`: a whole number and a unit.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("{s:?}: expected a whole number and a unit (5s, 250ms)"))?;
    let d = match unit {
        "" if n == 0 => Duration::ZERO,
        "ns" => Duration::from_nanos(n),
        "us" => Duration::from_micros(n),
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" if n <= u64::MAX / 60 => Duration::from_secs(n * 60),
        _ => return Err(format!("{s:?}: expected a whole number and a unit: ns, us, ms, s or m (5s, 250ms)")),
    };
    Ok(d)
}

/// A metadata key usable in a label name (`meta_KEY`).
fn parse_label_key(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(s.to_string())
    } else {
        Err("a metadata key for a label must be letters, digits and '_' (e.g. VERSION)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_a_whole_number_and_a_unit() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["5", "", "s", "1.5s", "-1s", "5 s", "5h", "99999999999999999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
