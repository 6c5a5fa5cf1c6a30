#!/usr/bin/python3
"""Validates `xc-livepatch ensure --json` documents against
cli/schema/xc-livepatch-ensure.schema.json (its steps against the action
schema's step, which it references) with Debian's python3-jsonschema, and
checks what the schema cannot say: ok == (exit_status == 0); changed ==
some step completed; the steps are a prefix of the plan (index 0, 1, ...),
each of the plan's kind and name, then at most one cleanup unload; a step
that did not complete is the last plan step run; interrupted is set exactly
for exit status 130/143; a dry run or a refusal runs no step; an empty plan
means before == after.

Usage: check_ensure_json.py JSON_FILE...   (or import: check(doc))
Prints one line per failing file and "N passed, M failed"."""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "schema")
DONE = ("completed", "no_action_needed")


def validator():
    ensure = json.load(open(os.path.join(SCHEMAS, "xc-livepatch-ensure.schema.json")))
    action = json.load(open(os.path.join(SCHEMAS, "xc-livepatch-action.schema.json")))
    jsonschema.Draft202012Validator.check_schema(ensure)
    # The steps are the action schema's: resolve its $id to the file beside
    # (Debian 12's jsonschema 4.10 has RefResolver, not `referencing`).
    resolver = jsonschema.RefResolver.from_schema(ensure, store={action["$id"]: action})
    return jsonschema.Draft202012Validator(ensure, resolver=resolver)


VALIDATOR = validator()


def check(doc):
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        raise AssertionError(f"schema: {'/'.join(map(str, e.path))}: {e.message}")
    assert doc["ok"] == (doc["exit_status"] == 0), "ok disagrees with exit_status"
    steps, plan = doc["steps"], doc["plan"]
    assert doc["changed"] == any(s["step"]["result"] == "completed" for s in steps), "changed disagrees with the steps"
    planned = [s for s in steps if not s["cleanup"]]
    assert [s["index"] for s in planned] == list(range(len(planned))), "the steps are not a prefix of the plan"
    for s in planned:
        p = plan[s["index"]]
        assert s["step"]["step"] == p["step"], f"step {s['index']} is not the plan's"
    failed = [s for s in planned if s["step"]["result"] not in DONE]
    assert len(failed) <= 1 and (not failed or failed[0] is planned[-1]), "a step after a failed one"
    cleanup = [s for s in steps if s["cleanup"]]
    assert len(cleanup) <= 1, "more than one cleanup step"
    if cleanup:
        assert failed and cleanup[0] is steps[-1] and cleanup[0]["step"]["step"] == "unload", "a cleanup without a failure"
        assert plan[failed[0]["index"]]["step"] in ("apply", "replace"), "a cleanup after a step that is no apply"
    assert (doc["interrupted"] is not None) == (doc["exit_status"] in (130, 143)), "interrupted disagrees with the status"
    if doc["dry_run"] or doc["refusal"] is not None:
        assert steps == [], "a dry run or a refused target ran steps"
    if doc["refusal"] is not None:
        assert plan == [] and doc["exit_status"] == 1, "a refusal with a plan or status != 1"
    if not steps and doc["before"] is not None:
        assert doc["before"] == doc["after"], "nothing run, yet before != after"
    if doc["exit_status"] == 0 and not doc["dry_run"]:
        assert len(planned) == len(plan), "ok, but not every planned step ran"


def main():
    ok = bad = 0
    for path in sys.argv[1:]:
        try:
            with open(path, "rb") as f:
                check(json.loads(f.read().decode("utf-8")))
            ok += 1
        except (AssertionError, ValueError) as e:
            print(f"{path}: {e}")
            bad += 1
    print(f"{ok} passed, {bad} failed")
    sys.exit(1 if bad or not ok else 0)


if __name__ == "__main__":
    main()
