# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one runner behind the xen.livepatch modules.

It builds an argument vector for the xc-livepatch command, runs it once with
``--json`` and maps the document to Ansible's return values. It holds no live
patch logic: what to do, in which order, and whether the hypervisor would
accept it is the command's (``xc-livepatch ensure``) to decide.
"""

import json
import re

# An errno name in the command's one line of error ("... EACCES (Permission denied) ...").
ERRNO_NAME = re.compile(r'\b(E[A-Z0-9]{2,})\b')

# Options every module accepts: where the command is, and a simulated
# hypervisor instead of the real one (for tests and rehearsals).
COMMON_ARGUMENT_SPEC = dict(
    executable=dict(type='path'),
    sim=dict(type='path'),
    sim_state=dict(type='path'),
)


def command_argv(module, subcommand, args):
    """The argument vector: the executable, the simulator options, the
    subcommand, then ``args`` (``--json`` is the caller's to add)."""
    params = module.params
    exe = params.get('executable') or module.get_bin_path('xc-livepatch', required=True)
    argv = [exe]
    if params.get('sim'):
        argv += ['--sim', params['sim']]
        if params.get('sim_state'):
            argv += ['--sim-state', params['sim_state']]
    elif params.get('sim_state'):
        module.fail_json(msg='sim_state needs sim (the scenario of the simulated hypervisor)')
    return argv + [subcommand] + list(args)


def first_line(text):
    """The first non-empty line of ``text``, stripped ('' if none)."""
    for line in (text or '').splitlines():
        if line.strip():
            return line.strip()
    return ''


def run_json(module, argv):
    """Runs ``argv`` once and returns (rc, document, stderr). A run whose
    standard output is not one JSON object fails the task with the
    command's own first line of error."""
    rc, out, err = module.run_command(argv, check_rc=False)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        reason = first_line(err) or first_line(out) or '%s exited with status %d and no output' % (argv[0], rc)
        module.fail_json(msg=reason, errno=errno_in(reason), rc=rc, cmd=argv, stdout=out, stderr=err)
    return rc, doc, err


def errno_in(line):
    """The first errno name (EACCES, ENOSYS...) the command's line names, or None."""
    match = ERRNO_NAME.search(line or '')
    return match.group(1) if match else None


def failed_errno(doc):
    """The errno name (EBUSY, EEXIST...) of the step that ended a run, or
    None (a refusal before any step has none)."""
    for entry in reversed(doc.get('steps') or []):
        step = entry.get('step', entry)
        if step.get('errno'):
            return step['errno'].get('name')
    return None


def payload_text(payloads):
    """A payload list as diff text: one ``NAME STATE`` line each, in list
    order; ``(not listed)`` when the list could not be read."""
    if payloads is None:
        return '(not listed)\n'
    return ''.join('%s %s\n' % (p.get('name'), p.get('state')) for p in payloads)


def plan_text(plan):
    """A plan as diff text: one ``STEP NAME [FILE]`` line per step."""
    lines = []
    for step in plan:
        words = [step.get('step'), step.get('name')]
        if step.get('file'):
            words.append(step['file'])
        lines.append(' '.join(str(w) for w in words) + '\n')
    return ''.join(lines)
