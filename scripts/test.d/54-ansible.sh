#!/usr/bin/env bash
# The Ansible collection xen.livepatch (ansible/), on a copy laid out as
# ansible_collections/xen/livepatch (scripts/ansible-tree.sh), with the
# pinned ansible-core of scripts/ansible-env.sh:
#  1. ansible-test sanity --python 3.11: every default test (validate-modules,
#     pylint, pep8, compile, import, yamllint, ansible-doc...); its own
#     virtual environments are reused from ~/.ansible/test/venv after the
#     first run (about 10 minutes);
#  2. ansible-test units --python 3.11: tests/unit (pytest), the modules'
#     argument vectors and their mapping of the command's documents;
#  3. the unit fixtures are valid xc-livepatch documents: the ensure ones
#     against cli/schema/xc-livepatch-ensure.schema.json, the list one
#     against xc-livepatch-list.schema.json (python3-jsonschema);
#  4. a deliberate break: a module that always reports changed fails the units.
# (Debian's python3-jsonschema, as 32-cli uses it.) Any WARNING line fails the stage, but one explained here: ansible-test's
# 'Using locale "C.UTF-8" instead of "en_US.UTF-8"' (this machine generates
# no en_US.UTF-8 locale; no test of the collection depends on the locale).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bash scripts/setup.sh python3-jsonschema >/dev/null || exit 1
bin=$(bash scripts/ansible-env.sh) || exit 1
export PATH=$bin:$PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
explained='^WARNING: (Using locale "C\.UTF-8" instead of "en_US\.UTF-8"\. Tests which depend on the locale may behave unexpectedly\.|Reviewing previous [0-9]+ warning\(s\):)$'
run_test() { # NAME LOG COMMAND...: passes when COMMAND does and it printed no unexplained warning
  local name=$1 log=$2 t0=$SECONDS; shift 2
  if ! "$@" >"$log" 2>&1; then
    echo "  FAIL: $name:"; grep -E 'ERROR|FAILED|Error|error:' "$log" | head -n 20 | sed 's/^/    /'; failed=1; return 1
  fi
  local warn; warn=$(grep -iE 'warning' "$log" | grep -vE "$explained")
  if [ -n "$warn" ]; then
    echo "  FAIL: $name: warnings:"; head -n 10 <<<"$warn" | sed 's/^/    /'; failed=1; return 1
  fi
  if grep -q '^Running sanity test' "$log"; then
    echo "  ok: $name ($((SECONDS - t0)) s): $(grep -cE '^Running sanity test' "$log") sanity tests passed:"
  else
    echo "  ok: $name ($((SECONDS - t0)) s): pytest: $(grep -oE '^=+ [0-9]+ passed' "$log" | awk '{n += $2} END {print n}') tests passed"
  fi
}

tree=$(bash scripts/ansible-tree.sh "$work/a") || exit 1
(cd "$tree" && run_test "ansible-test sanity --python 3.11" "$work/sanity.log" ansible-test sanity --python 3.11) || failed=1
echo "    $(grep -E '^Running sanity test' "$work/sanity.log" | sed 's/^Running sanity test "\([^"]*\)".*/\1/' | tr '\n' ' ')"
(cd "$tree" && run_test "ansible-test units --python 3.11" "$work/units.log" ansible-test units --python 3.11 --requirements) || failed=1

/usr/bin/python3 - "$root/cli/schema" "$root/ansible/tests/unit/fixtures" <<'PY' || failed=1
import glob, json, os, sys
import jsonschema
schema_dir, fixtures = sys.argv[1:3]
store = {}
for p in glob.glob(os.path.join(schema_dir, "*.json")):
    s = json.load(open(p))
    store[s["$id"]] = s
    store[os.path.basename(p)] = s
base = "https://xc-livepatch.invalid/schema/"
bad = 0
names = sorted(os.listdir(fixtures))
for n in names:
    which = "xc-livepatch-ensure.schema.json" if n.startswith("ensure-") else "xc-livepatch-list.schema.json"
    schema = store[which]
    resolver = jsonschema.RefResolver(base + which, schema, store=store)
    try:
        jsonschema.Draft202012Validator(schema, resolver=resolver).validate(json.load(open(os.path.join(fixtures, n))))
    except jsonschema.ValidationError as e:
        bad += 1
        print(f"  FAIL: fixture {n} is not valid against {which}: {e.message[:200]}")
if not bad:
    print(f"  ok: {len(names)} unit fixtures valid against the command's schemas")
sys.exit(1 if bad else 0)
PY

# The deliberate break: changed=True whatever the plan.
broken=$(bash scripts/ansible-tree.sh "$work/b") || exit 1
if bash scripts/ansible-always-changed.sh "$broken" &&
  ! (cd "$broken" && ansible-test units --python 3.11 --requirements >"$work/broken.log" 2>&1); then
  echo "  break caught: a module that always reports changed -> $(grep -m1 -E '^FAILED' "$work/broken.log")"
else
  echo "  FAIL: the always-changed module passed the units"; failed=1
fi
exit $failed
