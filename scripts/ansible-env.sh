#!/usr/bin/env bash
# Creates (once) the virtual environment with the pinned ansible-core that the
# collection's tests use, and the stand-in for ansible-test's pip bootstrap:
#   bash scripts/ansible-env.sh        prints the venv's bin directory
# ANSIBLE_VENV overrides the place (default: ~/.cache/xc-livepatch/ansible-venv).
# pip runs through the machine's own configuration (/etc/pip.conf).
set -euo pipefail
ANSIBLE_CORE_VERSION=2.19.14
# cryptography 47 and later warn (CryptographyDeprecationWarning: DSA) on
# every ansible command, from ansible-core's ssh-agent support: 46.0.7 does not.
CRYPTOGRAPHY_VERSION=46.0.7
venv=${ANSIBLE_VENV:-$HOME/.cache/xc-livepatch/ansible-venv}
if [ ! -x "$venv/bin/ansible-test" ] ||
  [ "$("$venv/bin/python" -c 'import ansible.release as r, cryptography as c; print(r.__version__, c.__version__)' 2>/dev/null)" != "$ANSIBLE_CORE_VERSION $CRYPTOGRAPHY_VERSION" ]; then
  echo "ansible-env: creating $venv (ansible-core $ANSIBLE_CORE_VERSION, cryptography $CRYPTOGRAPHY_VERSION)" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==$ANSIBLE_CORE_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION" >&2
fi

# ansible-test bootstraps pip in each of its virtual environments with a
# script it downloads from outside the package registries; it looks first in
# its cache for get_pip_<version>.py. This stand-in installs the Python's
# bundled pip (ensurepip), then the requested pip from the package index with
# the machine's pip configuration: ensurepip sets PIP_CONFIG_FILE=/dev/null in
# its own environment, so the second pip is started without it.
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
# the pip version it bootstraps: get_venv_packages()'s default (pip='24.2')
pip_version=$(grep -hoE "^ +pip='[0-9.]+'," "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | grep -oE "[0-9]+(\.[0-9]+)+" | head -n1)
[ -n "$pip_version" ] || { echo "ansible-env: cannot find the pip version ansible-test bootstraps" >&2; exit 1; }
stand_in=$cache/get_pip_${pip_version//./_}.py
cat >"$stand_in.tmp" <<'PY'
"""Stand-in for get-pip.py (written by scripts/ansible-env.sh): ensurepip, then
pip itself installs the requested packages through the machine's pip config."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
env = {k: v for k, v in os.environ.items() if k not in ("PIP_CONFIG_FILE", "ENSUREPIP_OPTIONS")}
# --no-setuptools and --no-wheel are get-pip.py's own options (nothing else
# is installed here anyway), not pip install's.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args, env=env))
PY
mv "$stand_in.tmp" "$stand_in"
echo "$venv/bin"
