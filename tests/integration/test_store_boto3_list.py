"""Store + boto3: listings and keys. ListObjectsV2 paging (continuation
tokens, delimiter, start-after, encoding-type=url) over a few hundred keys,
ListObjects v1 with markers, ListObjectVersions (VersionId null),
DeleteObjects quiet and verbose, keys that look like paths or are odd
(../../x, a//b, ., spaces, unicode, 1024 bytes; 1025 -> KeyTooLongError)."""
import os
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, etag_of, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")

st = cvstore.Store("list")
s3 = st.client(max_pool_connections=16)
B = "list-bucket"
s3.create_bucket(Bucket=B)


def byte_order(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


# A few hundred keys: flat ones, two levels of folders, odd characters.
KEYS = ["flat-%03d" % i for i in range(120)]
KEYS += ["dir%d/sub%d/obj-%02d" % (d, s, i) for d in range(4) for s in range(3) for i in range(12)]
KEYS += ["dir%d/top-%d" % (d, i) for d in range(4) for i in range(5)]
KEYS += ["odd/sp ace", "odd/plus+sign", "odd/percent%20", "odd/amp&lt;", "odd/quote\"'",
         "odd/caf\u00e9", "odd/\u65e5\u672c", "odd/emoji-\U0001F600", "odd/tab\there",
         "odd/ctrl\x01char", "odd/a//b", "odd/trailing/"]
BODIES = {k: ("body of " + k).encode() for k in KEYS}


def put_all():
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=B, Key=k, Body=BODIES[k]), KEYS))


put_all()


def list_v2_all(**kw):
    """Pages through ListObjectsV2 by hand; returns (keys, prefixes, pages)."""
    keys, prefixes, pages = [], [], 0
    token = None
    while True:
        args = dict(kw)
        if token:
            args["ContinuationToken"] = token
        r = s3.list_objects_v2(Bucket=B, **args)
        pages += 1
        contents = r.get("Contents", [])
        cps = r.get("CommonPrefixes", [])
        eq(r["KeyCount"], len(contents) + len(cps), "KeyCount")
        assert len(contents) + len(cps) <= kw.get("MaxKeys", 1000), "page over MaxKeys"
        keys += [c["Key"] for c in contents]
        prefixes += [c["Prefix"] for c in cps]
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r, "token on the last page"
            break
        token = r["NextContinuationToken"]
        assert token, "truncated without a token"
        assert pages < 1000, "paging does not end"
    return keys, prefixes, pages


