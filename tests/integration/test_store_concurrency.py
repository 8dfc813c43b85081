"""Store under concurrent use: readers see an object whole or not at all while
writers overwrite and delete it; a GET that is streaming a large body keeps
returning that version even when the key is overwritten or deleted meanwhile
(the body file is unlinked only after the reader is done with it); listings
during writes show only whole objects; concurrent multipart completions of
one key leave exactly one of them; parallel PUTs share commits (group
commit, counted by the store); another process (`caravel store accounts
add`) writing to the store's database while it commits PUTs loses nothing of
either."""
import hashlib
import os
import sys
import threading
import time

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, etag_of  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
from botocore.exceptions import ClientError  # noqa: E402

st = cvstore.Store("concurrency", extra_args=["--quiet"])
s3 = st.client(max_pool_connections=32)
B = "conc-bucket"
s3.create_bucket(Bucket=B)
MIB = 1024 * 1024


def versions(key, sizes):
    """Distinct bodies for @key, each starting with its own tag; md5 -> body."""
    out = {}
    for i, n in enumerate(sizes):
        body = (b"%s v%d|" % (key.encode(), i) + os.urandom(n))[:max(n, 1)]
        out[hashlib.md5(body).hexdigest()] = body
    return out


def test_readers_see_whole_versions():
    """4 writers overwrite/delete 3 keys; 4 readers GET, HEAD and list them."""
    keys = ["hot/a", "hot/b", "hot/c"]
    sizes = [0, 10, 70 * 1024, 200 * 1024, 3 * MIB]
    bodies = {k: versions(k, sizes) for k in keys}
    stop = threading.Event()
    errors = []
    counts = {"reads": 0, "writes": 0, "absent": 0}

    def writer(i):
        import random
        r = random.Random(i)
        c = st.client()
        while not stop.is_set():
            k = r.choice(keys)
            try:
                if r.random() < 0.15:
                    c.delete_object(Bucket=B, Key=k)
                else:
                    c.put_object(Bucket=B, Key=k, Body=r.choice(list(bodies[k].values())))
                counts["writes"] += 1
            except Exception as e:  # noqa: BLE001
                errors.append("writer %d: %r" % (i, e))
                return

    def reader(i):
        import random
        r = random.Random(100 + i)
        c = st.client()
        while not stop.is_set():
            k = r.choice(keys)
            try:
                if r.random() < 0.2:
                    page = c.list_objects_v2(Bucket=B, Prefix="hot/")
                    for o in page.get("Contents", []):
                        md5 = o["ETag"].strip('"')
                        if md5 not in bodies[o["Key"]] or o["Size"] != len(bodies[o["Key"]][md5]):
                            errors.append("listing shows %s %s %d" % (o["Key"], o["ETag"], o["Size"]))
                    continue
                g = c.get_object(Bucket=B, Key=k)
                data = g["Body"].read()
                md5 = hashlib.md5(data).hexdigest()
                if md5 not in bodies[k]:
                    errors.append("GET %s: %d bytes that no writer wrote" % (k, len(data)))
                elif g["ETag"] != '"%s"' % md5 or g["ContentLength"] != len(data):
                    errors.append("GET %s: ETag %s / length %d for content %s" % (
                        k, g["ETag"], g["ContentLength"], md5))
                counts["reads"] += 1
            except ClientError as e:
                if cvstore.error_code(e) == "NoSuchKey":
                    counts["absent"] += 1
                else:
                    errors.append("reader %d: %r" % (i, e))
                    return
            except Exception as e:  # noqa: BLE001
                errors.append("reader %d: %r" % (i, e))
                return

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(6)
    stop.set()
    for t in threads:
        t.join(60)
    assert not errors, "%d problems, first: %s" % (len(errors), errors[:3])
    print("  %d writes, %d whole reads, %d reads of a deleted key" % (
        counts["writes"], counts["reads"], counts["absent"]))
    assert counts["reads"] > 5 and counts["writes"] > 5, counts
    eq(st.tmp_files(), [], "DIR/tmp after the storm")


