"""Themes on human-labelled review sentences (tests/vectors/insights/):
reviews-labelled.tsv must reach coverage >= 0.8 at purity >= 0.8 with every
labelled topic the majority of some theme; reviews-heldout.tsv (written
before the theme pipeline was tuned; only the second pass's threshold was
chosen with it in view) must reach the same: every topic, coverage >= 0.8
at purity >= 0.8. Scoring: bench/insights/labelled.py."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from analyze_common import BIN, SRC, skip  # noqa: E402

if not BIN or not os.path.exists(BIN):
    skip("CV_BIN is not set")
sys.path.insert(0, os.path.join(SRC, "bench", "insights"))
import labelled  # noqa: E402

vectors = os.path.join(SRC, "tests", "vectors", "insights")
ok = True
for name, min_cov in (("reviews-labelled.tsv", 0.8), ("reviews-heldout.tsv", 0.8)):
    m, base = labelled.evaluate(BIN, os.path.join(vectors, name))
    keys = ("records", "themes", "coverage", "purity", "purity_primary", "found", "topics", "missed")
    print("%s: %s" % (name, json.dumps({k: m[k] for k in keys}, sort_keys=True)))
    print("  baseline (25 keywords): coverage %.3f purity %.3f found %d" %
          (base["coverage"], base["purity"], base["found"]))
    for t, v in sorted(m["by_theme"].items()):
        print("  %s %-24s %-14s %3d %.2f" % (t, v.get("name", ""), v["label"], v["records"], v["purity"]))
    if m["coverage"] < min_cov or m["purity"] < 0.8 or m["missed"]:
        print("FAIL: %s: coverage %.3f (>= %.2f), purity %.3f (>= 0.8), missed %s" %
              (name, m["coverage"], min_cov, m["purity"], m["missed"]))
        ok = False
sys.exit(0 if ok else 1)
