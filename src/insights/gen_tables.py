#!/usr/bin/python3
"""Build-time generator: compiles third-party sentiment data into C tables.

Nothing it reads is committed to the repository. The data comes from npm
packages pinned in package.json (installed by scripts/install-deps) and is
checked against the SHA-256 sums given on the command line before use:

  --lexicon FILE SHA256   vader-sentiment's vader_lexicon.txt
                          (word<TAB>mean valence<TAB>sd<TAB>ratings)
  --emoji FILE SHA256     unicode-emoji-json's data-by-emoji.json
                          (emoji -> {"name": CLDR short name, ...})
  --components FILE SHA256  unicode-emoji-json's data-emoji-components.json
  --wordnet DATA SHA256 INDEX SHA256
                          WordNet 3.0's data.noun and index.noun (Debian's
                          wordnet-base): the food nouns for the themes' food
                          aspect, see food_nouns()
  --out FILE              the generated C source

The emoji table maps single code points to their Unicode short name, which is
how VADER's Python release treats emoji (its emoji_utf8_lexicon.txt is built
from the same Unicode emoji-test data): an emoji is replaced by its
description text and the words of the description are scored with the
lexicon. Sequences (ZWJ, flags, keycaps) are scored code point by code point,
as VADER does; a trailing U+FE0F selector is ignored.
"""
import hashlib
import json
import sys


def die(msg):
    sys.stderr.write("gen_tables: " + msg + "\n")
    sys.exit(1)


def read_checked(path, want):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        die("%s: %s (run scripts/install-deps)" % (path, e.strerror))
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        die("%s: sha256 %s, expected %s (wrong package version?)" % (path, got, want))
    return data


def c_string(b):
    out = []
    for ch in b:
        if ch in (0x22, 0x5C):
            out.append("\\" + chr(ch))
        elif 0x20 <= ch < 0x7F and ch != 0x3F:  # '?' escaped: no trigraphs
            out.append(chr(ch))
        else:
            out.append("\\%03o" % ch)
    return '"' + "".join(out) + '"'


WORDNET_NOTICE = ("WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. "
                  "Used under the WordNet 3.0 license: the food nouns of the insights "
                  "themes are derived from its noun database.")

# Food nouns that are more often something else in customer feedback.
FOOD_EXCLUDE = {"apple", "cookie", "java", "mix", "generic", "grinder", "hash", "bitter", "bootleg",
                "sub", "coloring", "colouring", "murphy", "spirits"}


def food_nouns(data, index):
    """Single words whose most frequent WordNet sense is a food or drink.

    A lemma is a food noun when, walking its senses in WordNet's frequency
    order, a sense under food/nutrient, solid food, meal, dish (prepared
    food), beverage or a meal's course comes before any sense that is not an
    animal, a plant or a part of one ("chicken" the bird comes first, then
    the meat; "date" the day comes before the fruit, so it is not food; "dog"
    the person comes before the hot dog).
    """
    syn = {}
    for line in data.split("\n"):
        if not line or line.startswith("  "):
            continue
        head = line.partition(" | ")[0].split()
        off, wc = head[0], int(head[3], 16)
        words = [head[4 + 2 * k].lower() for k in range(wc)]
        i = 4 + 2 * wc
        pc = int(head[i])
        i += 1
        hypo = []
        for _ in range(pc):
            sym, o, pos = head[i], head[i + 1], head[i + 2]
            i += 4
            if sym == "~" and pos == "n":
                hypo.append(o)
        syn[off] = (words, hypo)
    senses = {}
    for line in index.split("\n"):
        if not line or line.startswith("  "):
            continue
        f = line.split()
        senses[f[0]] = f[-int(f[2]):]

    def sense(lemma, n):
        return senses[lemma][n - 1]

    def closure(roots):
        seen, stack = set(), list(roots)
        while stack:
            o = stack.pop()
            if o not in seen:
                seen.add(o)
                stack.extend(syn[o][1])
        return seen

    try:
        food = closure([sense("food", 1), sense("food", 2), sense("meal", 1), sense("meal", 2),
                        sense("dish", 2), sense("beverage", 1), sense("course", 7)])
        living = closure([sense("animal", 1), sense("plant", 2), sense("plant_part", 1),
                          sense("fungus", 1)])
    except (KeyError, IndexError):
        die("wordnet: unexpected database (WordNet 3.0 expected)")
    out = []
    for lemma, offs in senses.items():
        if not (lemma.isascii() and lemma.isalpha()) or len(lemma) < 3 or lemma in FOOD_EXCLUDE:
            continue
        for o in offs:
            if o in food:
                out.append(lemma)
                break
            if o not in living:
                break
    return sorted(out)


