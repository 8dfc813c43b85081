"""Store + boto3: bucket versioning. PutBucketVersioning / GetBucketVersioning,
version ids on writes, GET/HEAD/DELETE ?versionId=, delete markers, the
Suspended "null" version, ListObjectVersions (order, IsLatest, paging,
prefixes), DeleteObjects with VersionId, DeleteBucket while versions remain,
the *Version permissions, and crash safety of the version move: after a
SIGKILL every listed version reads back whole and no body file is lost or
left over."""
import hashlib
import json
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, etag_of, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
from botocore.exceptions import ClientError  # noqa: E402

st = cvstore.Store("versioning")
s3 = st.client()
VID = re.compile(r"^[0-9a-f]{32}$")
BIG = 300 * 1024  # above the inline limit: a body file


def bucket(name, status="Enabled"):
    s3.create_bucket(Bucket=name)
    if status:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    return name


def versions(b, **kw):
    r = s3.list_object_versions(Bucket=b, **kw)
    return r.get("Versions", []), r.get("DeleteMarkers", []), r


def all_versions(b):
    vs, dms = [], []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=b):
        vs += page.get("Versions", [])
        dms += page.get("DeleteMarkers", [])
    return vs, dms


def read(b, k, vid=None):
    kw = {"VersionId": vid} if vid else {}
    return s3.get_object(Bucket=b, Key=k, **kw)["Body"].read()


def test_get_versioning_before_and_after_put():
    b = bucket("ver-state", None)
    r = s3.get_bucket_versioning(Bucket=b)
    assert "Status" not in r, "no Status before the first put: %r" % r
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    eq(s3.get_bucket_versioning(Bucket=b).get("Status"), "Enabled", "after Enabled")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    eq(s3.get_bucket_versioning(Bucket=b).get("Status"), "Suspended", "after Suspended")
    expect_error("NotImplemented", 501, s3.put_bucket_versioning, Bucket=b,
                 VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                 MFA="SERIAL 123456")
    eq(s3.get_bucket_versioning(Bucket=b).get("Status"), "Suspended", "MFA refusal changed nothing")


def test_put_creates_versions_and_keeps_bodies():
    b = bucket("ver-put")
    files0 = len(st.object_files())
    bodies = [os.urandom(BIG) + b"v%d" % i for i in range(3)]
    vids = [s3.put_object(Bucket=b, Key="k", Body=x)["VersionId"] for x in bodies]
    for v in vids:
        assert VID.match(v), "version id %r" % v
    eq(len(set(vids)), 3, "distinct ids")
    eq(sorted(vids), vids, "ids are time-ordered")
    eq(len(st.object_files()) - files0, 3, "every version keeps its body file")
    for v, x in zip(vids, bodies):
        assert read(b, "k", v) == x, "body of version %s" % v
    g = s3.get_object(Bucket=b, Key="k")
    eq(g["VersionId"], vids[-1], "current version id on GET")
    assert g["Body"].read() == bodies[-1], "GET without versionId reads the latest"
    eq(s3.head_object(Bucket=b, Key="k", VersionId=vids[0])["ETag"], etag_of(bodies[0]), "HEAD old")
    vs, dms, _ = versions(b)
    eq([v["VersionId"] for v in vs], vids[::-1], "newest first")
    eq([v["IsLatest"] for v in vs], [True, False, False], "IsLatest")
    eq(dms, [], "no markers")
    # Deleting a noncurrent version leaves the current one alone.
    s3.delete_object(Bucket=b, Key="k", VersionId=vids[1])
    eq(s3.head_object(Bucket=b, Key="k")["VersionId"], vids[-1], "current unchanged")
    eq([v["VersionId"] for v in versions(b)[0]], [vids[2], vids[0]], "middle version gone")
    eq(len(st.object_files()) - files0, 2, "its body file unlinked")


def test_bad_and_missing_version_ids():
    b = bucket("ver-bad")
    s3.put_object(Bucket=b, Key="k", Body=b"x")
    expect_error("InvalidArgument", 400, s3.get_object, Bucket=b, Key="k", VersionId="bogus")
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=b, Key="k",
                 VersionId="0" * 32)


