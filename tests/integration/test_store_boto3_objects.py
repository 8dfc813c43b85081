"""Store + boto3: single objects. Conditional GET/HEAD/PUT, ranges, response-*
overrides, metadata, Content-MD5, flexible checksums (CRC32, CRC32C, SHA1,
SHA256, and CRC64NVME by hand: this botocore predates it)."""
import base64
import datetime
import email.utils
import hashlib
import os
import struct
import sys
import zlib

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import b64, eq, etag_of, expect_error, md5_hex  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
from botocore.exceptions import ClientError  # noqa: E402

st = cvstore.Store("objects")
s3 = st.client()
B = "objects-bucket"
s3.create_bucket(Bucket=B)
BODY = os.urandom(1000) + b"the end"


def with_headers(client, op, headers):
    """Adds raw headers to every @op call of @client (botocore lacks some parameters)."""
    def add(request, **_):
        for k, v in headers.items():
            request.headers[k] = v
    client.meta.events.register("before-sign.s3.%s" % op, add)
    return add


def http_date(dt):
    return email.utils.format_datetime(dt, usegmt=True)


def test_put_get_round_trip():
    for size in (0, 1, 4096, 128 * 1024, 128 * 1024 + 1, 3 * 1024 * 1024 + 17):
        data = os.urandom(size)
        r = s3.put_object(Bucket=B, Key="rt/%d" % size, Body=data)
        eq(r["ETag"], etag_of(data), "PUT ETag of %d bytes" % size)
        g = s3.get_object(Bucket=B, Key="rt/%d" % size)
        got = g["Body"].read()
        eq(len(got), size, "length")
        assert got == data, "body of %d bytes differs" % size
        eq(g["ETag"], etag_of(data), "GET ETag")
        eq(g["ContentLength"], size, "Content-Length")
        h = s3.head_object(Bucket=B, Key="rt/%d" % size)
        eq(h["ContentLength"], size, "HEAD Content-Length")
        eq(h["ETag"], etag_of(data), "HEAD ETag")


def test_overwrite_replaces():
    s3.put_object(Bucket=B, Key="ow", Body=b"first version, longer than the second")
    s3.put_object(Bucket=B, Key="ow", Body=b"second")
    eq(s3.get_object(Bucket=B, Key="ow")["Body"].read(), b"second", "overwritten body")


def test_conditional_get_head():
    s3.put_object(Bucket=B, Key="cond", Body=BODY)
    h = s3.head_object(Bucket=B, Key="cond")
    etag, mtime = h["ETag"], h["LastModified"]
    before = mtime - datetime.timedelta(hours=1)
    after = mtime + datetime.timedelta(hours=1)
    # If-Match
    eq(s3.get_object(Bucket=B, Key="cond", IfMatch=etag)["Body"].read(), BODY, "If-Match hit")
    eq(s3.get_object(Bucket=B, Key="cond", IfMatch='"x", ' + etag)["ETag"], etag, "If-Match list")
    eq(s3.get_object(Bucket=B, Key="cond", IfMatch="*")["ETag"], etag, "If-Match *")
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=B, Key="cond", IfMatch='"nope"')
    expect_error("412", 412, s3.head_object, Bucket=B, Key="cond", IfMatch='"nope"')
    # If-None-Match
    expect_error("304", 304, s3.get_object, Bucket=B, Key="cond", IfNoneMatch=etag)
    expect_error("304", 304, s3.head_object, Bucket=B, Key="cond", IfNoneMatch=etag)
    eq(s3.get_object(Bucket=B, Key="cond", IfNoneMatch='"other"')["Body"].read(), BODY, "INM miss")
    # If-Modified-Since
    expect_error("304", 304, s3.get_object, Bucket=B, Key="cond", IfModifiedSince=after)
    expect_error("304", 304, s3.get_object, Bucket=B, Key="cond", IfModifiedSince=mtime)
    eq(s3.get_object(Bucket=B, Key="cond", IfModifiedSince=before)["ETag"], etag, "IMS before")
    # If-Unmodified-Since
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=B, Key="cond",
                 IfUnmodifiedSince=before)
    expect_error("412", 412, s3.head_object, Bucket=B, Key="cond", IfUnmodifiedSince=before)
    eq(s3.get_object(Bucket=B, Key="cond", IfUnmodifiedSince=after)["ETag"], etag, "IUS after")
    # RFC 7232 precedence, as S3 documents it: a true If-Match wins over a
    # false If-Unmodified-Since; a false If-None-Match (match) gives 304 even
    # with a true If-Modified-Since.
    eq(s3.get_object(Bucket=B, Key="cond", IfMatch=etag, IfUnmodifiedSince=before)["ETag"], etag,
       "If-Match true + IUS false")
    expect_error("304", 304, s3.get_object, Bucket=B, Key="cond", IfNoneMatch=etag,
                 IfModifiedSince=before)