def test_list_v2_paging_all_keys():
    keys, prefixes, pages = list_v2_all(MaxKeys=37)
    eq(keys, byte_order(KEYS), "all keys in byte order")
    eq(prefixes, [], "no prefixes without delimiter")
    eq(pages, (len(KEYS) + 36) // 37, "pages")
    r = s3.list_objects_v2(Bucket=B, Prefix="flat-00")
    for c in r["Contents"]:
        eq(c["ETag"], etag_of(BODIES[c["Key"]]), "listed ETag")
        eq(c["Size"], len(BODIES[c["Key"]]), "listed Size")
        eq(c["StorageClass"], "STANDARD", "listed StorageClass")


def test_list_v2_delimiter():
    keys, prefixes, _ = list_v2_all(Delimiter="/", MaxKeys=50)
    eq(keys, byte_order([k for k in KEYS if "/" not in k]), "top-level keys")
    eq(prefixes, ["dir0/", "dir1/", "dir2/", "dir3/", "odd/"], "top-level prefixes")
    # Paging where the page boundary falls on prefixes.
    keys, prefixes, pages = list_v2_all(Delimiter="/", Prefix="dir1/", MaxKeys=2)
    eq(prefixes, ["dir1/sub0/", "dir1/sub1/", "dir1/sub2/"], "dir1 prefixes")
    eq(keys, ["dir1/top-%d" % i for i in range(5)], "dir1 keys")
    eq(pages, 4, "dir1 pages of 2")
    keys, prefixes, _ = list_v2_all(Delimiter="/", Prefix="odd/")
    eq(keys, byte_order([k for k in KEYS if k.startswith("odd/") and k.count("/") == 1]), "odd/ keys")
    eq(prefixes, ["odd/a/", "odd/trailing/"], "odd/ prefixes (a//b folds at the first /)")
    # A multi-character delimiter.
    keys, prefixes, _ = list_v2_all(Delimiter="/sub1/", Prefix="dir2")
    eq(prefixes, ["dir2/sub1/"], "multi-char delimiter prefix")
    eq(len(keys), 12 * 2 + 5, "multi-char delimiter keys")


def test_list_v2_start_after():
    ordered = byte_order(KEYS)
    keys, _, _ = list_v2_all(StartAfter="flat-050", MaxKeys=100)
    eq(keys, [k for k in ordered if k.encode() > b"flat-050"], "start-after")
    keys, _, _ = list_v2_all(StartAfter="flat-0505", Prefix="flat-")
    eq(keys, [k for k in ordered if k.startswith("flat-") and k > "flat-0505"], "start-after not a key")
    keys, prefixes, _ = list_v2_all(StartAfter="dir1/sub1/obj-03", Prefix="dir1/", Delimiter="/")
    eq(prefixes, ["dir1/sub2/"], "start-after inside a common prefix skips it")
    eq(keys, ["dir1/top-%d" % i for i in range(5)], "keys after it")
    r = s3.list_objects_v2(Bucket=B, StartAfter="\U0001F600")
    eq(r["KeyCount"], 0, "start-after beyond every key")


def test_list_v2_encoding_type_url():
    # Explicit EncodingType: botocore leaves the keys as the store sent them.
    r = s3.list_objects_v2(Bucket=B, Prefix="odd/", EncodingType="url")
    eq(r.get("EncodingType"), "url", "EncodingType echoed")
    raw = [c["Key"] for c in r["Contents"]]
    for k in raw:
        assert all(0x21 <= ord(ch) < 0x7F for ch in k), "not URL-encoded: %r" % k
    eq([urllib.parse.unquote_plus(k) for k in raw],
       byte_order([k for k in KEYS if k.startswith("odd/")]), "decoded keys")
    eq(urllib.parse.unquote_plus(r["Prefix"]), "odd/", "encoded Prefix")
    r = s3.list_objects_v2(Bucket=B, Prefix="odd/", Delimiter="/", EncodingType="url")
    eq([urllib.parse.unquote_plus(p["Prefix"]) for p in r["CommonPrefixes"]],
       ["odd/a/", "odd/trailing/"], "encoded CommonPrefixes")
    expect_error("InvalidArgument", 400, s3.list_objects_v2, Bucket=B, EncodingType="base64")


def test_list_v2_fetch_owner_and_max_keys():
    r = s3.list_objects_v2(Bucket=B, MaxKeys=3, FetchOwner=True)
    assert all("Owner" in c and c["Owner"].get("ID") for c in r["Contents"]), "FetchOwner"
    r = s3.list_objects_v2(Bucket=B, MaxKeys=3)
    assert all("Owner" not in c for c in r["Contents"]), "Owner without FetchOwner"
    r = s3.list_objects_v2(Bucket=B, MaxKeys=0)
    eq((r["KeyCount"], r.get("Contents")), (0, None), "MaxKeys=0")
    r = s3.list_objects_v2(Bucket=B, MaxKeys=100000)
    eq((len(r["Contents"]), r["IsTruncated"]), (len(KEYS), False), "MaxKeys over 1000")
    expect_error("InvalidArgument", 400, s3.list_objects_v2, Bucket=B, ContinuationToken="garbage!")


def test_list_v1_marker():
    ordered = byte_order(KEYS)
    got, marker, pages = [], "", 0
    while True:
        r = s3.list_objects(Bucket=B, Marker=marker, MaxKeys=45)
        pages += 1
        page = [c["Key"] for c in r.get("Contents", [])]
        got += page
        if not r["IsTruncated"]:
            break
        marker = r.get("NextMarker") or page[-1]
    eq(got, ordered, "v1 paging with markers")
    eq(pages, (len(KEYS) + 44) // 45, "v1 pages")
    r = s3.list_objects(Bucket=B, Delimiter="/", MaxKeys=2, Prefix="dir0/")
    eq(r["IsTruncated"], True, "v1 truncated")
    eq(r["NextMarker"], "dir0/sub1/", "v1 NextMarker with a delimiter is the last prefix")
    r2 = s3.list_objects(Bucket=B, Delimiter="/", Prefix="dir0/", Marker=r["NextMarker"])
    eq([p["Prefix"] for p in r2.get("CommonPrefixes", [])], ["dir0/sub2/"], "v1 after NextMarker")
    eq(r2["Contents"][0]["Key"], "dir0/top-0", "v1 keys after the prefixes")
    assert r2["Contents"][0]["Owner"]["ID"], "v1 lists the Owner"


def test_list_object_versions():
    r = s3.list_object_versions(Bucket=B, Prefix="dir3/sub0/")
    vs = r["Versions"]
    eq([v["Key"] for v in vs], ["dir3/sub0/obj-%02d" % i for i in range(12)], "versions keys")
    for v in vs:
        eq((v["VersionId"], v["IsLatest"]), ("null", True), "VersionId null, IsLatest")
        eq(v["ETag"], etag_of(BODIES[v["Key"]]), "version ETag")
    assert "DeleteMarkers" not in r
    got, km = [], None
    while True:
        kw = {"KeyMarker": km} if km else {}
        r = s3.list_object_versions(Bucket=B, MaxKeys=100, **kw)
        got += [v["Key"] for v in r.get("Versions", [])]
        if not r["IsTruncated"]:
            break
        km = r["NextKeyMarker"]
    eq(got, byte_order(KEYS), "ListObjectVersions paging")
    eq(s3.get_bucket_versioning(Bucket=B).get("Status"), None, "unversioned bucket")


def test_delete_objects_verbose_and_quiet():
    for i in range(5):
        s3.put_object(Bucket=B, Key="del/%d" % i, Body=b"x")
    r = s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "del/0"}, {"Key": "del/1"},
                                                        {"Key": "del/absent"}]})
    eq(sorted(d["Key"] for d in r["Deleted"]), ["del/0", "del/1", "del/absent"], "verbose Deleted")
    assert "Errors" not in r, r.get("Errors")
    r = s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "del/2"}, {"Key": "del/3"}],
                                            "Quiet": True})
    assert "Deleted" not in r, "quiet mode lists deletions: %r" % r.get("Deleted")
    left = [c["Key"] for c in s3.list_objects_v2(Bucket=B, Prefix="del/")["Contents"]]
    eq(left, ["del/4"], "what is left")
    # With VersionId null (what versioning-aware clients send).
    r = s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "del/4", "VersionId": "null"}]})
    eq([d["Key"] for d in r["Deleted"]], ["del/4"], "delete with VersionId null")
    eq(s3.list_objects_v2(Bucket=B, Prefix="del/")["KeyCount"], 0, "all deleted")


