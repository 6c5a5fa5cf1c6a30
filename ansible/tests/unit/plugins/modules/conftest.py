# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a module's main() with arguments, over a recorded run of the
xc-livepatch command (a fixture document of tests/unit/fixtures), and returns
what the module reported and the argument vectors it ran."""

import json
import os

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')


class ModuleExit(Exception):
    """exit_json or fail_json was called."""

    def __init__(self, failed, result):
        super(ModuleExit, self).__init__(result)
        self.failed = failed
        self.result = result


def fixture_text(name):
    with open(os.path.join(FIXTURES, name + '.json')) as f:
        return f.read()


@pytest.fixture
def run_module(monkeypatch):
    """run_module(main, args, stdout, rc=0, stderr='', check_mode=False, diff=False)
    -> (failed, result, argvs)."""

    def run(main, args, stdout, rc=0, stderr='', check_mode=False, diff=False):
        argvs = []

        def run_command(self, argv, check_rc=False, **kwargs):
            argvs.append(list(argv))
            return rc, stdout, stderr

        def exit_json(self, **result):
            raise ModuleExit(False, result)

        def fail_json(self, **result):
            raise ModuleExit(True, result)

        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
        monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, required=False: '/usr/bin/' + name)
        full = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        with patch_module_args(full):
            with pytest.raises(ModuleExit) as e:
                main()
        return e.value.failed, e.value.result, argvs

    return run


@pytest.fixture
def doc():
    """doc(name) -> the fixture document (text) of that name."""
    return fixture_text


def load(name):
    return json.loads(fixture_text(name))
