#!/usr/bin/env bash
# The tests' deliberate break of the collection (54-ansible, 55-fleet, the
# real-Xen SSH test): in the copy of ansible/ at DIR, xen_livepatch reports
# changed=True whatever the plan. Fails if the line it replaces is not there.
#   bash scripts/ansible-always-changed.sh DIR
set -euo pipefail
module=$1/plugins/modules/xen_livepatch.py
sed -i 's/changed=bool(plan) if ok else doc.get(.changed.) is True,/changed=True,/' "$module"
grep -q 'changed=True,' "$module" || { echo "ansible-always-changed: the break did not apply to $module" >&2; exit 1; }
