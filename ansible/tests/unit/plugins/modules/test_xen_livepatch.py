# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""xen_livepatch: the argument vector it builds, and how the command's
document becomes changed, diff, failed, msg and errno."""

from ansible_collections.xen.livepatch.plugins.modules import xen_livepatch

SRC = '/srv/xsa-1.livepatch'


def test_one_ensure_run_with_the_options_as_flags(run_module, doc):
    args = dict(name='xsa-1', src=SRC, replace=True, prune=True, reload=True, force=True, wait='10s', lock_wait='30s')
    failed, result, argvs = run_module(xen_livepatch.main, args, doc('ensure-upload-apply'))
    assert not failed
    assert argvs == [['/usr/bin/xc-livepatch', 'ensure', '--json', '--replace', '--prune', '--reload', '--force',
                      '--wait=10s', '--lock-wait=30s', '--', 'xsa-1=' + SRC]]


def test_default_options_give_no_flags_and_a_file_without_name_is_named_by_the_command(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(src=SRC), doc('ensure-upload-apply'))
    assert argvs == [['/usr/bin/xc-livepatch', 'ensure', '--json', '--', SRC]]


def test_executable_and_simulator_come_first(run_module, doc):
    args = dict(name='xsa-1', src=SRC, executable='/opt/xc', sim='/s.scn', sim_state='/s.state')
    failed, result, argvs = run_module(xen_livepatch.main, args, doc('ensure-upload-apply'))
    assert argvs == [['/opt/xc', '--sim', '/s.scn', '--sim-state', '/s.state', 'ensure', '--json', '--',
                      'xsa-1=' + SRC]]


def test_sim_state_without_sim_fails_before_running(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(src=SRC, sim_state='/s'), doc('ensure-upload-apply'))
    assert failed and argvs == []
    assert 'sim_state needs sim' in result['msg']


def test_absent_is_ensure_absent(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', state='absent'), doc('ensure-absent'))
    assert argvs == [['/usr/bin/xc-livepatch', 'ensure', '--json', '--absent=xsa-1']]
    assert not failed and result['changed'] is True
    assert [s['step'] for s in result['plan']] == ['revert', 'unload']


def test_absent_needs_a_name_and_applied_a_src(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(state='absent'), doc('ensure-absent'))
    assert failed and argvs == [] and 'name' in result['msg']
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='x'), doc('ensure-absent'))
    assert failed and argvs == [] and 'src' in result['msg']


def test_changed_with_the_plan_steps_and_build_id(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), doc('ensure-upload-apply'))
    assert not failed and result['changed'] is True
    assert [s['step'] for s in result['plan']] == ['upload', 'apply']
    assert [s['step']['result'] for s in result['steps']] == ['completed', 'completed']
    assert result['build_id'] == '5e6d0c2a9b1f0e3d4c5b6a79887766554433221100'
    assert result['exit_status'] == 0 and result['elapsed_ns'] == 2000
    assert 'diff' not in result


def test_an_empty_plan_is_not_changed(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), doc('ensure-nothing-to-do'),
                                       diff=True)
    assert not failed and result['changed'] is False and result['plan'] == []
    assert result['diff']['before'] == result['diff']['after'] == 'xsa-0 APPLIED\nxsa-1 APPLIED\n'


def test_check_mode_is_a_dry_run_changed_when_the_plan_has_steps(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), doc('ensure-dry-run'),
                                       check_mode=True, diff=True)
    assert argvs == [['/usr/bin/xc-livepatch', 'ensure', '--json', '--dry-run', '--', 'xsa-1=' + SRC]]
    assert not failed and result['changed'] is True
    assert result['diff'] == dict(before_header='payloads before', before='xsa-0 APPLIED\n',
                                  after_header='plan (check mode)',
                                  after='upload xsa-1 /srv/xsa-1.livepatch\napply xsa-1\n')


def test_diff_shows_the_lists_before_and_after(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), doc('ensure-upload-apply'),
                                       diff=True)
    assert result['diff']['before'] == 'xsa-0 APPLIED\n'
    assert result['diff']['after'] == 'xsa-0 APPLIED\nxsa-1 APPLIED\n'


def test_a_failed_step_fails_with_the_commands_line_and_errno(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), doc('ensure-apply-failed'),
                                       rc=2)
    assert failed
    assert result['msg'].startswith('xc-livepatch: ensure: apply xsa-1 failed: EBUSY')
    assert '\n' not in result['msg']
    assert result['errno'] == 'EBUSY' and result['rc'] == 2 and result['exit_status'] == 2
    # the upload happened and was undone: the document says whether anything changed
    assert result['changed'] is True


def test_a_refusal_fails_unchanged_with_its_reason(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), doc('ensure-refused'), rc=1)
    assert failed and result['changed'] is False
    assert result['msg'].startswith('xc-livepatch: ensure refused: xsa-1 was made for hypervisor build bb02')
    assert result['refusal'].startswith('xsa-1 was made for')
    assert result['errno'] is None


def test_a_command_that_prints_no_document_fails_with_its_first_line(run_module):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), '', rc=1,
                                       stderr='\nxc-livepatch: another driver holds the lock (pid 4242): EWOULDBLOCK\nmore\n')
    assert failed
    assert result['msg'] == 'xc-livepatch: another driver holds the lock (pid 4242): EWOULDBLOCK'
    assert result['errno'] == 'EWOULDBLOCK' and result['rc'] == 1


def test_exit_status_alone_fails_a_document_that_says_ok(run_module, doc):
    failed, result, argvs = run_module(xen_livepatch.main, dict(name='xsa-1', src=SRC), doc('ensure-nothing-to-do'),
                                       rc=1, stderr='xc-livepatch: cannot write the simulator\'s state\n')
    assert failed and result['msg'] == "xc-livepatch: cannot write the simulator's state"
