#!/usr/bin/python3
"""Checks that a node_exporter scrape serves back exactly the xen_* samples
(xen_livepatch_* and xen_hypervisor_info) of a `--format prometheus` file, and
that the textfile collector reported no error.

Usage: prom_samples.py WRITTEN_FILE SCRAPE_URL
Parses the text exposition format (label values with \\\\, \\" and \\n escapes)
on both sides; label order does not matter (node_exporter sorts them)."""
import sys
import urllib.request


def parse_labels(s, i):
    labels = {}
    while s[i] != "}":
        j = s.index("=", i)
        key = s[i:j].strip().lstrip(",").strip()
        assert s[j + 1] == '"', f"label {key}: no opening quote"
        k = j + 2
        val = []
        while s[k] != '"':
            if s[k] == "\\":
                val.append({"\\": "\\", '"': '"', "n": "\n"}[s[k + 1]])
                k += 2
            else:
                val.append(s[k])
                k += 1
        if val:  # an empty value is no label (node_exporter fills them in)
            labels[key] = "".join(val)
        i = k + 1
        if s[i] == ",":
            i += 1
    return labels, i + 1


def samples(text, prefix):
    out = set()
    for line in text.split("\n"):
        if not line.startswith(prefix):
            continue
        if "{" in line and line.index("{") < line.find(" "):
            name = line[: line.index("{")]
            labels, i = parse_labels(line, line.index("{") + 1)
        else:
            name, i, labels = line.split(" ", 1)[0], len(line.split(" ", 1)[0]), {}
        value = float(line[i:].strip().split(" ")[0])
        out.add((name, tuple(sorted(labels.items())), value))
    return out


def main():
    written = open(sys.argv[1], encoding="utf-8").read()
    scraped = urllib.request.urlopen(sys.argv[2], timeout=10).read().decode("utf-8")
    errors = samples(scraped, "node_textfile_scrape_error")
    if errors != {("node_textfile_scrape_error", (), 0.0)}:
        print(f"textfile collector error: {sorted(errors)}")
        for line in scraped.split("\n"):
            if "textfile" in line and not line.startswith("#"):
                print("   ", line[:200])
        return 1
    want, have = samples(written, "xen_"), samples(scraped, "xen_")
    if want != have:
        print(f"scrape differs: {len(want - have)} written samples missing, {len(have - want)} unexpected")
        for s in sorted(want - have)[:3]:
            print("    missing:", s)
        return 1
    print(f"{len(have)} samples served back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
