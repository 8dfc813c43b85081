#!/usr/bin/python3
"""A feedback corpus with planted themes, and the scoring of found themes.

generate(seed, n) writes n records (JSON Lines: id, text, created_at) in
which every record mentions zero, one or two of twelve planted themes. Each
theme is named by several synonyms and inflections ("delivery", "shipping",
"couriers"), comes with its own descriptive words, and sits in varied
sentence templates among filler clauses and unrelated noise words. About a
sixth of the records mention no theme at all.

evaluate(records_path, truth) reads `caravel analyze --records` output and
returns recall (planted themes matched by some found theme), precision (found
themes that match a planted theme: at least half of their records mention
it), coverage and purity.

usage: planted.py generate OUT.jsonl [N] [SEED]
       planted.py evaluate OUT.jsonl RECORDS.ndjson
"""
import json
import random
import sys

THEMES = {
    "delivery": (["delivery", "deliveries", "shipping", "courier", "couriers", "shipment"],
                 ["late", "delayed", "arrived", "tracking", "days", "on time", "fast", "dispatched"]),
    "staff": (["staff", "waiter", "waitress", "server", "employees", "team members"],
              ["friendly", "rude", "attentive", "helpful", "smiled", "ignored us", "polite"]),
    "price": (["price", "prices", "cost", "pricing", "costs"],
              ["expensive", "cheap", "overpriced", "affordable", "worth it", "a discount", "budget"]),
    "battery": (["battery", "batteries", "battery life", "charge"],
                ["drains", "lasts", "dies", "hours", "overnight", "percent", "recharge"]),
    "app": (["app", "application", "mobile app"],
            ["crashes", "freezes", "update", "loading", "buggy", "keeps closing", "version"]),
    "screen": (["screen", "screens", "display", "displays"],
               ["bright", "resolution", "scratched", "colours", "cracked", "sharp", "pixels"]),
    "sound": (["sound", "audio", "speaker", "speakers"],
              ["loud", "crisp", "muffled", "bass", "tinny", "volume", "distorted"]),
    "login": (["login", "password", "passwords", "account", "sign in"],
              ["reset", "locked out", "forgot", "verification code", "failed", "two factor"]),
    "coffee": (["coffee", "espresso", "latte", "lattes", "cappuccino"],
               ["bitter", "barista", "cup", "roast", "beans", "foam", "brewed"]),
    "parking": (["parking", "car park", "parking lot", "parking spaces"],
                ["spots", "garage", "full", "ticket", "meter", "drove around"]),
    "room": (["room", "rooms", "bathroom", "bed", "beds"],
             ["towels", "sheets", "spacious", "smelled", "comfortable", "housekeeping", "pillows"]),
    "packaging": (["packaging", "box", "boxes", "wrapping"],
                  ["damaged", "torn", "plastic", "recyclable", "padding", "crushed", "taped"]),
}

TEMPLATES = [
    "The {a} was {d}.",
    "{A} {d}, {f}.",
    "I think the {a} is {d} and {d2}.",
    "Honestly, {a}: {d}!",
    "{F}, the {a} {d}.",
    "Why is the {a} always {d}?",
    "{A} was {d} but {d2}.",
    "Our {a} {d} again",
    "{d} {a}, {d2} {a2}.",
    "Not happy with the {a}, {d}.",
    "Loved how {d} the {a} was",
]
FILLERS = ["to be honest", "overall", "last week", "as usual", "my friend said so",
           "nothing special otherwise", "again and again", "this time", "I have to say",
           "for the second time", "just saying", "believe it or not"]
# Unrelated chatter: many different words, none frequent enough to be a theme.
NOISE = ("umbrella garden bicycle tuesday brother window river pencil jacket holiday uncle "
         "weather mountain cousin yellow breakfast trousers neighbour violin puppy airport "
         "library tomato saturday sister ocean kitchen birthday wedding newspaper guitar "
         "sandwich morning evening summer winter autumn spring village castle forest desert "
         "island bridge harbour tower museum theatre stadium school office market bakery "
         "grandmother nephew niece painting football basketball tennis chess novel poem "
         "sunset sunrise rainbow thunder snowfall blanket candle lantern mirror carpet sofa "
         "ladder hammer bucket shovel tractor barn meadow orchard vineyard lighthouse canal "
         "monday wednesday thursday friday sunday january february april june october "
         "dentist plumber teacher pilot farmer sailor tailor painter doctor lawyer nurse "
         "elephant giraffe penguin dolphin rabbit squirrel parrot turtle hamster goldfish "
         "carrot cucumber pumpkin lemon cherry walnut biscuit pancake noodle porridge").split()