def test_conditional_put():
    s3.put_object(Bucket=B, Key="cput", Body=b"v1")
    c = st.client()
    with_headers(c, "PutObject", {"If-None-Match": "*"})
    expect_error("PreconditionFailed", 412, c.put_object, Bucket=B, Key="cput", Body=b"v2")
    eq(s3.get_object(Bucket=B, Key="cput")["Body"].read(), b"v1", "body after refused PUT")
    # On an absent key it succeeds.
    r = c.put_object(Bucket=B, Key="cput-new", Body=b"fresh")
    eq(r["ETag"], etag_of(b"fresh"), "If-None-Match * on a new key")
    # If-Match: the current ETag succeeds, another fails, an absent key is 404.
    c2 = st.client()
    with_headers(c2, "PutObject", {"If-Match": etag_of(b"v1")})
    c2.put_object(Bucket=B, Key="cput", Body=b"v3")
    eq(s3.get_object(Bucket=B, Key="cput")["Body"].read(), b"v3", "If-Match PUT")
    expect_error("PreconditionFailed", 412, c2.put_object, Bucket=B, Key="cput", Body=b"v4")
    expect_error("NoSuchKey", 404, c2.put_object, Bucket=B, Key="cput-absent", Body=b"v4")
    eq(s3.get_object(Bucket=B, Key="cput")["Body"].read(), b"v3", "body after refused If-Match")


def test_ranges():
    data = bytes(range(256)) * 40  # 10240 bytes
    s3.put_object(Bucket=B, Key="range", Body=data)
    n = len(data)
    cases = [("bytes=0-0", 0, 0), ("bytes=10-19", 10, 19), ("bytes=100-", 100, n - 1),
             ("bytes=-1", n - 1, n - 1), ("bytes=-300", n - 300, n - 1),
             ("bytes=5000-999999", 5000, n - 1), ("bytes=-999999", 0, n - 1)]
    for rng, a, b in cases:
        g = s3.get_object(Bucket=B, Key="range", Range=rng)
        eq(g["ResponseMetadata"]["HTTPStatusCode"], 206, rng + " status")
        eq(g["ContentRange"], "bytes %d-%d/%d" % (a, b, n), rng + " Content-Range")
        eq(g["ContentLength"], b - a + 1, rng + " length")
        assert g["Body"].read() == data[a:b + 1], rng + ": wrong bytes"
        eq(g["ETag"], etag_of(data), rng + " ETag")
    e = expect_error("InvalidRange", 416, s3.get_object, Bucket=B, Key="range",
                     Range="bytes=%d-" % n)
    eq(e.response["Error"].get("ActualObjectSize"), str(n), "ActualObjectSize")
    expect_error("InvalidRange", 416, s3.get_object, Bucket=B, Key="range", Range="bytes=20000-20010")
    # A syntactically invalid range is ignored: the whole object, 200.
    g = s3.get_object(Bucket=B, Key="range", Range="bytes=9-3")
    eq(g["ResponseMetadata"]["HTTPStatusCode"], 200, "invalid range status")
    assert g["Body"].read() == data
    # Ranges on a file-backed (non-inline) body too.
    big = os.urandom(600 * 1024)
    s3.put_object(Bucket=B, Key="range-big", Body=big)
    g = s3.get_object(Bucket=B, Key="range-big", Range="bytes=300000-400000")
    assert g["Body"].read() == big[300000:400001], "ranged read of a file body"
    s3.put_object(Bucket=B, Key="empty", Body=b"")
    expect_error("InvalidRange", 416, s3.get_object, Bucket=B, Key="empty", Range="bytes=0-0")


def test_response_overrides():
    s3.put_object(Bucket=B, Key="ovr", Body=b"hello", ContentType="text/plain")
    g = s3.get_object(Bucket=B, Key="ovr", ResponseContentType="application/x-test",
                      ResponseContentDisposition='attachment; filename="x.bin"',
                      ResponseCacheControl="no-store", ResponseContentLanguage="fr",
                      ResponseContentEncoding="identity",
                      ResponseExpires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc))
    h = g["ResponseMetadata"]["HTTPHeaders"]
    eq(h["content-type"], "application/x-test", "Content-Type override")
    eq(h["content-disposition"], 'attachment; filename="x.bin"', "Content-Disposition override")
    eq(h["cache-control"], "no-store", "Cache-Control override")
    eq(h["content-language"], "fr", "Content-Language override")
    eq(h["content-encoding"], "identity", "Content-Encoding override")
    eq(h["expires"], "Wed, 02 Jan 2030 03:04:05 GMT", "Expires override")
    eq(g["Body"].read(), b"hello", "body")
    # Stored Content-Type unchanged.
    eq(s3.head_object(Bucket=B, Key="ovr")["ContentType"], "text/plain", "stored type")


