"""Sentiment accuracy on the shared VADER sets: Pearson r and 3-class F1 of
our --records output, scored by ../shared/tools/sentiment-metrics, must be
at least the reference scores' (VADER Python) figures minus 0.005."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from analyze_common import BIN, SHARED, run, skip  # noqa: E402

if not BIN or not os.path.exists(BIN):
    skip("CV_BIN is not set")
data = os.path.join(SHARED, "testdata", "sentiment")
tool = os.path.join(SHARED, "tools", "sentiment-metrics")
if not SHARED or not os.path.isdir(data) or not os.path.exists(tool):
    skip("../shared is absent (a fresh clone): the VADER sets are not run")


def metrics(gold, pred):
    out = subprocess.run(["/usr/bin/python3", tool, gold, pred], capture_output=True, text=True)
    m = re.search(r"r=([-0-9.]+) f1_3class=([0-9.]+)", out.stdout)
    if not m:
        print(out.stdout, out.stderr)
        sys.exit(1)
    return float(m.group(1)), float(m.group(2))


tmp = tempfile.mkdtemp(prefix="cv-accuracy-")
ok = True
for name in ("tweets", "movieReviewSnippets"):
    gold = os.path.join(data, name + "_GroundTruth.txt")
    inp = os.path.join(tmp, name + ".jsonl")
    with open(gold, encoding="utf-8") as f, open(inp, "w", encoding="utf-8") as o:
        for line in f:
            p = line.rstrip("\r\n").split("\t")
            if len(p) >= 3:
                o.write(json.dumps({"id": p[0], "text": p[2]}) + "\n")
    rec = os.path.join(tmp, name + ".ndjson")
    r = run(["--records", rec, inp])
    if r.returncode != 0:
        print(r.stderr.decode())
        sys.exit(1)
    ref = os.path.join(tmp, name + ".ref.tsv")
    with open(os.path.join(data, name + ".reference-scores.tsv")) as f, open(ref, "w") as o:
        for line in f:
            p = line.rstrip("\n").split("\t")
            o.write(p[0] + "\t" + p[-1] + "\n")
    r_ours, f1_ours = metrics(gold, rec)
    r_ref, f1_ref = metrics(gold, ref)
    print("%s: r %.3f (reference %.3f), F1 %.3f (reference %.3f)" % (name, r_ours, r_ref, f1_ours, f1_ref))
    if r_ours < r_ref - 0.005 or f1_ours < f1_ref - 0.005:
        print("FAIL: below the reference minus 0.005")
        ok = False
sys.exit(0 if ok else 1)
