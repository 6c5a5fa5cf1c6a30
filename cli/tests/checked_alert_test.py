#!/usr/bin/python3
"""Builds a `promtool test rules` case from what `xc-livepatch --sim SCENARIO
list --format prometheus` exports (held for 70 minutes on one host) and checks
that XenLivepatchCheckedTooLong fires at 60m, and not at 59m, for exactly the
payloads the export shows CHECKED.

Usage: checked_alert_test.py XC_LIVEPATCH SCENARIO RULES WORKDIR
       checked_alert_test.py --file EXPORT RULES WORKDIR   (an export written elsewhere,
                                                           e.g. on a real hypervisor)"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(__file__))
from prom_samples import samples  # noqa: E402

if sys.argv[1] == "--file":
    scenario, rules, work = sys.argv[2:5]
    text = open(scenario, encoding="utf-8", errors="replace").read()
else:
    cli, scenario, rules, work = sys.argv[1:5]
    text = subprocess.run([cli, "--sim", scenario, "list", "--format", "prometheus"],
                          capture_output=True, text=True, check=True).stdout


def quote(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


series = []
checked = []
for name, labels, value in sorted(samples(text, "xen_")):
    labels = dict(labels, job="node", instance="demo")
    sel = name + "{" + ",".join(f"{k}={quote(v)}" for k, v in sorted(labels.items())) + "}"
    series.append(f"      - series: '{sel}'\n        values: '{int(value)}x70'")
    if name == "xen_livepatch_info" and labels.get("state") == "checked":
        checked.append(labels)
if not checked:
    sys.exit("the export shows no CHECKED payload: " + scenario)


def alert(labels):
    summary = quote("demo: live patch " + labels["name"] + " loaded but not applied for 1h")
    lab = ", ".join(f"{k}: {quote(v)}" for k, v in sorted(dict(labels, severity="warning").items()))
    return (f"          - exp_labels: {{{lab}}}\n"
            f"            exp_annotations:\n"
            f"              summary: {summary}\n"
            f"              description: \"A CHECKED payload holds hypervisor memory (a replace leaves the replaced ones so):"
            f" apply it or unload it (xc-livepatch ensure --prune).\"")


test = f"""rule_files:
  - {rules}
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{chr(10).join(series)}
    alert_rule_test:
      - eval_time: 59m
        alertname: XenLivepatchCheckedTooLong
        exp_alerts: []
      - eval_time: 60m
        alertname: XenLivepatchCheckedTooLong
        exp_alerts:
{chr(10).join(alert(c) for c in checked)}
"""
path = os.path.join(work, "checked-alert-test.yml")
with open(path, "w") as f:
    f.write(test)
r = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True)
if r.returncode != 0:
    print((r.stdout + r.stderr).strip()[-2000:])
else:
    print(f"  {len(checked)} CHECKED payloads of {os.path.basename(scenario)}: "
          + ", ".join(c["name"] for c in checked))
sys.exit(r.returncode)
