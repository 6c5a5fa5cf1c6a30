# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""xen_livepatch_info: one `list --json`, its values and fact, no change."""

import json

from ansible_collections.xen.livepatch.plugins.modules import xen_livepatch_info


def test_list_json_once_and_the_values_as_a_fact(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch_info.main, dict(sim='/demo.scn'), doc('list-demo'))
    assert argvs == [['/usr/bin/xc-livepatch', '--sim', '/demo.scn', 'list', '--json']]
    assert not failed and result['changed'] is False
    listed = json.loads(doc('list-demo'))
    assert result['payloads'] == listed['payloads']
    assert result['build_id'] == listed['xen_build_id'] and result['version'] == listed['xen_version']
    assert result['sysctl_interface'] == listed['sysctl_interface']
    fact = result['ansible_facts']['xen_livepatch']
    assert fact == dict(build_id=result['build_id'], version=result['version'], payloads=result['payloads'],
                        sysctl_interface=result['sysctl_interface'], list_version=result['list_version'],
                        source='simulator')


def test_check_mode_runs_the_same_list(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch_info.main, {}, doc('list-demo'), check_mode=True)
    assert argvs == [['/usr/bin/xc-livepatch', 'list', '--json']] and not failed


def test_a_failed_list_fails_with_the_commands_line_and_errno(run_module):
    line = 'xc-livepatch: cannot list live patches: EACCES (Permission denied): hypervisor refused'
    failed, result, argvs = run_module(xen_livepatch_info.main, {}, '', rc=1, stderr=line + '\n')
    assert failed and result['msg'] == line and result['errno'] == 'EACCES' and result['rc'] == 1
