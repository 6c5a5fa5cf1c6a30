#!/usr/bin/env bash
# The Prometheus rules shipped in the xc-livepatch package
# (cli/prometheus/xen-livepatch.rules.yml):
#  1. promtool check rules;
#  2. promtool test rules over synthetic series (xen-livepatch.rules.test.yml:
#     every alert on both sides of its threshold, the recording rules' values);
#  3. the export of a simulated host with CHECKED payloads
#     (`xc-livepatch --sim list --format prometheus`) fires
#     XenLivepatchCheckedTooLong for each of them after 1h, and nothing before;
#  4. deliberate breaks: copies of the rules with one threshold or comparison
#     moved each make the unit tests fail.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bash scripts/setup.sh prometheus >/dev/null || exit 1
rules=cli/prometheus/xen-livepatch.rules.yml
tests=cli/prometheus/xen-livepatch.rules.test.yml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
part() { # NAME COMMAND...
  local name=$1; shift
  if "$@"; then echo "  ok: $name"; else echo "  FAIL: $name"; failed=1; fi
}

part "promtool check rules" promtool check rules "$rules"
part "promtool test rules (every alert, each side of its threshold)" promtool test rules "$tests"

CLI=${CARGO_TARGET_DIR:-$root/target}/release/xc-livepatch
[ -x "$CLI" ] || cargo build --release --locked -q -p xc-livepatch-cli || exit 1
part "a simulated host's export with CHECKED payloads fires XenLivepatchCheckedTooLong at 1h" \
  python3 cli/tests/checked_alert_test.py "$CLI" "$root/tests/fakexen/demo.scn" "$root/$rules" "$work"

# Each break: OLD|NEW, a text that occurs exactly once in the rules.
breaks=(
  "for: 5m|for: 6m"
  "> 900|> 960"
  "for: 1h|for: 61m"
  "!= -11|!= -22"
  "for: 10m|for: 11m"
  "for: 30m|for: 31m"
  "< on (build_id)|<= on (build_id)"
  "(xen_livepatch_list_success == 1)|(xen_livepatch_list_success >= 0)"
)
caught=0
for b in "${breaks[@]}"; do
  old=${b%%|*} new=${b#*|}
  n=$(grep -cF -- "$old" "$rules")
  [ "$n" = 1 ] || { echo "  FAIL: break '$old' occurs $n times in the rules"; failed=1; continue; }
  mkdir -p "$work/b"
  python3 - "$rules" "$work/b/xen-livepatch.rules.yml" "$old" "$new" <<'PY'
import sys
src, dst, old, new = sys.argv[1:5]
open(dst, "w").write(open(src).read().replace(old, new))
PY
  cp "$tests" "$work/b/"
  if out=$(promtool test rules "$work/b/$(basename "$tests")" 2>&1); then
    echo "  FAIL: break '$old' -> '$new' not caught"; failed=1
  else
    caught=$((caught + 1))
    echo "  break '$old' -> '$new' caught: $(grep -m1 -E '^ *(alertname|expr):' <<<"$out" | sed 's/^ *//' | head -c 160)"
  fi
done
echo "  $caught of ${#breaks[@]} deliberate breaks caught"
exit $failed
