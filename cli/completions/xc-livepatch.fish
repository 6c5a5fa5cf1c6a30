# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_xc_livepatch_global_optspecs
    string join \n sim= sim-state= h/help V/version
end

function __fish_xc_livepatch_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_xc_livepatch_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_xc_livepatch_using_subcommand
    set -l cmd (__fish_xc_livepatch_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "list" -d 'List the loaded live patches (default format: the xen-livepatch table)'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "iface" -d 'Print the hypervisor\'s sysctl interface version (e.g. 0x15 for Xen 4.17 to 4.20, 0x16 for 4.21 and later)'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "upload" -d 'Upload the live patch FILE as NAME (it is then CHECKED: loaded, not applied)'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "apply" -d 'Apply the CHECKED live patch NAME and wait until it is APPLIED'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "revert" -d 'Revert the APPLIED live patch NAME (the last one applied) and wait until it is CHECKED'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "replace" -d 'Revert every applied live patch and apply the CHECKED NAME instead, atomically; the replaced ones stay loaded (CHECKED)'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "unload" -d 'Unload the CHECKED live patch NAME (free its hypervisor memory)'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "load" -d 'Upload FILE and apply it, named after the file (its base name without its last extension); unload it again if the apply fails'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "ensure" -d 'Bring the hypervisor to the live patches it must have: every FILE APPLIED, in the order given (bottom of the stack first), planned from what is loaded, with no step the target does not need'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "inspect" -d 'What a live-patch file is, and whether the hypervisor would take it now'
complete -c xc-livepatch -n "__fish_xc_livepatch_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -l format -d 'Output format (see FORMATS below)' -r -f -a "table\t'The table of `xen-livepatch list`, byte for byte'
json\t'One JSON document (schema: xc-livepatch-list.schema.json)'
prometheus\t'Prometheus text exposition format (node_exporter textfile collector)'
dump\t'`count N`, then per payload name, state, rc and hex metadata, tab-separated'"
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -l label-metadata -d 'With --format prometheus: add the metadata value of KEY (a `KEY=value` string of the payload\'s .modinfo) as the label `meta_KEY` of xen_livepatch_info. Repeatable. KEY is letters, digits and `_`' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -l output -d 'Write the output to FILE instead of stdout, atomically (a temporary file in the same directory, then rename), so that a reader such as node_exporter\'s textfile collector never sees half a file. A FILE that exists and is not a regular file (/dev/null, a FIFO, /dev/stdout) is written in place as the shell\'s `>` would, never replaced' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -l json -d 'Same as --format json'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand list" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand iface" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand iface" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand iface" -s h -l help -d 'Print help'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand iface" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand upload" -l lock-wait -d 'Wait at most DURATION for another xc-livepatch managing live patches to finish (`0`: do not wait); past it, fail (exit 1) with one line naming the holder\'s PID' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand upload" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand upload" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand upload" -l force -d 'Skip this command\'s build-id check (the payload\'s .livepatch.xen_depends against the running hypervisor\'s, or a build id that cannot be read) and, on Xen 4.19 or later, ask Xen to skip some of its own checks (LIVEPATCH_FLAG_FORCE, as `xen-livepatch --force`). Xen before 4.19 cannot take the flag: one line says so and the upload goes ahead without it'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand upload" -l json -d 'Print one JSON document (schema: xc-livepatch-action.schema.json) instead of xen-livepatch\'s lines'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand upload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand upload" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -l wait -d 'After asking the hypervisor, read the payload\'s state until the action has finished, for at most DURATION (`500ms`, `5s`, `1m`; `0`: look once). Past it: `Operation didn\'t complete.` and exit 2' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -l lock-wait -d 'Wait at most DURATION for another xc-livepatch managing live patches to finish (`0`: do not wait); past it, fail (exit 1) with one line naming the holder\'s PID' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -l nodeps -d 'Do not check the payload\'s .livepatch.depends against the live patch applied last (only against the hypervisor\'s build id)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -l json -d 'Print one JSON document (schema: xc-livepatch-action.schema.json; for ensure, xc-livepatch-ensure.schema.json) instead of the lines'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand apply" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand revert" -l wait -d 'After asking the hypervisor, read the payload\'s state until the action has finished, for at most DURATION (`500ms`, `5s`, `1m`; `0`: look once). Past it: `Operation didn\'t complete.` and exit 2' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand revert" -l lock-wait -d 'Wait at most DURATION for another xc-livepatch managing live patches to finish (`0`: do not wait); past it, fail (exit 1) with one line naming the holder\'s PID' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand revert" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand revert" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand revert" -l json -d 'Print one JSON document (schema: xc-livepatch-action.schema.json; for ensure, xc-livepatch-ensure.schema.json) instead of the lines'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand revert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand revert" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand replace" -l wait -d 'After asking the hypervisor, read the payload\'s state until the action has finished, for at most DURATION (`500ms`, `5s`, `1m`; `0`: look once). Past it: `Operation didn\'t complete.` and exit 2' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand replace" -l lock-wait -d 'Wait at most DURATION for another xc-livepatch managing live patches to finish (`0`: do not wait); past it, fail (exit 1) with one line naming the holder\'s PID' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand replace" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand replace" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand replace" -l json -d 'Print one JSON document (schema: xc-livepatch-action.schema.json; for ensure, xc-livepatch-ensure.schema.json) instead of the lines'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand replace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand replace" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand unload" -l wait -d 'After asking the hypervisor, read the payload\'s state until the action has finished, for at most DURATION (`500ms`, `5s`, `1m`; `0`: look once). Past it: `Operation didn\'t complete.` and exit 2' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand unload" -l lock-wait -d 'Wait at most DURATION for another xc-livepatch managing live patches to finish (`0`: do not wait); past it, fail (exit 1) with one line naming the holder\'s PID' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand unload" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand unload" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand unload" -l json -d 'Print one JSON document (schema: xc-livepatch-action.schema.json; for ensure, xc-livepatch-ensure.schema.json) instead of the lines'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand unload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand unload" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -l wait -d 'After asking the hypervisor, read the payload\'s state until the action has finished, for at most DURATION (`500ms`, `5s`, `1m`; `0`: look once). Past it: `Operation didn\'t complete.` and exit 2' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -l lock-wait -d 'Wait at most DURATION for another xc-livepatch managing live patches to finish (`0`: do not wait); past it, fail (exit 1) with one line naming the holder\'s PID' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -l nodeps -d 'Apply without checking .livepatch.depends (see `apply --nodeps`)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -l force -d 'Upload as `upload --force` does (no build-id check; LIVEPATCH_FLAG_FORCE on Xen 4.19 or later)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -l json -d 'Print one JSON document (schema: xc-livepatch-action.schema.json; for ensure, xc-livepatch-ensure.schema.json) instead of the lines'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand load" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l absent -d 'Afterwards NAME is not loaded (reverted if applied, then unloaded). Repeat for several' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l wait -d 'After asking the hypervisor, read the payload\'s state until the action has finished, for at most DURATION (`500ms`, `5s`, `1m`; `0`: look once). Past it: `Operation didn\'t complete.` and exit 2' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l lock-wait -d 'Wait at most DURATION for another xc-livepatch managing live patches to finish (`0`: do not wait); past it, fail (exit 1) with one line naming the holder\'s PID' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l replace -d 'FILE (exactly one) is a cumulative payload: afterwards it is the only one applied (REPLACE)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l prune -d 'Unload the payloads loaded but not applied and not in the target'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l reload -d 'A loaded payload whose metadata differs from its FILE\'s .modinfo is unloaded and uploaded again (otherwise the target is refused)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l dry-run -d 'Print the plan and change nothing'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l force -d 'Send LIVEPATCH_FLAG_FORCE with every upload (Xen 4.19 or later; an older one cannot take it: one line says so). The build-id checks stay: Xen refuses a payload made for another build whatever the flag'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -l json -d 'Print one JSON document (schema: xc-livepatch-action.schema.json; for ensure, xc-livepatch-ensure.schema.json) instead of the lines'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand ensure" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand inspect" -l name -d 'The name it would be uploaded as (default: `load`\'s, FILE\'s base name without its last extension)' -r
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand inspect" -l sim -d 'Read the live patches of a simulated hypervisor described by this scenario file (the tests/fakexen format) instead of the real one. Without it, xc-livepatch always talks to /dev/xen/privcmd' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand inspect" -l sim-state -d 'With --sim: carry the simulated hypervisor\'s state from one command to the next in FILE (read at the start if it exists, written after every upload and action; the format of fakexen\'s FAKEXEN_STATE). The managing subcommands then lock FILE.lock instead of the system lock' -r -F
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand inspect" -l no-hypervisor -d 'Read the file only; do not ask the hypervisor'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand inspect" -l json -d 'One JSON document (schema: xc-livepatch-inspect.schema.json)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "list" -d 'List the loaded live patches (default format: the xen-livepatch table)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "iface" -d 'Print the hypervisor\'s sysctl interface version (e.g. 0x15 for Xen 4.17 to 4.20, 0x16 for 4.21 and later)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "upload" -d 'Upload the live patch FILE as NAME (it is then CHECKED: loaded, not applied)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "apply" -d 'Apply the CHECKED live patch NAME and wait until it is APPLIED'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "revert" -d 'Revert the APPLIED live patch NAME (the last one applied) and wait until it is CHECKED'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "replace" -d 'Revert every applied live patch and apply the CHECKED NAME instead, atomically; the replaced ones stay loaded (CHECKED)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "unload" -d 'Unload the CHECKED live patch NAME (free its hypervisor memory)'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "load" -d 'Upload FILE and apply it, named after the file (its base name without its last extension); unload it again if the apply fails'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "ensure" -d 'Bring the hypervisor to the live patches it must have: every FILE APPLIED, in the order given (bottom of the stack first), planned from what is loaded, with no step the target does not need'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "inspect" -d 'What a live-patch file is, and whether the hypervisor would take it now'
complete -c xc-livepatch -n "__fish_xc_livepatch_using_subcommand help; and not __fish_seen_subcommand_from list iface upload apply revert replace unload load ensure inspect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
