"""What check_json.py and check_action_json.py share: the schema loaded and
itself checked (Draft 2020-12, Debian's python3-jsonschema), a document read
and validated against it, and the report: one "FAIL LABEL: reason" line per
failing item, then "N passed, M failed"; the exit code is 1 when any item
failed or none was checked."""
import json

import jsonschema


def validator(schema_path):
    """The schema at SCHEMA_PATH, itself checked, as a validator."""
    schema = json.load(open(schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def load_valid(validator, path):
    """The UTF-8 JSON document at PATH; AssertionError naming up to three
    schema errors if it does not validate."""
    with open(path, "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        raise AssertionError("schema: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:3]))
    return doc


def report(items, check):
    """check(item) for each (label, item): counts, prints and returns the
    exit code."""
    ok = bad = 0
    for label, item in items:
        try:
            check(item)
            ok += 1
        except (AssertionError, ValueError, KeyError) as e:
            bad += 1
            print(f"FAIL {label}: {str(e)[:300]}")
    print(f"{ok} passed, {bad} failed")
    return 1 if bad or ok == 0 else 0