def test_metadata_round_trip():
    md = {"color": "blue", "mixed-case": "Value With Spaces", "n": "42"}
    s3.put_object(Bucket=B, Key="meta", Body=b"m", Metadata=md, ContentType="image/png",
                  ContentEncoding="gzip", ContentDisposition="inline", CacheControl="max-age=60",
                  ContentLanguage="de", Expires=datetime.datetime(2031, 5, 6, 7, 8, 9,
                                                                  tzinfo=datetime.timezone.utc))
    for resp in (s3.head_object(Bucket=B, Key="meta"), s3.get_object(Bucket=B, Key="meta")):
        eq(resp["Metadata"], md, "user metadata")
        eq(resp["ContentType"], "image/png", "Content-Type")
        eq(resp["ContentEncoding"], "gzip", "Content-Encoding")
        eq(resp["ContentDisposition"], "inline", "Content-Disposition")
        eq(resp["CacheControl"], "max-age=60", "Cache-Control")
        eq(resp["ContentLanguage"], "de", "Content-Language")
        eq(resp["ResponseMetadata"]["HTTPHeaders"]["expires"], "Tue, 06 May 2031 07:08:09 GMT",
           "Expires")
    # Upper-case metadata names come back lower-case, as from AWS.
    s3.put_object(Bucket=B, Key="meta2", Body=b"m", Metadata={"UPPER": "x"})
    eq(s3.head_object(Bucket=B, Key="meta2")["Metadata"], {"upper": "x"}, "lower-cased name")
    # Exactly 2 KiB of user metadata (names without x-amz-meta- plus values) is fine...
    s3.put_object(Bucket=B, Key="meta-max", Body=b"m", Metadata={"k": "v" * 2047})
    eq(s3.head_object(Bucket=B, Key="meta-max")["Metadata"]["k"], "v" * 2047, "2 KiB metadata")
    # ...one byte more is MetadataTooLarge, and nothing is stored.
    expect_error("MetadataTooLarge", 400, s3.put_object, Bucket=B, Key="meta-big", Body=b"m",
                 Metadata={"k": "v" * 2048})
    expect_error("MetadataTooLarge", 400, s3.put_object, Bucket=B, Key="meta-big", Body=b"m",
                 Metadata={"a%d" % i: "x" * 200 for i in range(12)})
    expect_error("404", 404, s3.head_object, Bucket=B, Key="meta-big")


def test_metadata_empty_value():
    s3.put_object(Bucket=B, Key="meta-empty", Body=b"m", Metadata={"empty": "", "a": "1"})
    eq(s3.head_object(Bucket=B, Key="meta-empty")["Metadata"], {"empty": "", "a": "1"},
       "metadata with an empty value")


def test_content_md5():
    data = b"integrity matters" * 100
    good = b64(hashlib.md5(data).digest())
    r = s3.put_object(Bucket=B, Key="md5", Body=data, ContentMD5=good)
    eq(r["ETag"], etag_of(data), "ETag with Content-MD5")
    wrong = b64(hashlib.md5(b"something else").digest())
    expect_error("BadDigest", 400, s3.put_object, Bucket=B, Key="md5-bad", Body=data, ContentMD5=wrong)
    expect_error("InvalidDigest", 400, s3.put_object, Bucket=B, Key="md5-bad", Body=data,
                 ContentMD5="not base64!")
    expect_error("InvalidDigest", 400, s3.put_object, Bucket=B, Key="md5-bad", Body=data,
                 ContentMD5=b64(b"short"))
    expect_error("404", 404, s3.head_object, Bucket=B, Key="md5-bad")
    # A bad digest on an overwrite leaves the old body.
    expect_error("BadDigest", 400, s3.put_object, Bucket=B, Key="md5", Body=b"new", ContentMD5=wrong)
    eq(s3.get_object(Bucket=B, Key="md5")["Body"].read(), data, "old body kept")


def crc32c(data):
    from awscrt import checksums
    return checksums.crc32c(data)


def _crc64nvme_table():
    poly = int(format(0xAD93D23594C93659, "064b")[::-1], 2)  # reflected
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_T64 = _crc64nvme_table()


