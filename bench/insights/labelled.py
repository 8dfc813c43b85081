#!/usr/bin/python3
"""Themes on human-labelled review sentences: coverage, purity, topics found.

The set (tests/vectors/insights/reviews-labelled.tsv, written for this
project) holds short English review sentences from restaurants, hotels,
e-commerce/delivery and apps, each labelled with the one topic it is about
(food, service, price, delivery, ambience, cleanliness, location, room,
app_stability, support, payment) or "other" (off-topic).

Metrics, from `caravel analyze --records` output:
  coverage  share of all records (off-topic ones included) given a theme
  purity    over every (theme, record) membership: the share whose label is
            the theme's majority label
  found     topics that are the majority label of at least one theme
The naive baseline (the 25 most frequent keywords as themes, a record
joining the most frequent keyword it contains) is scored the same way.

usage: labelled.py CARAVEL_BIN [TSV]    (prints JSON; exit 0)
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TSV = os.path.join(HERE, "..", "..", "tests", "vectors", "insights", "reviews-labelled.tsv")
OFF_TOPIC = "other"

# For the baseline only: common English function words.
_STOP = set("""a about after again all also am an and any are as at be because been before
being but by can could did do does doesn't don't during each even ever every for from get
got had has have he her here him his how i i've if in into is it it's its just me more most
my no nor not now of off on once only or other our out over own same she should so some
still such than that the their them then there these they this those through to too under
until up us very was we we'll were what when where which while who why will with would you
your didn't couldn't can't won't isn't wasn't""".split())


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            rec = dict(zip(header, line.rstrip("\n").split("\t")))
            rows.append(rec)
    return rows


def score(rows, memberships):
    """memberships: id -> list of theme ids (primary first)."""
    label = {r["id"]: r["topic"] for r in rows}
    members = collections.defaultdict(list)
    for rid, ts in memberships.items():
        for t in ts:
            members[t].append(rid)
    num = den = 0
    majority = {}
    for t, ids in sorted(members.items()):
        c = collections.Counter(label[i] for i in ids)
        best = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        majority[t] = {"label": best[0], "records": len(ids), "purity": best[1] / len(ids)}
        num += best[1]
        den += len(ids)
    topics = sorted(set(label.values()) - {OFF_TOPIC})
    found = sorted({m["label"] for m in majority.values()} - {OFF_TOPIC})
    themed = sum(1 for r in rows if memberships.get(r["id"]))
    on_topic = [r for r in rows if r["topic"] != OFF_TOPIC]
    pn = pd = 0
    prim = collections.defaultdict(list)
    for rid, ts in memberships.items():
        if ts:
            prim[ts[0]].append(rid)
    for t, ids in prim.items():
        c = collections.Counter(label[i] for i in ids)
        pn += max(c.values())
        pd += len(ids)
    return {
        "purity_primary": pn / pd if pd else 0.0,
        "records": len(rows),
        "themes": len(members),
        "coverage": themed / len(rows) if rows else 0.0,
        "coverage_on_topic": (sum(1 for r in on_topic if memberships.get(r["id"])) / len(on_topic)
                              if on_topic else 0.0),
        "purity": num / den if den else 0.0,
        "topics": len(topics),
        "found": len(found),
        "missed": sorted(set(topics) - set(found)),
        "by_theme": majority,
    }


def baseline(rows, k=25):
    toks = {r["id"]: [w for w in re.findall(r"[a-z][a-z']+", r["text"].lower()) if w not in _STOP]
            for r in rows}
    df = collections.Counter()
    for ws in toks.values():
        df.update(set(ws))
    top = [w for w, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
    rank = {w: i for i, w in enumerate(top)}
    mem = {}
    for rid, ws in toks.items():
        hits = sorted({rank[w] for w in ws if w in rank})
        mem[rid] = [top[hits[0]]] if hits else []
    return score(rows, mem)


def run_caravel(bin_, rows):
    tmp = tempfile.mkdtemp(prefix="cv-labelled-")
    inp = os.path.join(tmp, "reviews.jsonl")
    rec = os.path.join(tmp, "reviews.ndjson")
    out = os.path.join(tmp, "insights.json")
    with open(inp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
    subprocess.run([bin_, "analyze", "--now", "2024-01-01T00:00:00Z", "--records", rec,
                    "--out", out, inp], check=True)
    mem = {}
    with open(rec, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            mem[o["id"]] = o["themes"]
    with open(out, encoding="utf-8") as f:
        doc = json.load(f)
    for name in (inp, rec, out):
        os.unlink(name)
    os.rmdir(tmp)
    return mem, doc


def evaluate(bin_, path=DEFAULT_TSV):
    rows = load(path)
    mem, doc = run_caravel(bin_, rows)
    m = score(rows, mem)
    for t in doc["themes"]:
        if t["id"] in m["by_theme"]:
            m["by_theme"][t["id"]]["name"] = t["label"]
            m["by_theme"][t["id"]]["keywords"] = t["keywords"][:8]
            m["by_theme"][t["id"]]["cohesion"] = t["cohesion"]
    return m, baseline(rows)


if __name__ == "__main__":
    ours, base = evaluate(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else DEFAULT_TSV)
    print(json.dumps({"caravel": ours, "baseline": base}, indent=1, sort_keys=True))
