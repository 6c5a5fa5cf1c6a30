#!/usr/bin/python3
"""Runs the README's two PromQL queries with `promtool test rules` over what
`xc-livepatch list --format prometheus` exports for three simulated hosts:
  a: tests/fakexen/demo.scn (xsa-435-cpu-ucode applied; one rc -11)
  b: tests/fakexen/scenarios/11-error-rc-values.scn (no xsa-435; five rc != 0)
  c: tests/fakexen/scenarios/17-flask-deny.scn (listing fails)
and checks the answers: only b lacks the payload (c cannot tell: it failed),
and exactly the six payloads with rc != 0.

Usage: promql_test.py XC_LIVEPATCH ROOT WORKDIR"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from prom_samples import samples  # noqa: E402

cli, root, work = sys.argv[1:4]
hosts = {
    "a": "tests/fakexen/demo.scn",
    "b": "tests/fakexen/scenarios/11-error-rc-values.scn",
    "c": "tests/fakexen/scenarios/17-flask-deny.scn",
}


def quote(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def series(name, labels):
    return name + "{" + ",".join(f"{k}={quote(v)}" for k, v in labels) + "}"


lines = []
for host, scn in hosts.items():
    out = subprocess.run([cli, "--sim", os.path.join(root, scn), "list", "--format", "prometheus"],
                         capture_output=True, text=True).stdout
    for name, labels, value in sorted(samples(out, "xen_livepatch_")):
        labels = tuple(sorted(labels + (("instance", host),)))
        lines.append(f"      - series: '{series(name, labels)}'\n        values: '{int(value)}+0x10'")

missing = [("xen_livepatch_list_success", [("instance", "b")], 1)]
failed = [("a", "lp-hotfix-sched", -11), ("b", "lp-eagain", -11), ("b", "lp-ebusy", -16),
          ("b", "lp-einval", -22), ("b", "lp-etimedout", -110), ("b", "lp-eio", -5)]


def expected(rows):
    return "\n".join(f"          - labels: '{series(n, sorted(l))}'\n            value: {v}" for n, l, v in rows)


test = f"""rule_files: []
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{chr(10).join(lines)}
    promql_expr_test:
      - expr: |
          xen_livepatch_list_success == 1
            unless on (instance) xen_livepatch_info{{name="xsa-435-cpu-ucode", state="applied"}}
        eval_time: 5m
        exp_samples:
{expected(missing)}
      - expr: xen_livepatch_rc != 0
        eval_time: 5m
        exp_samples:
{expected([("xen_livepatch_rc", [("instance", h), ("name", n)], v) for h, n, v in failed])}
"""
path = os.path.join(work, "promql-test.yml")
with open(path, "w") as f:
    f.write(test)
r = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True)
print("\n".join((r.stdout + r.stderr).strip().split("\n")[-12:]))
sys.exit(r.returncode)
