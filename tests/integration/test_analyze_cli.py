"""caravel analyze: formats, errors with FILE:LINE, exit codes, stdin, gzip
records, determinism; every output validated against docs/insights.schema.json."""
import gzip
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from analyze_common import BIN, run, skip, validate_output  # noqa: E402

if not BIN or not os.path.exists(BIN):
    skip("CV_BIN is not set")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


tmp = tempfile.mkdtemp(prefix="cv-analyze-")
NOW = ["--now", "2024-05-01T12:00:00Z"]


def path(name, data):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


lines = [
    "The delivery was late and the courier was rude",
    "Shipping was fast, delivery on time",
    "The staff were friendly and the waiter was great",
    "Rude staff, slow service",
    "The price is too high",
    "Good value for the price",
]
rows = []
for i in range(60):
    rows.append((str(i + 1), lines[i % len(lines)], "2024-03-%02dT09:00:00Z" % (1 + i % 28)))
csv = "\ufeffid,text,created_at\r\n" + "".join('%s,"%s",%s\r\n' % r for r in rows)
csv_path = path("fb.csv", csv.encode())
jsonl_path = path("fb.jsonl", "".join(json.dumps({"id": r[0], "text": r[1], "created_at": r[2]}) + "\n" for r in rows).encode())
txt_path = path("fb.txt", ("\n".join(r[1] for r in rows) + "\n").encode())

# Every format, schema-valid, with records.
for p in (csv_path, jsonl_path, txt_path):
    rec = os.path.join(tmp, "rec.ndjson")
    r = run(NOW + ["--records", rec, p])
    check(r.returncode == 0, "%s: exit %d %s" % (p, r.returncode, r.stderr))
    doc = validate_output(r.stdout, rec)
    check(doc["input"]["records"] == 60, "%s: 60 records" % p)
    with open(rec) as f:
        check(sum(1 for _ in f) == 60, "%s: 60 record lines" % p)
    check(len(doc["themes"]) >= 1, "%s: some theme" % p)

# CSV and JSON Lines give the same analysis (same texts, ids, times).
a = json.loads(run(NOW + ["--run-id", "x", csv_path]).stdout)
b = json.loads(run(NOW + ["--run-id", "x", jsonl_path]).stdout)
check(a["themes"] == b["themes"] and a["sentiment"] == b["sentiment"], "csv and jsonl agree")
check(a["themes"][0]["trend"] is not None, "trend with times")

# Determinism: byte-identical document and records.
r1 = run(NOW + ["--records", os.path.join(tmp, "a.ndjson"), csv_path])
r2 = run(NOW + ["--records", os.path.join(tmp, "b.ndjson"), csv_path])
check(r1.stdout == r2.stdout, "same input, same bytes")
check(open(os.path.join(tmp, "a.ndjson"), "rb").read() == open(os.path.join(tmp, "b.ndjson"), "rb").read(),
      "same records")
check(json.loads(r1.stdout)["run_id"].startswith("run-"), "derived run id")
r3 = run(NOW + ["--max-themes", "3", csv_path])
check(json.loads(r3.stdout)["run_id"] != json.loads(r1.stdout)["run_id"], "run id depends on options")
check(len(json.loads(r3.stdout)["themes"]) <= 3, "--max-themes")

# Standard input (sniffed as JSON Lines) and gzip records.
gz = os.path.join(tmp, "rec.ndjson.gz")
r = run(NOW + ["--records", gz, "-"], stdin=open(jsonl_path, "rb").read())
check(r.returncode == 0, "stdin: exit 0")
doc = validate_output(r.stdout, gz)
check(doc["input"]["files"][0]["format"] == "jsonl", "stdin sniffed as jsonl")
check(doc["themes"] and doc["themes"] == json.loads(run(NOW + [jsonl_path]).stdout)["themes"],
      "stdin gives the same themes as the file")
with gzip.open(gz, "rt") as f:
    check(sum(1 for _ in f) == 60, "gzip records")

# --out writes the file.
out = os.path.join(tmp, "insights.json")
r = run(NOW + ["--out", out, txt_path])
check(r.returncode == 0 and r.stdout == b"" and os.path.exists(out), "--out")
validate_output(open(out, "rb").read())

# Empty input: valid, empty insights.
r = run(NOW + [path("empty.csv", b"")])
check(r.returncode == 0, "empty: exit 0")
doc = validate_output(r.stdout)
check(doc["input"]["records"] == 0 and doc["themes"] == [], "empty insights")

# Bad input: FILE:LINE: what, exit 1; --skip-invalid reports and goes on.
bad = path("bad.csv", b"id,text\n1,fine\n2,\"broken\"x\n3,caf\xc3\n4,ok\n")
r = run(NOW + [bad])
check(r.returncode == 1, "bad csv: exit 1")
check(("%s:3: unexpected character after a closing quote" % bad).encode() in r.stderr, "bad csv message: %r" % r.stderr)
r = run(NOW + ["--skip-invalid", bad])
check(r.returncode == 0, "skip-invalid: exit 0")
check(("%s:4: invalid UTF-8 (skipped)" % bad).encode() in r.stderr, "skip message: %r" % r.stderr)
doc = validate_output(r.stdout)
check(doc["input"]["records"] == 2 and doc["input"]["skipped"] == 2, "skipped counted")
r = run(NOW + ["--text-column", "comment", csv_path])
check(r.returncode == 1 and b'no column "comment"' in r.stderr, "missing column")
r = run(NOW + ["--skip-invalid", "--text-column", "comment", csv_path])
check(r.returncode == 1, "missing column is fatal even with --skip-invalid")
long_line = path("long.txt", b"x" * 100 + b"\nfine\n")
r = run(NOW + ["--max-record-bytes", "50", long_line])
check(r.returncode == 1 and ("%s:1: line longer than the limit" % long_line).encode() in r.stderr, "long line")
r = run(NOW + [path("bad.jsonl", b'{"text": "a"}\n{"text": \n')])
check(r.returncode == 1 and b"bad.jsonl:2: invalid JSON" in r.stderr, "bad jsonl: %r" % r.stderr)
r = run(NOW + [os.path.join(tmp, "missing.csv")])
check(r.returncode == 1 and b"missing.csv: cannot open" in r.stderr, "missing file")

# Usage errors: exit 2.
for args in ([], ["--format", "xml", csv_path], ["--trend", "hourly", csv_path],
             ["--max-themes", "0", csv_path], ["--now", "yesterday", csv_path], ["--bogus", csv_path]):
    r = run(args)
    check(r.returncode == 2, "usage %r: exit %d" % (args, r.returncode))
check(run(["--help"]).returncode == 0, "--help")

# Stop tokens: @mentions, links and numbers never make a theme or a keyword.
lines = []
for i in range(300):
    lines.append("@anonymous %s the %s was %s http://url_removed %d five" % (
        ["wow", "so", "hey"][i % 3], ["coffee", "delivery", "screen"][i % 3],
        ["great", "late", "cracked"][i % 3], i))
r = run(NOW + [path("mentions.txt", ("\n".join(lines) + "\n").encode())])
doc = json.loads(r.stdout)
words = {w for t in doc["themes"] for w in t["keywords"]} | {t["label"] for t in doc["themes"]}
check(doc["themes"] and not words & {"anonymous", "url", "removed", "http", "five"},
      "no theme from mentions, links or numbers: %s" % sorted(words))

if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("analyze cli: all checks passed")
