"""Store + boto3 + plain HTTP: large bodies, many at once, in both
directions; memory stays bounded and every byte is right.

Uploads of 8 MiB or more are hashed by a thread of their own, and written
by another straight from the hashing ring with O_DIRECT (not through the
page cache), at most 16 at once; the rest hash and write inline. A test
holds 20 uploads open at once, each paused after its first MiB until all
20 have begun, and checks every ETag (the body's MD5) and every stored
body; another puts bodies whose last block is partial, checks each stored
file's exact size and bytes, and that none of it sits in the page cache.

The store reads a file body (and a multipart object's parts) into a block
of up to 1 MiB that MHD sends from; at most 32 responses hold such a block
at once, and a single-file body past that budget falls back to sendfile.
These tests hold 40 downloads open at once, each stopped after its first
bytes until all 40 have begun, so both paths serve at the same time, and
check every byte of every body; ranges that cross block boundaries; a
multipart object read across its part boundaries; and that the store's
peak memory stays bounded while that happens."""
import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")

st = cvstore.Store("large-bodies")
s3 = st.client()
B = "large-bodies"
MIB = 1 << 20
s3.create_bucket(Bucket=B)
# Not a repeating pattern: a misplaced block would show.
BODY = hashlib.shake_256(b"caravel large get").digest(3 * MIB + 12345)
s3.put_object(Bucket=B, Key="one-file", Body=BODY)


def presigned(method, key):
    # SigV4 query auth (Debian's botocore presigns with SigV2 by default).
    return st.client(signature_version="s3v4").generate_presigned_url(
        method, Params={"Bucket": B, "Key": key}, ExpiresIn=600)


def presigned_get(key):
    return presigned("get_object", key)


