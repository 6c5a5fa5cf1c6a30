# Copyright (c) xc-livepatch maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared runner's pure helpers."""

from ansible_collections.xen.livepatch.plugins.module_utils import xc_livepatch as xc


def test_first_line_skips_blank_lines():
    assert xc.first_line('\n  \n a b \nc') == 'a b'
    assert xc.first_line(None) == ''


def test_errno_in_finds_the_first_name():
    assert xc.errno_in('cannot list: EACCES (Permission denied), not EPERM') == 'EACCES'
    assert xc.errno_in('Error 16: Device or resource busy') is None


def test_failed_errno_is_the_last_steps():
    doc = dict(steps=[dict(step=dict(errno=None)), dict(step=dict(errno=dict(name='EEXIST'))),
                      dict(step=dict(errno=None))])
    assert xc.failed_errno(doc) == 'EEXIST'
    assert xc.failed_errno(dict(steps=[])) is None


def test_payload_and_plan_text():
    assert xc.payload_text([dict(name='a', state='APPLIED'), dict(name='b', state=7)]) == 'a APPLIED\nb 7\n'
    assert xc.payload_text(None) == '(not listed)\n'
    assert xc.plan_text([dict(step='upload', name='a', file='/f'), dict(step='apply', name='a', file=None)]) == \
        'upload a /f\napply a\n'
