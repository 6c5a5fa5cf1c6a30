#!/usr/bin/python
# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
---
module: xen_livepatch
short_description: Bring a Xen live patch to the state asked for (applied or absent)
description:
  - Runs C(xc-livepatch ensure --json) once on the managed dom0 and reports its plan and outcome.
  - The command plans from the hypervisor's payload list, the payload file's ELF notes and Xen's rules
    (stacking by build id, REPLACE's rules, the re-apply rule); this module only builds its arguments
    and maps its JSON document to the task's result. It has no live-patch logic of its own.
  - The command holds an exclusive lock while it runs, so two tasks (or a task and an operator) on one
    host are serialised; O(lock_wait) bounds the wait.
version_added: 1.2.0
author:
  - xc-livepatch maintainers (@xc-livepatch)
requirements:
  - the C(xc-livepatch) command (Debian package C(xc-livepatch) 1.1 or later) on the managed host
  - root, or the privileges to use C(/dev/xen/privcmd), on the managed host
attributes:
  check_mode:
    support: full
    description: The command's C(--dry-run) - the plan is made and reported, nothing is done.
  diff_mode:
    support: full
    description: The payload list before and after (in check mode, the plan instead of the list after).
options:
  name:
    description:
      - The payload's name in the hypervisor (1 to 127 bytes).
      - With O(state=applied), defaults to the file's base name without its last extension, as C(xen-livepatch load) names it.
      - Required with O(state=absent).
    type: str
  src:
    description:
      - The payload file (an ELF relocatable object made for this hypervisor's build).
      - A path on the managed host; with O(remote_src=false), a path on the controller, copied to the
        managed host first.
      - Required with O(state=applied).
    type: path
  remote_src:
    description:
      - Whether O(src) is already on the managed host. With V(false) the action plugin copies it there
        (into the task's temporary directory) before the module runs.
    type: bool
    default: true
  state:
    description:
      - V(applied) - the payload is loaded and applied (uploaded and applied if it is not).
      - V(absent) - the payload is not loaded (reverted and unloaded if it is).
    type: str
    choices: [applied, absent]
    default: applied
  replace:
    description:
      - The payload is cumulative - afterwards it is the only one applied (Xen's REPLACE; the ones it
        replaces stay loaded, CHECKED, unless O(prune)).
    type: bool
    default: false
  prune:
    description:
      - Payloads loaded but not applied, other than this one, are unloaded.
    type: bool
    default: false
  reload:
    description:
      - A loaded payload of this name whose metadata differs from the file's C(.modinfo) is unloaded and
        uploaded again (without it, the run is refused with both shown).
    type: bool
    default: false
  force:
    description:
      - Send C(LIVEPATCH_FLAG_FORCE) with every upload (C(xc-livepatch ensure --force)); Xen 4.19 and
        later take it (a payload may then resolve symbols of the hypervisor's init sections), an older
        one cannot, and the command says so and uploads without it.
      - The build-id checks stay on; Xen refuses a payload made for another build whatever the flag.
    type: bool
    default: false
  wait:
    description:
      - How long each action may take before the command stops waiting (C(500ms), C(5s), C(1m); the
        command's default is C(5s)).
    type: str
  lock_wait:
    description:
      - How long to wait for another driver's lock on this host (C(0) - fail at once naming the holder's
        PID; the command's default when unset).
    type: str
  executable:
    description:
      - The C(xc-livepatch) command to run. Default - C(xc-livepatch) on the managed host's E(PATH).
    type: path
  sim:
    description:
      - A scenario file of a simulated hypervisor (C(xc-livepatch --sim)) instead of the real one, for
        tests and rehearsals.
    type: path
  sim_state:
    description:
      - With O(sim), the file that carries the simulated hypervisor's state from one run to the next
        (C(xc-livepatch --sim-state)); the command's lock is taken on it.
    type: path
notes:
  - The task is C(changed) exactly when the command's plan had steps (in check mode, when it would have
    some). A failed run reports whether a step did change the hypervisor.
  - A failure carries the command's one-line reason in C(msg) and the errno name of the step that ended
    it in C(errno).
seealso:
  - module: xen.livepatch.xen_livepatch_info
'''

EXAMPLES = r'''
- name: Apply XSA-435's live patch, uploaded from the managed host
  xen.livepatch.xen_livepatch:
    name: xsa-435
    src: /var/lib/xen-livepatch/xsa-435.livepatch

- name: Roll a cumulative payload in, copied from the controller, leaving nothing CHECKED
  xen.livepatch.xen_livepatch:
    name: lp-cumulative-7
    src: files/lp-cumulative-7.livepatch
    remote_src: false
    replace: true
    prune: true
    lock_wait: 30s

- name: Remove it again
  xen.livepatch.xen_livepatch:
    name: xsa-435
    state: absent
'''

RETURN = r'''
plan:
  description: The steps the command planned, in order (empty - nothing to do).
  returned: always
  type: list
  elements: dict
  sample: [{"step": "upload", "name": "xsa-435", "file": "/var/lib/xen-livepatch/xsa-435.livepatch"},
           {"step": "apply", "name": "xsa-435", "file": null}]
steps:
  description:
    - The steps run, each with its outcome, errno and timing (the step document of the command's
      C(xc-livepatch-action.schema.json)); a prefix of the plan, possibly followed by a cleanup unload.
  returned: always
  type: list
  elements: dict
build_id:
  description: The running hypervisor's build id in hex (null if it could not be read).
  returned: always
  type: str
  sample: 5e6d0c2a9b1f0e3d4c5b6a79887766554433221100
before:
  description: The payloads the hypervisor listed before the plan was made (null if the list failed).
  returned: always
  type: list
  elements: dict
after:
  description: The payloads it listed after the last step (equal to O(ignore:before) in check mode).
  returned: always
  type: list
  elements: dict
refusal:
  description: Why the target was refused before any step (null when a plan was made).
  returned: always
  type: str
errno:
  description: The errno name (EBUSY, EEXIST, EINVAL...) of the step that ended a failed run.
  returned: failure
  type: str
  sample: EBUSY
exit_status:
  description: The command's exit status (0 reached; 2 try again - EAGAIN or EBUSY; 1 another failure).
  returned: always
  type: int
elapsed_ns:
  description: The command's own wall-clock time in nanoseconds.
  returned: always
  type: int
cmd:
  description: The argument vector that was run.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xen.livepatch.plugins.module_utils.xc_livepatch import (
    COMMON_ARGUMENT_SPEC, command_argv, errno_in, failed_errno, first_line, payload_text, plan_text, run_json)


def ensure_args(params, check_mode):
    """The arguments of `xc-livepatch ensure` for these options."""
    args = ['--json']
    if check_mode:
        args.append('--dry-run')
    for flag in ('replace', 'prune', 'reload', 'force'):
        if params[flag]:
            args.append('--' + flag)
    if params['wait'] is not None:
        args.append('--wait=' + params['wait'])
    if params['lock_wait'] is not None:
        args.append('--lock-wait=' + params['lock_wait'])
    if params['state'] == 'absent':
        return args + ['--absent=' + params['name']]
    target = params['src'] if not params['name'] else '%s=%s' % (params['name'], params['src'])
    return args + ['--', target]


def result_of(doc, argv, check_mode, diff):
    """Ansible's return values for the command's document."""
    plan = doc.get('plan') or []
    ok = doc.get('ok') is True
    result = dict(
        changed=bool(plan) if ok else doc.get('changed') is True,
        plan=plan,
        steps=doc.get('steps') or [],
        build_id=doc.get('hypervisor_build_id'),
        before=doc.get('before'),
        after=doc.get('after'),
        refusal=doc.get('refusal'),
        exit_status=doc.get('exit_status'),
        elapsed_ns=doc.get('elapsed_ns'),
        cmd=argv,
    )
    if diff:
        if check_mode:
            after_header, after = 'plan (check mode)', plan_text(plan)
        else:
            after_header, after = 'payloads after', payload_text(doc.get('after'))
        result['diff'] = dict(before_header='payloads before', before=payload_text(doc.get('before')),
                              after_header=after_header, after=after)
    return result


def main():
    argument_spec = dict(
        name=dict(type='str'),
        src=dict(type='path'),
        remote_src=dict(type='bool', default=True),
        state=dict(type='str', choices=['applied', 'absent'], default='applied'),
        replace=dict(type='bool', default=False),
        prune=dict(type='bool', default=False),
        reload=dict(type='bool', default=False),
        force=dict(type='bool', default=False),
        wait=dict(type='str'),
        lock_wait=dict(type='str'),
    )
    argument_spec.update(COMMON_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[('state', 'applied', ['src']), ('state', 'absent', ['name'])],
        supports_check_mode=True,
    )
    argv = command_argv(module, 'ensure', ensure_args(module.params, module.check_mode))
    rc, doc, err = run_json(module, argv)
    result = result_of(doc, argv, module.check_mode, module._diff)
    if rc != 0 or doc.get('ok') is not True:
        msg = doc.get('message') or first_line(err) or 'xc-livepatch ensure exited with status %d' % rc
        module.fail_json(msg=msg, errno=failed_errno(doc) or errno_in(msg), rc=rc, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