def test_delete_marker_and_restore():
    b = bucket("ver-del")
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    d = s3.delete_object(Bucket=b, Key="k")
    eq(d.get("DeleteMarker"), True, "DELETE answers x-amz-delete-marker")
    dm = d["VersionId"]
    assert VID.match(dm), "marker version id %r" % dm
    e = expect_error("NoSuchKey", 404, s3.get_object, Bucket=b, Key="k")
    eq(e.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker"), "true",
       "404 names the delete marker")
    eq(read(b, "k", v1), b"one", "old version still readable")
    eq(s3.list_objects_v2(Bucket=b).get("KeyCount"), 0, "listing hides the deleted key")
    vs, dms, _ = versions(b)
    eq([(m["VersionId"], m["IsLatest"]) for m in dms], [(dm, True)], "marker listed as latest")
    eq([(v["VersionId"], v["IsLatest"]) for v in vs], [(v1, False)], "version noncurrent")
    # Removing the marker makes the version current again.
    d = s3.delete_object(Bucket=b, Key="k", VersionId=dm)
    eq(d.get("DeleteMarker"), True, "deleting a marker says so")
    eq(d.get("VersionId"), dm, "and names it")
    eq(read(b, "k"), b"one", "version current again")
    eq([o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]], ["k"], "listed again")


def test_delete_version_for_good():
    b = bucket("ver-purge")
    files0 = len(st.object_files())
    v1 = s3.put_object(Bucket=b, Key="k", Body=os.urandom(BIG))["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"two" * 100000)["VersionId"]
    eq(len(st.object_files()) - files0, 2, "two body files")
    s3.delete_object(Bucket=b, Key="k", VersionId=v2)
    eq(len(st.object_files()) - files0, 1, "the deleted version's body is unlinked")
    eq(s3.head_object(Bucket=b, Key="k")["VersionId"], v1, "next newest became current")
    s3.delete_object(Bucket=b, Key="k", VersionId=v1)
    eq(len(st.object_files()) - files0, 0, "all bodies gone")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=b, Key="k")
    vs, dms, _ = versions(b)
    eq((vs, dms), ([], []), "nothing left")
    s3.delete_bucket(Bucket=b)


