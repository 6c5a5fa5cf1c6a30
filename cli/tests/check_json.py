#!/usr/bin/python3
"""Validates `xc-livepatch list --json` outputs against the JSON Schema with
Debian's python3-jsonschema, and checks that each one is lossless: decoded,
it must give back exactly the payloads of the matching `--format dump`
output (name bytes, state, rc, metadata bytes), with count == len(payloads).

Usage: check_json.py SCHEMA JSON_FILE DUMP_FILE [JSON_FILE DUMP_FILE ...]
Prints one line per failing file and "N passed, M failed"."""
import base64
import re
import sys

import jsoncheck


def unescape_name(field):
    """The dump's name escaping undone: `\\\\` is a backslash, `\\xNN` a byte."""
    out = bytearray()
    i = 0
    while i < len(field):
        if field[i:i + 1] != b"\\":
            out += field[i:i + 1]
            i += 1
        elif field[i + 1:i + 2] == b"\\":
            out += b"\\"
            i += 2
        else:
            assert field[i + 1:i + 2] == b"x" and re.fullmatch(rb"[0-9a-f]{2}", field[i + 2:i + 4]), \
                f"bad escape in name {field!r}"
            out.append(int(field[i + 2:i + 4], 16))
            i += 4
    return bytes(out)


def dump_payloads(path):
    """The dump's payloads: exactly one line per payload, the name escaped
    (no raw control byte in it)."""
    with open(path, "rb") as f:
        data = f.read()
    head, _, body = data.partition(b"\n")
    assert head.startswith(b"count "), "dump without a count line"
    n = int(head[6:])
    lines = body.split(b"\n")
    assert lines[-1] == b"", "dump does not end with a newline"
    out = []
    for i, line in enumerate(lines[:-1]):
        m = re.fullmatch(rb"([^\x00-\x1f\x7f]*)\t(\d+)\t(-?\d+)\t([0-9a-f]*)", line)
        assert m, f"line {i + 2} of the dump is not one escaped payload: {line[:80]!r}"
        out.append((unescape_name(m.group(1)), int(m.group(2)), int(m.group(3)), bytes.fromhex(m.group(4).decode())))
    assert len(out) == n, f"dump has {len(out)} lines for count {n}"
    return n, out


def json_payloads(doc):
    out = []
    for p in doc["payloads"]:
        raw_name = base64.b64decode(p["name_base64"]) if "name_base64" in p else p["name"].encode()
        if "name_base64" in p:
            assert raw_name.decode("utf-8", "replace") == p["name"], "name is not the lossy decoding of name_base64"
            try:
                raw_name.decode("utf-8")
                raise AssertionError("name_base64 given for a valid UTF-8 name")
            except UnicodeDecodeError:
                pass
        meta = base64.b64decode(p["metadata_base64"], validate=True)
        strings = meta[:-1].split(b"\0") if meta.endswith(b"\0") else (meta.split(b"\0") if meta else [])
        want = [s.decode("utf-8", "replace") for s in strings]
        assert p["metadata"] == want, f"metadata {p['metadata']!r} is not the strings of metadata_base64 {want!r}"
        assert p["state_code"] == (p["state"] if isinstance(p["state"], int) else {"CHECKED": 1, "APPLIED": 2}[p["state"]])
        out.append((raw_name, p["state_code"], p["rc"], meta))
    return out


def check(validator, jpath, dpath):
    doc = jsoncheck.load_valid(validator, jpath)
    assert doc["count"] == len(doc["payloads"]), "count != len(payloads)"
    n, want = dump_payloads(dpath)
    assert doc["count"] == n, f"count {doc['count']} != dump's {n}"
    have = json_payloads(doc)
    for i, (h, w) in enumerate(zip(have, want)):
        assert h == w, f"payload {i}: json {h!r} != dump {w!r}"


def main():
    v = jsoncheck.validator(sys.argv[1])
    args = sys.argv[2:]
    pairs = zip(args[0::2], args[1::2])
    return jsoncheck.report(((j, (j, d)) for j, d in pairs), lambda p: check(v, *p))


sys.exit(main())
