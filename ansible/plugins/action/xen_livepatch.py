# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of xen.livepatch.xen_livepatch: with remote_src=false, copies
the payload file from the controller into the task's temporary directory on
the managed host, then runs the module on that copy. Otherwise the module
runs as it is."""

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Copies src to the managed host when remote_src is false."""

    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        try:
            if boolean(args.get('remote_src', True), strict=True) or not args.get('src'):
                return self._merged(result, self._execute_module(module_args=args, task_vars=task_vars))
            try:
                local = self._find_needle('files', args['src'])
            except Exception as e:  # the lookup's own message names the file
                raise AnsibleActionFail(to_text(e))
            remote = self._connection._shell.join_path(self._connection._shell.tmpdir, 'payload.livepatch')
            if args.get('name') is None:
                # the module names a payload after its file: keep the controller file's name
                args['name'] = to_text(args['src']).rsplit('/', 1)[-1].rsplit('.', 1)[0]
            self._transfer_file(local, remote)
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            args.update(src=remote, remote_src=True)
            return self._merged(result, self._execute_module(module_args=args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    @staticmethod
    def _merged(result, module_result):
        result.update(module_result)
        return result
