#!/usr/bin/env bash
# Runs every test of the project: the Rust tests, then each stage in
# scripts/test.d/ in order. Prints one line per stage and a closing
# "N passed, N failed" line; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; exit 1; }

passed=0; failed=0; failures=()
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
stage() { # each stage's output is also kept, for the reasons repeated at the end
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name"
  if "$@" 2>&1 | tee "$logs/${#failures[@]}.$passed.log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    rm -f "$logs/${#failures[@]}.$passed.log"
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s)"
  else
    mv "$logs/${#failures[@]}.$passed.log" "$logs/failed-${#failures[@]}.log"
    failed=$((failed + 1)); failures+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

fmt_check() { # the whole workspace, the fuzz crate and every other tracked .rs file
  cargo fmt --all --check && (cd fuzz && cargo fmt --check) &&
    git ls-files -z '*.rs' | xargs -0 rustfmt --edition 2021 --check
}
stage "cargo fmt --check (the whole repository is rustfmt-clean)" fmt_check
stage "cargo build --release" cargo build --release --locked
stage "cargo test" cargo test --release --locked
stage "cargo clippy (no warnings; every unsafe block has a SAFETY comment)" \
  cargo clippy --release --locked -p xc-livepatch --all-targets -- -D warnings
stage "cargo clippy, the xc-livepatch command (cli/)" \
  cargo clippy --release --locked -p xc-livepatch-cli --all-targets -- -D warnings
stage "cargo doc (no warnings, no broken links)" \
  env RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p xc-livepatch --features sim
for s in scripts/test.d/*.sh; do
  [ -e "$s" ] || continue
  stage "$(basename "$s" .sh)" bash "$s"
done

echo
for i in "${!failures[@]}"; do # the failed stages' own FAIL lines, where a shortened log still shows them
  echo "failed stage: ${failures[$i]}"
  grep -aE 'FAIL|FATAL|error[:[]|panicked' "$logs/failed-$i.log" | grep -avE '^\s*(PASS|ok)' | head -n 25 | cut -c1-300 | sed 's/^/  | /'
done
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