def crc64nvme(data):
    c = 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = _T64[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


def expected_checksums(data):
    return {
        "CRC32": b64(struct.pack(">I", zlib.crc32(data) & 0xFFFFFFFF)),
        "CRC32C": b64(struct.pack(">I", crc32c(data))),
        "SHA1": b64(hashlib.sha1(data).digest()),
        "SHA256": b64(hashlib.sha256(data).digest()),
        "CRC64NVME": b64(struct.pack(">Q", crc64nvme(data))),
    }


def test_flexible_checksums():
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888, "CRC64NVME reference implementation"
    data = os.urandom(200 * 1024) + b"checksummed"
    want = expected_checksums(data)
    for algo in ("CRC32", "CRC32C", "SHA1", "SHA256"):
        key = "ck/" + algo
        r = s3.put_object(Bucket=B, Key=key, Body=data, ChecksumAlgorithm=algo)
        eq(r.get("Checksum" + algo), want[algo], "PUT echoes " + algo)
        g = s3.get_object(Bucket=B, Key=key, ChecksumMode="ENABLED")
        eq(g.get("Checksum" + algo), want[algo], "GET returns " + algo)
        assert g["Body"].read() == data  # botocore validates the checksum while reading
        h = s3.head_object(Bucket=B, Key=key, ChecksumMode="ENABLED")
        eq(h.get("Checksum" + algo), want[algo], "HEAD returns " + algo)
        # Without checksum mode it is not sent.
        g = s3.get_object(Bucket=B, Key=key)
        assert "Checksum" + algo not in g, "checksum sent without x-amz-checksum-mode"
        # A value that does not match the body: BadDigest, nothing stored.
        bad = expected_checksums(b"other")[algo]
        e = expect_error("BadDigest", 400, s3.put_object, Bucket=B, Key=key + "-bad", Body=data,
                         **{"Checksum" + algo: bad})
        assert algo in e.response["Error"]["Message"], e.response["Error"]
        expect_error("404", 404, s3.head_object, Bucket=B, Key=key + "-bad")


def test_crc64nvme_by_hand():
    data = os.urandom(70000)
    want = expected_checksums(data)["CRC64NVME"]
    c = st.client()
    with_headers(c, "PutObject", {"x-amz-checksum-crc64nvme": want,
                                  "x-amz-sdk-checksum-algorithm": "CRC64NVME"})
    r = c.put_object(Bucket=B, Key="ck/crc64", Body=data)
    eq(r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-crc64nvme"), want, "PUT echo")
    g = s3.get_object(Bucket=B, Key="ck/crc64", ChecksumMode="ENABLED")
    eq(g["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-crc64nvme"), want, "GET")
    assert g["Body"].read() == data
    c2 = st.client()
    with_headers(c2, "PutObject", {"x-amz-checksum-crc64nvme": expected_checksums(b"x")["CRC64NVME"]})
    expect_error("BadDigest", 400, c2.put_object, Bucket=B, Key="ck/crc64-bad", Body=data)
    expect_error("404", 404, s3.head_object, Bucket=B, Key="ck/crc64-bad")


def test_two_checksum_headers_rejected():
    c = st.client()
    d = b"two"
    with_headers(c, "PutObject", {"x-amz-checksum-crc32": expected_checksums(d)["CRC32"],
                                  "x-amz-checksum-sha1": expected_checksums(d)["SHA1"]})
    expect_error("InvalidRequest", 400, c.put_object, Bucket=B, Key="ck/two", Body=d)


def test_delete_object():
    s3.put_object(Bucket=B, Key="del", Body=b"x")
    r = s3.delete_object(Bucket=B, Key="del")
    eq(r["ResponseMetadata"]["HTTPStatusCode"], 204, "DeleteObject status")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=B, Key="del")
    # Deleting an absent key is a success (204), as on AWS.
    eq(s3.delete_object(Bucket=B, Key="del")["ResponseMetadata"]["HTTPStatusCode"], 204, "again")


def test_get_missing_key_error_document():
    e = expect_error("NoSuchKey", 404, s3.get_object, Bucket=B, Key="no/such/key")
    eq(e.response["Error"].get("Key"), "no/such/key", "Key element of NoSuchKey")


def test_storage_class_echoed():
    s3.put_object(Bucket=B, Key="sc", Body=b"x", StorageClass="STANDARD_IA")
    eq(s3.head_object(Bucket=B, Key="sc").get("StorageClass"), "STANDARD_IA", "storage class")
    expect_error("InvalidStorageClass", 400, s3.put_object, Bucket=B, Key="sc2", Body=b"x",
                 StorageClass="NOPE")


def test_no_temp_files_left():
    eq(st.tmp_files(), [], "DIR/tmp after the tests")


cvstore.main(globals())
