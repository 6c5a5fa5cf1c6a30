#!/usr/bin/python
# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
---
module: xen_livepatch_info
short_description: The Xen hypervisor's live patches, version and build id
description:
  - Runs C(xc-livepatch list --json) once on the managed dom0 and returns the payload list, the
    hypervisor's version and build id, both as return values and as the fact C(xen_livepatch).
  - Changes nothing; takes no lock.
version_added: 1.2.0
author:
  - xc-livepatch maintainers (@xc-livepatch)
requirements:
  - the C(xc-livepatch) command (Debian package C(xc-livepatch)) on the managed host
attributes:
  check_mode:
    support: full
    description: It changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  facts:
    support: full
    description: The result is also the fact C(xen_livepatch).
options:
  executable:
    description:
      - The C(xc-livepatch) command to run. Default - C(xc-livepatch) on the managed host's E(PATH).
    type: path
  sim:
    description:
      - A scenario file of a simulated hypervisor (C(xc-livepatch --sim)) instead of the real one.
    type: path
  sim_state:
    description:
      - With O(sim), the file holding the simulated hypervisor's state (C(xc-livepatch --sim-state)).
    type: path
seealso:
  - module: xen.livepatch.xen_livepatch
'''

EXAMPLES = r'''
- name: Read the hypervisor's live patches
  xen.livepatch.xen_livepatch_info:
  register: lp

- name: Refuse a host whose hypervisor is not the build the payload was made for
  ansible.builtin.assert:
    that: lp.build_id == payload_xen_depends
    fail_msg: "{{ inventory_hostname }} runs build {{ lp.build_id }}, the payload wants {{ payload_xen_depends }}"

- name: Show what is applied
  ansible.builtin.debug:
    msg: "{{ ansible_facts.xen_livepatch.payloads | selectattr('state', 'eq', 'APPLIED') | map(attribute='name') }}"
'''

RETURN = r'''
build_id:
  description: The hypervisor's build id in lowercase hex (what a payload's C(.livepatch.xen_depends) must name); null if it would not say.
  returned: always
  type: str
  sample: 5e6d0c2a9b1f0e3d4c5b6a79887766554433221100
version:
  description: The hypervisor's version (major.minor and extraversion); null if it would not say.
  returned: always
  type: str
  sample: 4.17.5
sysctl_interface:
  description: The sysctl interface version the hypervisor accepted (21 is 0x15, Xen 4.17 to 4.20; 22 is 0x16, 4.21 and later).
  returned: always
  type: int
list_version:
  description: The payload list's generation counter.
  returned: always
  type: int
payloads:
  description: The loaded payloads in the hypervisor's order (the command's C(xc-livepatch-list.schema.json) payload objects).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The payload's name.
      type: str
    state:
      description: CHECKED, APPLIED, or the state number.
      type: raw
    rc:
      description: The result of its last action (0, or a negative errno).
      type: int
    metadata:
      description: Its C(.modinfo) strings.
      type: list
      elements: str
source:
  description: C(xen) (the real hypervisor) or C(simulator).
  returned: always
  type: str
errno:
  description: The errno name the command's line of error names (EACCES, ENOSYS...), when listing fails.
  returned: failure
  type: str
  sample: EACCES
ansible_facts:
  description: The same values under C(xen_livepatch).
  returned: always
  type: dict
  contains:
    xen_livepatch:
      description: build_id, version, sysctl_interface, list_version, payloads and source.
      type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xen.livepatch.plugins.module_utils.xc_livepatch import (
    COMMON_ARGUMENT_SPEC, command_argv, errno_in, first_line, run_json)


def info_of(doc):
    """The return values (and fact) for a `list --json` document."""
    return dict(
        build_id=doc.get('xen_build_id'),
        version=doc.get('xen_version'),
        sysctl_interface=doc.get('sysctl_interface'),
        list_version=doc.get('list_version'),
        payloads=doc.get('payloads') or [],
        source=doc.get('source'),
    )


def main():
    module = AnsibleModule(argument_spec=dict(COMMON_ARGUMENT_SPEC), supports_check_mode=True)
    argv = command_argv(module, 'list', ['--json'])
    rc, doc, err = run_json(module, argv)
    if rc != 0 or 'payloads' not in doc:
        msg = first_line(err) or 'xc-livepatch list exited with status %d' % rc
        module.fail_json(msg=msg, errno=errno_in(msg), rc=rc, cmd=argv)
    info = info_of(doc)
    module.exit_json(changed=False, ansible_facts=dict(xen_livepatch=info), **info)


if __name__ == '__main__':
    main()
