"""caravel analyze --no-themes: sentiment only, one pass. Every record's id,
sentiment and label are those of the full run, theme lists are empty, the
document has "themes": [] with the same overall sentiment and input summary,
and every output is schema-valid (docs/insights.schema.json)."""
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


tmp = tempfile.mkdtemp(prefix="cv-analyze-nt-")
NOW = ["--now", "2024-05-01T12:00:00Z"]


def path(name, data):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def records(p):
    with open(p, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


lines = [
    "The delivery was late and the courier was rude",
    "Shipping was fast, delivery on time!!",
    "The staff were friendly and the waiter was GREAT",
    "Rude staff, slow service :(",
    "The price is too high but the food is good",
    "Good value for the price \U0001F600",
    "not bad at all",
    "",
    "The app crashes every time I open it",
    "I don't really like the new menu",
]
rows = [(str(i + 1), lines[i % len(lines)], "2024-03-%02dT09:00:00Z" % (1 + i % 28))
        for i in range(120)]
csv = "\ufeffid,text,created_at\r\n" + "".join('%s,"%s",%s\r\n' % r for r in rows)
inputs = {
    "csv": path("fb.csv", csv.encode()),
    "jsonl": path("fb.jsonl", "".join(json.dumps({"id": r[0], "text": r[1], "created_at": r[2]}) + "\n"
                                      for r in rows).encode()),
    "text": path("fb.txt", ("\n".join(r[1] for r in rows) + "\n").encode()),
}

for kind, p in inputs.items():
    full_rec, nt_rec = os.path.join(tmp, kind + ".full.ndjson"), os.path.join(tmp, kind + ".nt.ndjson")
    full = run(NOW + ["--records", full_rec, p])
    nt = run(NOW + ["--no-themes", "--records", nt_rec, p])
    check(full.returncode == 0 and nt.returncode == 0,
          "%s: exit %d / %d %s" % (kind, full.returncode, nt.returncode, nt.stderr))
    if nt.returncode != 0:
        continue
    a = validate_output(full.stdout, full_rec)
    b = validate_output(nt.stdout, nt_rec)
    check(len(a["themes"]) >= 1, "%s: the full run finds themes" % kind)
    check(b["themes"] == [], "%s: --no-themes has themes []" % kind)
    check(b["sentiment"] == a["sentiment"], "%s: same overall sentiment" % kind)
    check(b["input"] == a["input"], "%s: same input summary" % kind)
    check(b["unthemed"] == {"records": a["input"]["records"], "share": 1.0},
          "%s: every record unthemed" % kind)
    check(b["run_id"] != a["run_id"], "%s: the run id depends on --no-themes" % kind)
    ra, rb = records(full_rec), records(nt_rec)
    check(len(ra) == len(rb) == a["input"]["records"], "%s: one line per record" % kind)
    check(any(r["themes"] for r in ra), "%s: the full run assigns themes" % kind)
    check(all(r["themes"] == [] for r in rb), "%s: --no-themes lines have no theme ids" % kind)
    same = all(x["id"] == y["id"] and x["sentiment"] == y["sentiment"] and x["label"] == y["label"]
               for x, y in zip(ra, rb))
    check(same, "%s: per-record id, sentiment and label as in the full run" % kind)
    check(len({r["label"] for r in rb}) >= 3, "%s: varied labels (the scores are real)" % kind)

# Deterministic, and standard input gives the same records.
r1 = run(NOW + ["--no-themes", inputs["jsonl"]])
r2 = run(NOW + ["--no-themes", inputs["jsonl"]])
check(r1.stdout == r2.stdout, "--no-themes: same input, same bytes")
st_rec = os.path.join(tmp, "stdin.ndjson")
with open(inputs["jsonl"], "rb") as f:
    r3 = run(NOW + ["--no-themes", "--records", st_rec, "-"], stdin=f.read())
check(r3.returncode == 0, "--no-themes from stdin: exit %d" % r3.returncode)
check(records(st_rec) == records(os.path.join(tmp, "jsonl.nt.ndjson")), "stdin: same records")

# Bad input: the same FILE:LINE error as the full run; --skip-invalid skips it.
bad = path("bad.txt", b"fine\nbroken \xff utf-8\nalso fine\n")
e = run(NOW + ["--no-themes", bad])
check(e.returncode == 1 and b"bad.txt:2" in e.stderr, "--no-themes: invalid UTF-8 named with its line")
s_rec = os.path.join(tmp, "skip.ndjson")
s = run(NOW + ["--no-themes", "--skip-invalid", "--records", s_rec, bad])
check(s.returncode == 0 and b"skipped" in s.stderr, "--no-themes --skip-invalid reports and skips")
if s.returncode == 0:
    d = validate_output(s.stdout, s_rec)
    check(d["input"]["records"] == 2 and d["input"]["skipped"] == 1, "skip counts")
    check([r["id"] for r in records(s_rec)] == ["1", "3"], "skipped line's id left out")

# Empty input: valid, empty insights.
empty = path("empty.txt", b"")
r = run(NOW + ["--no-themes", empty])
check(r.returncode == 0, "--no-themes on empty input")
if r.returncode == 0:
    d = validate_output(r.stdout)
    check(d["input"]["records"] == 0 and d["themes"] == [] and d["unthemed"]["records"] == 0,
          "empty input: no records, no themes")

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("ok")