def test_suspended_null_version():
    b = bucket("ver-susp")
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"enabled")["VersionId"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    r = s3.put_object(Bucket=b, Key="k", Body=b"null-1")
    assert "VersionId" not in r, "no version id header on a Suspended write (s3-tests)"
    eq(s3.head_object(Bucket=b, Key="k")["VersionId"], "null", "HEAD names the null version")
    files0 = len(st.object_files())
    s3.put_object(Bucket=b, Key="k", Body=os.urandom(BIG))
    s3.put_object(Bucket=b, Key="k", Body=os.urandom(BIG))
    eq(len(st.object_files()) - files0, 1, "a new null version retires the old one's body")
    vs, _, _ = versions(b)
    eq([v["VersionId"] for v in vs], ["null", v1], "one null version and the enabled one")
    eq(read(b, "k", v1), b"enabled", "enabled version kept")
    d = s3.delete_object(Bucket=b, Key="k")
    eq((d.get("DeleteMarker"), d.get("VersionId")), (True, "null"), "null delete marker")
    vs, dms, _ = versions(b)
    eq([v["VersionId"] for v in vs], [v1], "the null version was replaced by the marker")
    eq([m["VersionId"] for m in dms], ["null"], "null marker")


def test_unversioned_bucket_unchanged():
    b = bucket("ver-off", None)
    r = s3.put_object(Bucket=b, Key="k", Body=b"a")
    assert "VersionId" not in r, "no version id on an unversioned bucket"
    s3.put_object(Bucket=b, Key="k", Body=b"b")
    vs, dms, _ = versions(b)
    eq([(v["VersionId"], v["IsLatest"]) for v in vs], [("null", True)], "one null version")
    d = s3.delete_object(Bucket=b, Key="k")
    assert not d.get("DeleteMarker"), "no marker on an unversioned bucket"
    eq(versions(b)[:2], ([], []), "gone for good")


def test_copy_from_version_and_multipart():
    b = bucket("ver-copy")
    v1 = s3.put_object(Bucket=b, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=b, Key="src", Body=b"second")
    c = s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src", "VersionId": v1})
    assert VID.match(c["VersionId"]), "copy made a version"
    eq(c.get("CopySourceVersionId"), v1, "source version echoed")
    eq(read(b, "dst"), b"first", "copied the named version")
    u = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    p = s3.upload_part(Bucket=b, Key="mp", UploadId=u, PartNumber=1, Body=b"x" * (5 << 20))
    m = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=u, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    assert VID.match(m["VersionId"]), "multipart made a version"
    s3.put_object(Bucket=b, Key="mp", Body=b"small")
    eq(len(read(b, "mp", m["VersionId"])), 5 << 20, "noncurrent multipart version readable")
    s3.delete_object(Bucket=b, Key="mp")
    eq(len(read(b, "mp", m["VersionId"])), 5 << 20, "still readable behind a marker")


def test_list_paging_prefix_delimiter():
    b = bucket("ver-list")
    want = []
    for k in ("a", "d/1", "d/2", "z"):
        for i in range(3):
            want.append((k, s3.put_object(Bucket=b, Key=k, Body=b"%s%d" % (k.encode(), i))["VersionId"]))
    s3.delete_object(Bucket=b, Key="z")
    got, km, vm = [], None, None
    while True:
        kw = {"MaxKeys": 2}
        if km:
            kw.update(KeyMarker=km, VersionIdMarker=vm)
        r = s3.list_object_versions(Bucket=b, **kw)
        page = [(x["Key"], x["VersionId"], x["IsLatest"]) for x in r.get("Versions", []) + r.get("DeleteMarkers", [])]
        assert len(page) <= 2, "page size"
        got += page
        if not r["IsTruncated"]:
            break
        km, vm = r["NextKeyMarker"], r["NextVersionIdMarker"]
    keys = [g[0] for g in got]
    eq(keys, sorted(keys), "key order across pages")
    eq(len(got), 13, "12 versions and a marker")
    latest = [(g[0], g[2]) for g in got if g[2]]
    eq([x[0] for x in latest], ["a", "d/1", "d/2", "z"], "one latest per key")
    r = s3.list_object_versions(Bucket=b, Delimiter="/")
    eq([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["d/"], "common prefix")
    eq(sorted({v["Key"] for v in r["Versions"]}), ["a", "z"], "versions outside the prefix")
    r = s3.list_object_versions(Bucket=b, Prefix="d/")
    eq(len(r["Versions"]), 6, "prefix filter")
    eq([o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]], ["a", "d/1", "d/2"],
       "ListObjectsV2 shows current, non-deleted objects")


def test_delete_objects_with_version_ids_and_delete_bucket():
    b = bucket("ver-multi")
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"2")["VersionId"]
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k"}]})
    dm = r["Deleted"][0]["DeleteMarkerVersionId"]
    eq(r["Deleted"][0].get("DeleteMarker"), True, "marker made")
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=b)
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [
        {"Key": "k", "VersionId": v} for v in (v1, v2, dm)]})
    eq(sorted(d["VersionId"] for d in r["Deleted"]), sorted([v1, v2, dm]), "each version deleted")
    eq(versions(b)[:2], ([], []), "nothing left")
    s3.delete_bucket(Bucket=b)