def test_delete_objects_many():
    b = "many-keys"
    s3.create_bucket(Bucket=b)
    keys = ["many/%04d" % i for i in range(1001)]
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=b, Key=k, Body=b""), keys))
    r = s3.list_objects_v2(Bucket=b)
    eq((r["KeyCount"], r["IsTruncated"], r["Contents"][-1]["Key"]), (1000, True, "many/0999"),
       "a listing page holds at most 1000 keys")
    r = s3.list_objects_v2(Bucket=b, ContinuationToken=r["NextContinuationToken"])
    eq([c["Key"] for c in r["Contents"]], ["many/1000"], "second page")
    # More than 1000 keys in one DeleteObjects is refused; nothing is deleted.
    expect_error("MalformedXML", 400, s3.delete_objects, Bucket=b,
                 Delete={"Objects": [{"Key": k} for k in keys]})
    eq(s3.list_objects_v2(Bucket=b, MaxKeys=1)["KeyCount"], 1, "nothing deleted")
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in keys[:1000]]})
    eq(len(r["Deleted"]), 1000, "1000 deleted")
    s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": keys[1000]}]})
    eq(s3.list_objects_v2(Bucket=b)["KeyCount"], 0, "none left")
    s3.delete_bucket(Bucket=b)


ODD_KEYS = ["../../x", "../x", "a//b", "//lead", ".", "..", "./.", "sp ace", "  two  spaces  ",
            "q?uery", "h#ash", "per%cent", "plus+plus", "semi;colon", "eq=ual&amp",
            "back\\slash", "caf\u00e9/\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9", "\u4e2d\u6587",
            "emoji \U0001F680", "tilde~", "star*", "<angle>", "new\nline", "k" * 1024,
            "\u00e9" * 512]


def test_odd_keys_are_plain_keys():
    b = "odd-keys"
    s3.create_bucket(Bucket=b)
    for k in ODD_KEYS:
        body = ("content of %r" % k).encode()
        s3.put_object(Bucket=b, Key=k, Body=body)
        got = s3.get_object(Bucket=b, Key=k)["Body"].read()
        eq(got, body, "GET of %r" % k[:40])
        eq(s3.head_object(Bucket=b, Key=k)["ContentLength"], len(body), "HEAD of %r" % k[:40])
    listed = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b):
        listed += [c["Key"] for c in page.get("Contents", [])]
    eq(listed, byte_order(ODD_KEYS), "odd keys listed as themselves, in byte order")
    # Nothing escaped the data folder: bodies are files named by random ids.
    for name in os.listdir(st.dir):
        assert name in ("meta.db", "meta.db-wal", "meta.db-shm", "objects", "tmp", "master.key",
                        "root-credentials", "endpoint", "lock"), "unexpected file %s" % name
    assert not os.path.exists(os.path.join(st.tmp, "x")), "../../x escaped"
    for k in ODD_KEYS:
        s3.delete_object(Bucket=b, Key=k)
    s3.delete_bucket(Bucket=b)


def test_key_length_limit():
    k1024 = "\u00e9" * 511 + "ab"  # 1024 bytes of UTF-8
    eq(len(k1024.encode()), 1024, "test key length")
    s3.put_object(Bucket=B, Key=k1024, Body=b"max")
    eq(s3.get_object(Bucket=B, Key=k1024)["Body"].read(), b"max", "1024-byte key")
    e = expect_error("KeyTooLongError", 400, s3.put_object, Bucket=B, Key="k" * 1025, Body=b"x")
    eq(e.response["Error"].get("Size"), "1025", "KeyTooLongError Size")
    expect_error("KeyTooLongError", 400, s3.put_object, Bucket=B, Key=k1024 + "x", Body=b"x")
    expect_error("KeyTooLongError", 400, s3.get_object, Bucket=B, Key="k" * 1025)
    s3.delete_object(Bucket=B, Key=k1024)


def test_tmp_empty():
    eq(st.tmp_files(), [], "DIR/tmp")


cvstore.main(globals())
