"""Planted themes: a generated corpus with twelve themes (synonyms,
inflections, filler and noise) must be recovered with recall >= 0.9 and
precision >= 0.8 (bench/insights/planted.py defines the corpus and scoring)."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from analyze_common import BIN, SRC, run, skip, validate_output  # noqa: E402

if not BIN or not os.path.exists(BIN):
    skip("CV_BIN is not set")
sys.path.insert(0, os.path.join(SRC, "bench", "insights"))
import planted  # noqa: E402

tmp = tempfile.mkdtemp(prefix="cv-planted-")
ok = True
for seed in (7, 11):
    corpus = planted.generate(seed, 3000)
    inp = os.path.join(tmp, "planted-%d.jsonl" % seed)
    rec = os.path.join(tmp, "planted-%d.ndjson" % seed)
    planted.write(corpus, inp)
    r = run(["--now", "2024-04-01T00:00:00Z", "--records", rec, inp])
    if r.returncode != 0:
        print("analyze failed:", r.stderr.decode())
        sys.exit(1)
    doc = validate_output(r.stdout, rec)
    m = planted.evaluate(corpus, rec)
    print("seed %d: %s" % (seed, json.dumps(m, sort_keys=True)))
    for t in doc["themes"]:
        print("  %s %-24s %5d %s" % (t["id"], t["label"], t["mentions"], ", ".join(t["keywords"][:6])))
    if m["recall"] < 0.9 or m["precision"] < 0.8:
        print("FAIL: recall %.2f (>= 0.9), precision %.2f (>= 0.8)" % (m["recall"], m["precision"]))
        ok = False
    # Every record that mentions a planted theme is covered.
    if m["coverage_themed"] < 0.9:
        print("FAIL: coverage of themed records %.2f" % m["coverage_themed"])
        ok = False
sys.exit(0 if ok else 1)