def slow_read(key, **kw):
    """Starts a GET, reads 1 MiB, returns (response, first bytes)."""
    c = st.client()
    g = c.get_object(Bucket=B, Key=key, **kw)
    return g, g["Body"].read(MIB)


def test_streaming_get_survives_overwrite_and_delete():
    old = os.urandom(24 * MIB)
    for action in ("overwrite", "delete"):
        key = "stream/" + action
        s3.put_object(Bucket=B, Key=key, Body=old)
        g, first = slow_read(key)
        if action == "overwrite":
            s3.put_object(Bucket=B, Key=key, Body=b"new small body")
        else:
            s3.delete_object(Bucket=B, Key=key)
        rest = g["Body"].read()
        got = first + rest
        eq(len(got), len(old), "%s during GET: length" % action)
        assert got == old, "%s during a GET changed the bytes being streamed" % action
    # Same for a multipart object (several body files).
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(2 * MIB)]
    uid = s3.create_multipart_upload(Bucket=B, Key="stream/mp")["UploadId"]
    done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=B, Key="stream/mp", UploadId=uid,
                                                      PartNumber=n, Body=p)["ETag"]}
            for n, p in enumerate(parts, 1)]
    s3.complete_multipart_upload(Bucket=B, Key="stream/mp", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    g, first = slow_read("stream/mp")
    s3.delete_object(Bucket=B, Key="stream/mp")
    got = first + g["Body"].read()
    assert got == b"".join(parts), "deleting a multipart object during its GET changed the bytes"
    g, first = slow_read("stream/overwrite", Range="bytes=0-0")
    eq(first, b"new small body"[:1], "ranged read of the new version")


def test_concurrent_completions_of_one_key():
    """Two uploads of the same key completed at the same time: the key holds one of them."""
    key = "mp/race"
    bodies = []
    uploads = []
    for i in range(2):
        parts = [os.urandom(5 * MIB), os.urandom(1000 + i)]
        uid = s3.create_multipart_upload(Bucket=B, Key=key)["UploadId"]
        done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=n,
                                                          Body=p)["ETag"]} for n, p in enumerate(parts, 1)]
        bodies.append(b"".join(parts))
        uploads.append((uid, done))
    results = [None, None]

    def complete(i):
        c = st.client()
        uid, done = uploads[i]
        try:
            results[i] = c.complete_multipart_upload(Bucket=B, Key=key, UploadId=uid,
                                                     MultipartUpload={"Parts": done})["ETag"]
        except Exception as e:  # noqa: BLE001
            results[i] = e

    ts = [threading.Thread(target=complete, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert all(isinstance(r, str) for r in results), results
    data = s3.get_object(Bucket=B, Key=key)["Body"].read()
    assert data in bodies, "the key holds neither upload"
    eq(s3.head_object(Bucket=B, Key=key)["ETag"], results[bodies.index(data)], "ETag of the winner")
    # The loser's part files are gone with it: only the winner's two files are referenced.
    left = [c["Key"] for c in s3.list_objects_v2(Bucket=B).get("Contents", [])]
    del_keys = [{"Key": k} for k in left]
    if del_keys:
        s3.delete_objects(Bucket=B, Delete={"Objects": del_keys})
    eq(st.object_files(), [], "no body file left once every object is deleted")


def test_many_small_puts_in_parallel():
    """Group commit: 400 small PUTs from 16 threads, all acknowledged and all readable."""
    from concurrent.futures import ThreadPoolExecutor
    c = st.client(max_pool_connections=16)
    items = {"gc/%03d" % i: os.urandom(i * 37 % 4096) for i in range(400)}
    with ThreadPoolExecutor(16) as ex:
        etags = dict(zip(items, ex.map(lambda kv: c.put_object(Bucket=B, Key=kv[0], Body=kv[1])["ETag"],
                                       items.items())))
    for k, v in items.items():
        eq(etags[k], etag_of(v), "ETag of %s" % k)
    listed = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=B, Prefix="gc/"):
        listed.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
    eq(listed, etags, "every parallel PUT listed with its ETag")
    with ThreadPoolExecutor(16) as ex:
        got = dict(zip(items, ex.map(lambda k: c.get_object(Bucket=B, Key=k)["Body"].read(), items)))
    assert got == items, "a parallel PUT reads back wrong"


def test_parallel_puts_share_commits():
    """Group commit end to end: 800 presigned PUTs on 16 keep-alive
    connections. When it stops, the store reports how many metadata writes
    it made in how many commits. A lock that serialized PUTs around their
    commit would make the two equal."""
    import http.client
    import re
    import urllib.parse
    g = cvstore.Store("groupcommit", extra_args=["--quiet"])
    c = g.client(signature_version="s3v4")
    c.create_bucket(Bucket="gc-bucket")
    n, conns = 800, 16
    paths = []
    for i in range(n):
        u = urllib.parse.urlsplit(c.generate_presigned_url(
            "put_object", Params={"Bucket": "gc-bucket", "Key": "k/%04d" % i}, ExpiresIn=900))
        paths.append(u.path + "?" + u.query)
    body = os.urandom(1000)
    status = []

    def client(t):
        conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=60)
        for i in range(t, n, conns):
            conn.request("PUT", paths[i], body=body)
            r = conn.getresponse()
            r.read()
            status.append(r.status)
        conn.close()

    threads = [threading.Thread(target=client, args=(t,)) for t in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    eq(status.count(200), n, "PUTs answered 200")
    g.stop()
    m = re.search(r"(\d+) metadata writes in (\d+) commits", g.log())
    assert m, "no commit statistics in the store's log at stop"
    writes, commits = int(m.group(1)), int(m.group(2))
    assert writes >= n, "%d metadata writes for %d PUTs" % (writes, n)
    assert commits < 0.9 * writes, "%d commits for %d writes: PUTs did not share commits" % (commits, writes)


def test_other_process_writes_during_group_commit():
    """`store accounts add` (its own process, its own SQLite connection) six
    times while 8 threads PUT small objects: the store's write connection
    batches its WAL writes until each sync, and neither side's commits may
    be lost or damaged."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor
    c = st.client(max_pool_connections=8)
    items = {"mp/%04d" % i: os.urandom(200 + i * 53 % 6000) for i in range(1200)}
    accounts = []
    with ThreadPoolExecutor(8) as ex:
        fut = ex.map(lambda kv: c.put_object(Bucket=B, Key=kv[0], Body=kv[1])["ETag"], items.items())
        for i in range(6):
            accounts.append(st.add_account("mp-acct-%d" % i))
        etags = dict(zip(items, fut))
    for k, v in items.items():
        eq(etags[k], etag_of(v), "ETag of %s" % k)
    for i, (akid, secret, acct) in enumerate(accounts):
        other = st.client(akid=akid, secret=secret)
        other.create_bucket(Bucket="mp-acct-bucket-%d" % i)
        other.put_object(Bucket="mp-acct-bucket-%d" % i, Key="k", Body=b"x%d" % i)
        eq(other.get_object(Bucket="mp-acct-bucket-%d" % i, Key="k")["Body"].read(), b"x%d" % i,
           "object of the account added during the PUTs")
    with ThreadPoolExecutor(8) as ex:
        got = dict(zip(items, ex.map(lambda k: c.get_object(Bucket=B, Key=k)["Body"].read(), items)))
    assert got == items, "a PUT made while another process wrote reads back wrong"
    st.stop()
    db = sqlite3.connect(os.path.join(st.dir, "meta.db"))
    try:
        eq(db.execute("PRAGMA integrity_check").fetchone()[0], "ok", "meta.db integrity_check")
        eq(db.execute("SELECT count(*) FROM objects WHERE key LIKE 'mp/%'").fetchone()[0], len(items),
           "object rows after the run")
        eq(db.execute("SELECT count(*) FROM accounts WHERE name LIKE 'mp-acct-%'").fetchone()[0], 6,
           "accounts added during the run")
    finally:
        db.close()
    st.start()  # on a new port: a new client
    eq(st.client().head_object(Bucket=B, Key="mp/0007")["ContentLength"], len(items["mp/0007"]),
       "the store serves the folder again after the check")


cvstore.main(globals())