NOISE_TEMPLATES = [
    "We went there after the {n} with my {n2}.",
    "It was a {n} sort of day, {f}.",
    "Nothing to add about the {n}.",
    "{F}, {n} and {n2}.",
    "Before the {n} we had a {n2}.",
    "{F}.",
    "Maybe next {n}.",
    "Whatever, {n}.",
    "A {n} and a {n2}, {f}.",
    "So the {n} happened.",
]
_SYL = "ba be bi bo ka ke ki ko la le li lo ma me mi mo na ne ni no ra re ri ro ta te ti to va ve vi zo".split()


def _pseudo(rng):
    """A made-up word (a name, a typo): the open vocabulary of real chatter."""
    return "".join(rng.choice(_SYL) for _ in range(rng.choice((2, 3, 3, 4))))


def _noise_word(rng):
    return rng.choice(NOISE) if rng.random() < 0.5 else _pseudo(rng)


def _fill(rng, tpl, theme):
    names, descs = THEMES[theme]
    a, a2 = rng.choice(names), rng.choice(names)
    d, d2 = rng.sample(descs, 2)
    f = rng.choice(FILLERS)
    n, n2 = _noise_word(rng), _noise_word(rng)
    s = tpl.format(a=a, A=a[0].upper() + a[1:], a2=a2, d=d, d2=d2, f=f,
                   F=f[0].upper() + f[1:], n=n, n2=n2)
    if rng.random() < 0.3:
        t = rng.choice(NOISE_TEMPLATES)
        f2 = rng.choice(FILLERS)
        s += " " + t.format(n=n, n2=n2, f=f2, F=f2[0].upper() + f2[1:])
    return s


def generate(seed=7, n=3000):
    rng = random.Random(seed)
    names = sorted(THEMES)
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.16:
            tpl = rng.choice(NOISE_TEMPLATES)
            f = rng.choice(FILLERS)
            a, b = _noise_word(rng), _noise_word(rng)
            text = tpl.format(n=a, n2=b, f=f, F=f[0].upper() + f[1:])
            labels = []
        elif r < 0.84:
            t = rng.choice(names)
            text = _fill(rng, rng.choice(TEMPLATES), t)
            labels = [t]
        else:
            t1, t2 = rng.sample(names, 2)
            text = _fill(rng, rng.choice(TEMPLATES), t1) + " " + _fill(rng, rng.choice(TEMPLATES), t2)
            labels = [t1, t2]
        day = 1 + (i * 28) // n
        out.append({"id": "r%05d" % (i + 1), "text": text,
                    "created_at": "2024-03-%02dT%02d:00:00Z" % (day, i % 24), "labels": labels})
    return out


def write(records, path):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: r[k] for k in ("id", "text", "created_at")}) + "\n")


def evaluate(truth, records_path):
    labels = {r["id"]: set(r["labels"]) for r in truth}
    members = {}
    themed = 0
    with open(records_path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            ts = o.get("themes", [])
            if ts:
                themed += 1
            for t in ts:
                members.setdefault(t, []).append(o["id"])
    matched = {}
    purity_num = purity_den = 0
    for t, ids in sorted(members.items()):
        counts = {}
        for i in ids:
            for lab in labels.get(i, ()):
                counts[lab] = counts.get(lab, 0) + 1
        best = max(sorted(counts), key=lambda k: counts[k]) if counts else None
        share = counts[best] / len(ids) if best else 0.0
        purity_num += counts.get(best, 0)
        purity_den += len(ids)
        if best and share >= 0.5:
            matched[t] = best
    found = set(matched.values())
    planted = set(THEMES)
    return {
        "themes": len(members),
        "recall": len(found & planted) / len(planted),
        "precision": (len(matched) / len(members)) if members else 0.0,
        "coverage": themed / len(truth) if truth else 0.0,
        "coverage_themed": sum(1 for r in truth if r["labels"]) and
        sum(1 for r in truth if r["labels"] and r["id"] in _themed_ids(records_path)) /
        sum(1 for r in truth if r["labels"]),
        "purity": purity_num / purity_den if purity_den else 0.0,
        "missed": sorted(planted - found),
    }


def _themed_ids(path, _cache={}):
    if path not in _cache:
        s = set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                o = json.loads(line)
                if o.get("themes"):
                    s.add(o["id"])
        _cache[path] = s
    return _cache[path]


def main(argv):
    if len(argv) >= 3 and argv[1] == "generate":
        n = int(argv[3]) if len(argv) > 3 else 3000
        seed = int(argv[4]) if len(argv) > 4 else 7
        write(generate(seed, n), argv[2])
        return 0
    if len(argv) == 4 and argv[1] == "evaluate":
        # Regenerate the truth from the same defaults as generate.
        truth = generate(7, sum(1 for _ in open(argv[2], encoding="utf-8")))
        print(json.dumps(evaluate(truth, argv[3]), sort_keys=True))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
