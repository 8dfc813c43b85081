"""The crash test: 8 writer threads PUT (and now and then DELETE) objects of
random sizes, 0 B to 20 MiB, while the store is killed with SIGKILL at
random moments; 20 cycles. After every restart it checks what the store
promises (spec/S3.md, storage rules):

- Durability: a PUT or DELETE acknowledged with 2xx survives the crash.
- Atomicity: a write in flight at the crash either happened whole or not at
  all; no partial object is ever visible.
- Start-up clean-up: DIR/tmp is empty, and no body file is left that the
  metadata does not refer to (nor is a referenced one missing).

What exactly is allowed. Every key belongs to one writer thread, so the
writes to a key are sequential: w1, w2, ..., wn acknowledged, then at most
one more, w(n+1), in flight when the store died (its answer never came, or
it never reached the store). After the restart the key must hold wn's
outcome or w(n+1)'s, nothing else: not an older version (wn was
acknowledged after them), not a mixture, not a truncated body. Whatever is
observed becomes the baseline for the next cycle, and a later read must
still see it (an unacknowledged write that became visible is durable from
then on, since the restart committed it).

Every listed object is read back: its length is the listed Size, the MD5
of its bytes is its ETag, and it is byte for byte the content of one of the
writes allowed above (every content starts with a unique tag, so an MD5
names exactly one write).

Sizes are drawn so the run fits in about 3 minutes under ASan on 2 cores:
half the bodies are small (inline in SQLite, group commit), some medium,
a fifth large (file bodies up to 20 MiB), and the writers' run before each
kill shrinks from 0.4-2.5 s when the machine is slow, to fit CV_CRASH_BUDGET
(150 s). CV_CRASH_CYCLES and CV_CRASH_SEED override the cycle count and the
seed (the seed is printed)."""
import hashlib
import os
import random
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")