def test_version_permissions():
    b = bucket("ver-perm")
    akid, secret, acct = st.add_account("verother")
    other = st.client(akid, secret)
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=b, Key="k", Body=b"2")
    pol = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct},
        "Action": ["s3:GetObject", "s3:DeleteObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::%s" % b, "arn:aws:s3:::%s/*" % b]}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(pol))
    eq(other.get_object(Bucket=b, Key="k")["Body"].read(), b"2", "GetObject allowed")
    expect_error("AccessDenied", 403, other.get_object, Bucket=b, Key="k", VersionId=v1)
    expect_error("AccessDenied", 403, other.delete_object, Bucket=b, Key="k", VersionId=v1)
    expect_error("AccessDenied", 403, other.list_object_versions, Bucket=b)
    expect_error("AccessDenied", 403, other.put_bucket_versioning, Bucket=b,
                 VersioningConfiguration={"Status": "Suspended"})
    pol["Statement"][0]["Action"] += ["s3:GetObjectVersion", "s3:DeleteObjectVersion",
                                      "s3:ListBucketVersions"]
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(pol))
    eq(other.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read(), b"1", "GetObjectVersion")
    eq(len(other.list_object_versions(Bucket=b)["Versions"]), 2, "ListBucketVersions")
    other.delete_object(Bucket=b, Key="k", VersionId=v1)
    eq(len(versions(b)[0]), 1, "DeleteObjectVersion")


def test_crash_during_version_writes():
    """Writers PUT and DELETE on a versioned bucket while the store is
    SIGKILLed; after each restart every listed version reads back whole (its
    MD5 is its ETag), each key has one latest, and the body files on disk
    are exactly those the versions refer to."""
    global s3
    b = bucket("ver-crash")
    files0 = len(st.object_files())
    rng = random.Random(int(time.time()))
    for cycle in range(3):
        stop = threading.Event()
        cl = st.client()

        def writer(w):
            r = random.Random(rng.random())
            while not stop.is_set():
                k = "w%d/k%d" % (w, r.randint(0, 2))
                try:
                    if r.random() < 0.2:
                        cl.delete_object(Bucket=b, Key=k)
                    else:
                        size = r.choice([10, 1000, BIG, BIG * 3])
                        cl.put_object(Bucket=b, Key=k, Body=os.urandom(size))
                except Exception:  # noqa: BLE001 - the store dies under us
                    return
        ts = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in ts:
            t.start()
        time.sleep(0.5 + rng.random())
        st.kill()
        stop.set()
        for t in ts:
            t.join()
        st.start()
        s3 = st.client()  # a new port
        vs, dms = all_versions(b)
        for v in vs:
            body = read(b, v["Key"], v["VersionId"])
            eq('"%s"' % hashlib.md5(body).hexdigest(), v["ETag"], "version %s whole" % v["VersionId"])
        latest = {}
        for x in vs + dms:
            if x["IsLatest"]:
                assert x["Key"] not in latest, "two latest versions of %s" % x["Key"]
                latest[x["Key"]] = x
        eq(sorted(latest), sorted({x["Key"] for x in vs + dms}), "every key has a latest")
        eq(st.tmp_files(), [], "DIR/tmp empty after restart")
    # Files on disk: those of the versions (bodies above the inline limit), nothing more.
    big = sum(1 for v in all_versions(b)[0] if v["Size"] >= BIG)
    eq(len(st.object_files()) - files0, big, "body files of the crash bucket")


def test_object_attributes_of_versions():
    b = bucket("ver-attrs")
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="k", Body=b"three")["VersionId"]
    a = s3.get_object_attributes(Bucket=b, Key="k", ObjectAttributes=["ObjectSize", "ETag"])
    eq((a["VersionId"], a["ObjectSize"]), (v2, 5), "current version's attributes")
    a = s3.get_object_attributes(Bucket=b, Key="k", VersionId=v1, ObjectAttributes=["ObjectSize"])
    eq((a["VersionId"], a["ObjectSize"]), (v1, 3), "old version's attributes")
    m = s3.delete_object(Bucket=b, Key="k")["VersionId"]
    expect_error("NoSuchKey", 404, s3.get_object_attributes, Bucket=b, Key="k",
                 ObjectAttributes=["ObjectSize"])
    expect_error("MethodNotAllowed", 405, s3.get_object_attributes, Bucket=b, Key="k",
                 VersionId=m, ObjectAttributes=["ObjectSize"])
    expect_error("NoSuchVersion", 404, s3.get_object_attributes, Bucket=b, Key="k",
                 VersionId="0" * 32, ObjectAttributes=["ObjectSize"])


def test_no_temp_files_left():
    eq(st.tmp_files(), [], "DIR/tmp after the tests")


cvstore.main(globals())