def open_get(url, headers=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("GET", u.path + "?" + u.query, headers=headers or {})
    return c, c.getresponse()


def vm_hwm_kib():
    with open("/proc/%d/status" % st.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def sanitized():
    with open("/proc/%d/maps" % st.proc.pid) as f:
        return "libasan" in f.read()


def all_in_flight(n, begin, end, what, timeout):
    """Runs begin(i) for i < n, each on its own thread, waits until all n
    have begun, then lets each go on with end(i, begun): the list of what
    the end calls returned. Any exception fails the test."""
    started = threading.Barrier(n + 1, timeout=60)
    results = [None] * n
    errors = []

    def run(i):
        try:
            begun = begin(i)
            started.wait()
            results[i] = end(i, begun)
        except Exception as e:  # noqa: BLE001
            errors.append("%s %d: %r" % (what, i, e))
            try:
                started.abort()
            except Exception:  # noqa: BLE001
                pass

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    started.wait()
    for t in threads:
        t.join(timeout)
    assert not errors, errors
    for i, x in enumerate(results):
        assert x is not None, "%s %d did not finish" % (what, i)
    return results


def test_forty_downloads_at_once_all_bytes_right():
    n = 40
    hwm0 = vm_hwm_kib()
    url = presigned_get("one-file")

    def begin(i):
        c, r = open_get(url)
        eq(r.status, 200, "status of download %d" % i)
        return c, r, r.read(64 * 1024)  # the response (and its block) exists now

    def end(i, begun):
        c, r, head = begun
        body = head + r.read()
        c.close()
        return body

    # All 40 responses in flight at once: 32 with blocks, 8 with sendfile.
    bodies = all_in_flight(n, begin, end, "download", 120)
    want = hashlib.md5(BODY).hexdigest()
    for i, b in enumerate(bodies):
        eq(len(b), len(BODY), "length of download %d" % i)
        eq(hashlib.md5(b).hexdigest(), want, "MD5 of download %d" % i)
    # 32 blocks of 1 MiB at most at once (a block per download would be
    # 40 x 1 MiB, a block the size of the body 40 x 3 MiB); the sanitizer
    # build adds its redzones and quarantine on top (about 62 MiB seen).
    grew = vm_hwm_kib() - hwm0
    cap = (128 if sanitized() else 64) * 1024
    print("store peak RSS grew by %d KiB during 40 downloads (cap %d KiB)" % (grew, cap))
    assert grew < cap, "store peak RSS grew by %d KiB with 40 large downloads" % grew


def test_twenty_large_uploads_at_once_all_etags_right():
    n = 20
    bodies = [hashlib.shake_256(b"upload %d" % i).digest(9 * MIB + i) for i in range(n)]

    def begin(i):
        u = urllib.parse.urlsplit(presigned("put_object", "up-%02d" % i))
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        c.putrequest("PUT", u.path + "?" + u.query)
        c.putheader("Content-Length", str(len(bodies[i])))
        c.endheaders()
        c.send(bodies[i][:MIB])  # the store has begun this body now
        return c

    def end(i, c):
        c.send(bodies[i][MIB:])
        r = c.getresponse()
        answer = (r.status, r.getheader("ETag"), r.read())
        c.close()
        return answer

    # 20 bodies in flight at once: 16 hashed beside, 4 inline.
    answers = all_in_flight(n, begin, end, "upload", 180)
    for i, body in enumerate(bodies):
        status, etag, text = answers[i]
        eq(status, 200, "status of upload %d (%r)" % (i, text[:200]))
        eq(etag, '"%s"' % hashlib.md5(body).hexdigest(), "ETag of upload %d" % i)
    for i in (0, 7, 19):
        got = s3.get_object(Bucket=B, Key="up-%02d" % i)["Body"].read()
        assert got == bodies[i], "stored body of upload %d" % i


def fs_type(path):
    out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return out.stdout.strip()


def resident_bytes(path):
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_large_puts_written_direct_exact_sizes():
    """Bodies of 8 MiB and more go to disk from the hashing ring with
    O_DIRECT: whole blocks, the last one padded and the file cut back to
    the body's length. Each length here ends at a different place in a
    block; the file must hold exactly the body, and (on a filesystem with
    its own disk, not tmpfs) none of it may be left in the page cache,
    which a write through the page cache would leave there."""
    sizes = [8 * MIB, 8 * MIB + 1, 8 * MIB + 4095, 8 * MIB + 4097, 9 * MIB - 1, 11 * MIB + 12345]
    before = set(st.object_files())
    for n in sizes:
        body = hashlib.shake_256(b"direct %d" % n).digest(n)
        r = s3.put_object(Bucket=B, Key="direct-%d" % n, Body=body)
        eq(r["ETag"], '"%s"' % hashlib.md5(body).hexdigest(), "ETag of %d bytes" % n)
    new = sorted(set(st.object_files()) - before)
    eq(len(new), len(sizes), "new body files")
    files = {}
    for rel in new:
        path = os.path.join(st.dir, "objects", rel)
        files[os.path.getsize(path)] = path
    eq(sorted(files), sorted(sizes), "sizes of the body files (no padding left)")
    check_cache = fs_type(st.dir) != "tmpfs" and shutil.which("fincore")
    for n in sizes:
        if check_cache:
            eq(resident_bytes(files[n]), 0, "page-cache bytes of the %d-byte body file" % n)
        body = hashlib.shake_256(b"direct %d" % n).digest(n)
        got = s3.get_object(Bucket=B, Key="direct-%d" % n)["Body"].read()
        assert got == body, "stored body of %d bytes" % n
    if not check_cache:
        print("  (data folder on tmpfs or no fincore: page-cache check skipped)")
    # A body the pipeline wrote in full but that fails its check: nothing
    # stored, nothing left in DIR/tmp.
    body = hashlib.shake_256(b"direct bad digest").digest(9 * MIB + 5)
    wrong = cvstore.b64(hashlib.md5(body + b"x").digest())
    cvstore.expect_error("BadDigest", 400, s3.put_object, Bucket=B, Key="direct-bad", Body=body,
                         ContentMD5=wrong)
    cvstore.expect_error("NoSuchKey", 404, s3.get_object, Bucket=B, Key="direct-bad")
    eq(st.tmp_files(), [], "DIR/tmp after a refused large body")
    eq(len(st.object_files()), len(before) + len(sizes), "body files after a refused large body")


def test_ranges_across_block_boundaries():
    url = presigned_get("one-file")
    for first, last in [(0, 0), (MIB - 1, MIB), (MIB - 5, 2 * MIB + 5), (123, 3 * MIB + 12344),
                        (3 * MIB, 3 * MIB + 12344), (2 * MIB, 2 * MIB + MIB - 1)]:
        c, r = open_get(url, {"Range": "bytes=%d-%d" % (first, last)})
        got = r.read()
        c.close()
        eq(r.status, 206, "status of bytes=%d-%d" % (first, last))
        eq(r.getheader("Content-Range"), "bytes %d-%d/%d" % (first, last, len(BODY)))
        assert got == BODY[first:last + 1], "body of bytes=%d-%d" % (first, last)
    # Suffix range: the last 1.5 MiB.
    c, r = open_get(url, {"Range": "bytes=-%d" % (MIB + MIB // 2)})
    got = r.read()
    c.close()
    eq(r.status, 206)
    assert got == BODY[-(MIB + MIB // 2):], "suffix range body"


def test_multipart_object_read_across_parts():
    parts = [hashlib.shake_256(b"part %d" % i).digest(5 * MIB + i * 777) for i in range(3)]
    up = s3.create_multipart_upload(Bucket=B, Key="multi")
    done = []
    for i, p in enumerate(parts):
        r = s3.upload_part(Bucket=B, Key="multi", UploadId=up["UploadId"], PartNumber=i + 1, Body=p)
        done.append({"PartNumber": i + 1, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=B, Key="multi", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": done})
    whole = b"".join(parts)
    got = s3.get_object(Bucket=B, Key="multi")["Body"].read()
    eq(len(got), len(whole), "multipart object length")
    assert got == whole, "multipart object bytes"
    a = 5 * MIB - 100  # across the first part boundary, through the second part
    b = 2 * (5 * MIB) + 777 + 50
    got = s3.get_object(Bucket=B, Key="multi", Range="bytes=%d-%d" % (a, b))["Body"].read()
    assert got == whole[a:b + 1], "range across part boundaries"


cvstore.main(globals(), [st])