CYCLES = int(os.environ.get("CV_CRASH_CYCLES", "20"))
BUDGET = float(os.environ.get("CV_CRASH_BUDGET", "150"))  # seconds the cycles aim to fit in
SEED = int(os.environ.get("CV_CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
WRITERS = 8
KEYS_PER_WRITER = 6
MAX_SIZE = 20 * 1024 * 1024
B = "crash-bucket"
ABSENT = None  # a key's state when it holds nothing

rng = random.Random(SEED)
POOL = rng.randbytes(MAX_SIZE + 4096)  # bodies are slices of this, behind a unique tag


def draw_size(r):
    x = r.random()
    if x < 0.08:
        return 0
    if x < 0.5:
        return r.randint(1, 64 * 1024)
    if x < 0.8:
        return r.randint(64 * 1024, 1024 * 1024)
    return r.randint(1024 * 1024, MAX_SIZE)


class KeyState:
    """What we know about one key, owned by one writer."""

    def __init__(self, name):
        self.name = name
        self.baseline = ABSENT       # MD5 hex of the content the store holds (or ABSENT)
        self.acked = None            # outcome of the last acknowledged write this cycle
        self.acked_set = False
        self.inflight = []           # outcomes that may or may not have happened (0 or 1)
        self.sizes = {ABSENT: None}  # md5 -> size, for the checks

    def allowed(self):
        last = self.acked if self.acked_set else self.baseline
        return [last] + self.inflight

    def new_cycle(self, observed):
        self.baseline = observed
        self.acked = None
        self.acked_set = False
        self.inflight = []


class Writer(threading.Thread):
    def __init__(self, idx, keys, client, stop, seed):
        super().__init__(name="writer-%d" % idx, daemon=True)
        self.idx = idx
        self.keys = keys
        self.s3 = client
        self.stop = stop
        self.r = random.Random(seed)
        self.acked = 0
        self.unknown = 0
        self.bytes = 0
        self.counter = 0
        self.unexpected = None

    def run(self):
        while not self.stop.is_set():
            ks = self.r.choice(self.keys)
            self.counter += 1
            if self.r.random() < 0.1:
                outcome, body = ABSENT, None
            else:
                size = draw_size(self.r)
                tag = ("%s#%d#%d|" % (ks.name, self.idx, self.counter)).encode()
                off = self.r.randrange(0, len(POOL) - size) if size else 0
                body = (tag + POOL[off:off + size])[:size]
                if size and len(body) < size:
                    body = body + POOL[:size - len(body)]
                outcome = hashlib.md5(body).hexdigest()
                ks.sizes[outcome] = size
            # From here on the write may happen, whatever we hear back.
            ks.inflight = [outcome]
            try:
                if body is None:
                    self.s3.delete_object(Bucket=B, Key=ks.name)
                else:
                    r = self.s3.put_object(Bucket=B, Key=ks.name, Body=body)
                    if r["ETag"] != '"%s"' % outcome:
                        self.unexpected = "PUT %s: ETag %s for MD5 %s" % (ks.name, r["ETag"], outcome)
                        return
                    self.bytes += len(body)
            except Exception as e:  # noqa: BLE001 - the store died under us (or refused)
                if not self.stop.is_set():
                    # Killed before the stop flag went up: also a crash-time failure.
                    time.sleep(0.01)
                    if not self.stop.wait(5):
                        self.unexpected = "%s failed while the store was up: %r" % (ks.name, e)
                self.unknown += 1
                return  # the key keeps its in-flight outcome
            ks.acked = outcome
            ks.acked_set = True
            ks.inflight = []
            self.acked += 1


def referenced_files(data_dir):
    """Body files the metadata refers to (read-only look at meta.db, WAL readers are fine)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "meta.db"), uri=True, timeout=30)
    try:
        ok = db.execute("PRAGMA quick_check").fetchone()[0]
        assert ok == "ok", "meta.db quick_check: %s" % ok
        files = set()
        for table in ("objects", "segments", "parts"):
            files |= {r[0] for r in db.execute("SELECT file FROM %s WHERE file IS NOT NULL" % table)}
        return files
    finally:
        db.close()


def verify(st, keys, cycle):
    """Checks the restarted store against what the writers know; returns stats."""
    eq(st.tmp_files(), [], "cycle %d: DIR/tmp after start-up" % cycle)
    on_disk = {os.path.basename(p) for p in st.object_files()}
    refs = referenced_files(st.dir)
    assert on_disk == refs, "cycle %d: orphans %s, missing %s" % (
        cycle, sorted(on_disk - refs)[:5], sorted(refs - on_disk)[:5])
    s3 = st.client()
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=B):
        for c in page.get("Contents", []):
            listed[c["Key"]] = c
    by_name = {k.name: k for k in keys}
    extra = set(listed) - set(by_name)
    assert not extra, "cycle %d: keys nobody wrote: %s" % (cycle, sorted(extra)[:5])
    stats = {"present": 0, "inflight_won": 0, "inflight_lost": 0}
    for ks in keys:
        allowed = ks.allowed()
        if ks.name in listed:
            c = listed[ks.name]
            g = s3.get_object(Bucket=B, Key=ks.name)
            data = g["Body"].read()
            got = hashlib.md5(data).hexdigest()
            assert len(data) == c["Size"] == g["ContentLength"], (
                "cycle %d: %s listed %d bytes, GET gave %d" % (cycle, ks.name, c["Size"], len(data)))
            assert c["ETag"] == g["ETag"] == '"%s"' % got, (
                "cycle %d: %s ETag %s / %s, content MD5 %s (partial or mixed body)" % (
                    cycle, ks.name, c["ETag"], g["ETag"], got))
            eq(len(data), ks.sizes.get(got, -1), "cycle %d: %s size of that write" % (cycle, ks.name))
            observed = got
            stats["present"] += 1
        else:
            observed = ABSENT
        assert observed in allowed, (
            "cycle %d: %s holds %s; allowed: last acknowledged %s, in flight %s" % (
                cycle, ks.name, observed, allowed[0], allowed[1:]))
        if ks.inflight:
            stats["inflight_won" if observed == ks.inflight[0] and observed != allowed[0]
                  else "inflight_lost"] += 1
        ks.new_cycle(observed)
    return stats


def test_crash_cycles():
    print("seed %d, %d cycles, %d writers x %d keys" % (SEED, CYCLES, WRITERS, KEYS_PER_WRITER))
    st = cvstore.Store("crash", extra_args=["--quiet"])
    st.client().create_bucket(Bucket=B)
    keys = [[KeyState("w%d/k%d" % (w, i)) for i in range(KEYS_PER_WRITER)] for w in range(WRITERS)]
    all_keys = [k for ks in keys for k in ks]
    totals = {"acked": 0, "unknown": 0, "bytes": 0, "inflight_won": 0, "inflight_lost": 0}
    t0 = time.monotonic()
    run_total = 0.0
    for cycle in range(1, CYCLES + 1):
        stop = threading.Event()
        writers = [Writer(w, keys[w], st.client(max_pool_connections=2), stop, rng.random())
                   for w in range(WRITERS)]
        for w in writers:
            w.start()
        # Writers run 0.4-2.5 s before the kill; on a slow machine the upper bound
        # shrinks so that the 20 cycles still fit in the budget.
        spent = time.monotonic() - t0
        overhead = (spent - run_total) / (cycle - 1) if cycle > 1 else 1.0
        room = (BUDGET - spent) / (CYCLES - cycle + 1) - overhead
        window = rng.uniform(0.4, max(0.5, min(2.5, room)))
        time.sleep(window)
        run_total += window
        st.kill()
        stop.set()
        for w in writers:
            w.join(60)
            assert not w.is_alive(), "writer %s hangs after the kill" % w.name
            assert w.unexpected is None, w.unexpected
            totals["acked"] += w.acked
            totals["unknown"] += w.unknown
            totals["bytes"] += w.bytes
        st.start()
        stats = verify(st, all_keys, cycle)
        totals["inflight_won"] += stats["inflight_won"]
        totals["inflight_lost"] += stats["inflight_lost"]
        print("cycle %2d: %3d acked, %d in flight (%d visible after restart), %d keys present, "
              "%.0fs" % (cycle, sum(w.acked for w in writers), sum(w.unknown for w in writers),
                         stats["inflight_won"], stats["present"], time.monotonic() - t0))
        sys.stdout.flush()
    # A clean stop and start keeps everything as it is.
    st.restart()
    for ks in all_keys:
        ks.acked_set = False
    verify(st, all_keys, CYCLES + 1)
    print("total: %d writes acknowledged (%.0f MiB), %d in flight at a kill (%d of those visible "
          "afterwards)" % (totals["acked"], totals["bytes"] / 2 ** 20, totals["unknown"],
                           totals["inflight_won"]))
    assert totals["acked"] >= CYCLES * 5, "too few writes to mean anything"
    assert totals["unknown"] >= CYCLES, "the kills did not interrupt writes"


cvstore.main(globals())
