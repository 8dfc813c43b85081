#!/usr/bin/python3
"""Topic coherence (NPMI) and diversity of the themes in an insights file.

usage: topic_metrics.py INSIGHTS.json TEXTS.txt

NPMI: for every pair of a theme's top-10 keywords, log(P(a,b) / (P(a) P(b)))
/ -log P(a,b) over records (lines of TEXTS.txt) containing the keyword as a
word (case-insensitive); pairs that never co-occur count -1. Averaged over
pairs, then themes. Diversity: distinct keywords / all keywords in the
top-10 lists (1.0 = no overlap between themes).
"""
import json
import math
import re
import sys


def main(argv):
    doc = json.load(open(argv[1], encoding="utf-8"))
    themes = [t["keywords"][:10] for t in doc["themes"]]
    words = set(w for ks in themes for w in ks)
    docs = {w: set() for w in words}
    n = 0
    tok = re.compile(r"[^\W\d_]+", re.UNICODE)
    with open(argv[2], encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            n += 1
            for w in set(tok.findall(line.lower())):
                if w in docs:
                    docs[w].add(i)
    scores = []
    for ks in themes:
        pairs = []
        for a in range(len(ks)):
            for b in range(a + 1, len(ks)):
                da, db = docs[ks[a]], docs[ks[b]]
                co = len(da & db)
                if co == 0 or not da or not db:
                    pairs.append(-1.0)
                    continue
                pab = co / n
                if pab >= 1.0:
                    pairs.append(1.0)
                    continue
                pmi = math.log(pab / ((len(da) / n) * (len(db) / n)))
                pairs.append(pmi / -math.log(pab))
        if pairs:
            scores.append(sum(pairs) / len(pairs))
    total = sum(len(ks) for ks in themes)
    print(json.dumps({
        "themes": len(themes),
        "npmi": round(sum(scores) / len(scores), 3) if scores else None,
        "diversity": round(len(words) / total, 3) if total else None,
    }))


if __name__ == "__main__":
    main(sys.argv)