def main(argv):
    args = {}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("--lexicon", "--emoji", "--components"):
            args[a] = (argv[i + 1], argv[i + 2])
            i += 3
        elif a == "--wordnet":
            args[a] = (argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4])
            i += 5
        elif a == "--out":
            args[a] = argv[i + 1]
            i += 2
        else:
            die("unknown argument " + a)
    for k in ("--lexicon", "--emoji", "--components", "--wordnet", "--out"):
        if k not in args:
            die("missing " + k)

    lex = read_checked(*args["--lexicon"]).decode("utf-8")
    entries = {}
    for n, line in enumerate(lex.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        parts = line.strip().split("\t")
        if len(parts) < 2:
            die("lexicon line %d: expected word<TAB>valence" % n)
        word = parts[0]
        try:
            val = float(parts[1])
        except ValueError:
            die("lexicon line %d: bad valence %r" % (n, parts[1]))
        # Single-token entries only: VADER looks tokens up one at a time, so
        # multi-word entries ("can't stand") can never match.
        if any(c.isspace() for c in word):
            continue
        entries[word.encode("utf-8")] = repr(val)

    emoji = json.loads(read_checked(*args["--emoji"]).decode("utf-8"))
    comps = json.loads(read_checked(*args["--components"]).decode("utf-8"))
    emo = {}
    for ch, info in emoji.items():
        cps = [ord(c) for c in ch if ord(c) != 0xFE0F]
        if len(cps) != 1:
            continue
        name = info.get("name", "").strip()
        if name:
            emo.setdefault(cps[0], name)
    for key, ch in comps.items():
        cps = [ord(c) for c in ch if ord(c) != 0xFE0F]
        if len(cps) == 1:
            emo.setdefault(cps[0], key.replace("_", " "))

    out = []
    out.append("/* Generated by src/insights/gen_tables.py at build time. Do not edit. */")
    out.append('#include "insights/insights_int.h"')
    out.append("")
    out.append("const struct ins_lex_entry ins_lexicon[] = {")
    for w in sorted(entries):
        out.append("    {%s, %d, %s}," % (c_string(w), len(w), entries[w]))
    out.append("};")
    out.append("const size_t ins_lexicon_len = sizeof(ins_lexicon) / sizeof(ins_lexicon[0]);")
    out.append("")
    out.append("const struct ins_emoji_entry ins_emoji[] = {")
    for cp in sorted(emo):
        nb = emo[cp].encode("utf-8")
        out.append("    {0x%X, %s, %d}," % (cp, c_string(nb), len(nb)))
    out.append("};")
    out.append("const size_t ins_emoji_len = sizeof(ins_emoji) / sizeof(ins_emoji[0]);")
    wn = args["--wordnet"]
    foods = food_nouns(read_checked(wn[0], wn[1]).decode("latin-1"),
                       read_checked(wn[2], wn[3]).decode("latin-1"))
    out.append("")
    out.append("const char ins_wordnet_notice[] = %s;" % c_string(WORDNET_NOTICE.encode()))
    out.append("/* Food nouns derived from WordNet 3.0 (see gen_tables.py food_nouns). */")
    out.append("const char *const ins_food_nouns[] = {")
    for w in foods:
        out.append("    %s," % c_string(w.encode()))
    out.append("};")
    out.append("const size_t ins_food_nouns_len = sizeof(ins_food_nouns) / sizeof(ins_food_nouns[0]);")
    text = "\n".join(out) + "\n"
    tmp = args["--out"] + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    import os
    os.replace(tmp, args["--out"])


if __name__ == "__main__":
    main(sys.argv)
