"""Store + boto3: multipart uploads (complete, list parts, GetObject partNumber,
EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload, UploadPartCopy)
and CopyObject (directives, x-amz-copy-source-if-*)."""
import base64
import datetime
import hashlib
import os
import struct
import sys
import zlib

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, etag_of, expect_error, md5_hex  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
from botocore.exceptions import ClientError  # noqa: E402

st = cvstore.Store("multipart")
s3 = st.client()
B = "mp-bucket"
B2 = "mp-other"
s3.create_bucket(Bucket=B)
s3.create_bucket(Bucket=B2)
MIB = 1024 * 1024


def mp_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


def upload(key, parts, **create_kw):
    """Creates an upload and sends @parts (list of bytes); returns (upload id, [(n, etag)])."""
    uid = s3.create_multipart_upload(Bucket=B, Key=key, **create_kw)["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=i, Body=p)
        eq(r["ETag"], etag_of(p), "UploadPart ETag")
        done.append((i, r["ETag"]))
    return uid, done


def complete(key, uid, done):
    return s3.complete_multipart_upload(
        Bucket=B, Key=key, UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in done]})


def test_complete_and_read_parts():
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB + 3), b"z"]
    uid, done = upload("mp/three", parts, ContentType="application/x-mp",
                       Metadata={"kind": "multipart"})
    r = complete("mp/three", uid, done)
    eq(r["ETag"], mp_etag(parts), "CompleteMultipartUpload ETag")
    eq(r["Key"], "mp/three", "Complete Key")
    whole = b"".join(parts)
    g = s3.get_object(Bucket=B, Key="mp/three")
    assert g["Body"].read() == whole, "multipart body"
    eq((g["ETag"], g["ContentLength"], g["ContentType"], g["Metadata"]),
       (mp_etag(parts), len(whole), "application/x-mp", {"kind": "multipart"}), "GET headers")
    off = 0
    for n, p in enumerate(parts, 1):
        g = s3.get_object(Bucket=B, Key="mp/three", PartNumber=n)
        eq(g["ResponseMetadata"]["HTTPStatusCode"], 206, "part %d status" % n)
        eq(g["PartsCount"], 3, "x-amz-mp-parts-count")
        eq(g["ContentRange"], "bytes %d-%d/%d" % (off, off + len(p) - 1, len(whole)), "part range")
        assert g["Body"].read() == p, "part %d body" % n
        h = s3.head_object(Bucket=B, Key="mp/three", PartNumber=n)
        eq((h["ContentLength"], h["PartsCount"]), (len(p), 3), "HEAD part %d" % n)
        off += len(p)
    # A range across the part boundary.
    g = s3.get_object(Bucket=B, Key="mp/three", Range="bytes=%d-%d" % (5 * MIB - 10, 5 * MIB + 9))
    assert g["Body"].read() == whole[5 * MIB - 10:5 * MIB + 10], "range across parts"
    expect_error("InvalidArgument", 400, s3.get_object, Bucket=B, Key="mp/three", PartNumber=10001)
    # The upload is gone once completed.
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=B, Key="mp/three", UploadId=uid)


def test_part_number_beyond_count():
    # As ceph/s3-tests' test_multipart_get_part (checked against AWS) expects.
    s3.put_object(Bucket=B, Key="single", Body=b"one part")
    expect_error("InvalidPart", 400, s3.get_object, Bucket=B, Key="single", PartNumber=2)
    parts = [os.urandom(5 * MIB), b"x"]
    uid, done = upload("mp/two", parts)
    complete("mp/two", uid, done)
    expect_error("InvalidPart", 400, s3.get_object, Bucket=B, Key="mp/two", PartNumber=3)


def test_single_part_object_part_number_1():
    s3.put_object(Bucket=B, Key="single1", Body=b"one part")
    g = s3.get_object(Bucket=B, Key="single1", PartNumber=1)
    eq(g["Body"].read(), b"one part", "partNumber=1 of a simple object is the object")
    eq(g["PartsCount"], 1, "parts count 1")


def test_list_parts_paging_and_replace():
    parts = [os.urandom(1000 + i) for i in range(5)]
    uid, done = upload("mp/list", parts)
    # Re-uploading part 3 replaces it.
    p3 = os.urandom(4321)
    r = s3.upload_part(Bucket=B, Key="mp/list", UploadId=uid, PartNumber=3, Body=p3)
    eq(r["ETag"], etag_of(p3), "re-uploaded part ETag")
    r = s3.list_parts(Bucket=B, Key="mp/list", UploadId=uid, MaxParts=2)
    eq([p["PartNumber"] for p in r["Parts"]], [1, 2], "page 1")
    eq((r["IsTruncated"], r["NextPartNumberMarker"]), (True, 2), "page 1 truncated")
    r = s3.list_parts(Bucket=B, Key="mp/list", UploadId=uid, MaxParts=2, PartNumberMarker=2)
    eq([(p["PartNumber"], p["Size"], p["ETag"]) for p in r["Parts"]],
       [(3, 4321, etag_of(p3)), (4, 1003, etag_of(parts[3]))], "page 2 has the new part 3")
    r = s3.list_parts(Bucket=B, Key="mp/list", UploadId=uid, PartNumberMarker=4)
    eq(([p["PartNumber"] for p in r["Parts"]], r["IsTruncated"]), ([5], False), "last page")
    ups = s3.list_multipart_uploads(Bucket=B, Prefix="mp/list")["Uploads"]
    eq([(u["Key"], u["UploadId"]) for u in ups], [("mp/list", uid)], "ListMultipartUploads")
    s3.abort_multipart_upload(Bucket=B, Key="mp/list", UploadId=uid)
    eq(s3.list_multipart_uploads(Bucket=B, Prefix="mp/list").get("Uploads", []), [], "aborted")


def test_list_multipart_uploads():
    b = "mp-uploads"
    s3.create_bucket(Bucket=b)
    made = []
    for k in ["u/a", "u/a", "u/b", "u/c/d", "u/c/e", "u/d/f", "v"]:
        made.append((k, s3.create_multipart_upload(Bucket=b, Key=k)["UploadId"]))
    want = sorted(made)
    got, km, im, pages = [], None, None, 0
    while True:
        kw = {"KeyMarker": km, "UploadIdMarker": im} if km else {}
        r = s3.list_multipart_uploads(Bucket=b, MaxUploads=2, **kw)
        pages += 1
        got += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        if not r["IsTruncated"]:
            break
        km, im = r["NextKeyMarker"], r["NextUploadIdMarker"]
    eq(got, want, "every upload once, by key then id, over pages of 2")
    eq(pages, 4, "pages")
    # key-marker alone: only keys after it (not the other upload of that key).
    r = s3.list_multipart_uploads(Bucket=b, KeyMarker="u/a")
    eq([u["Key"] for u in r["Uploads"]], ["u/b", "u/c/d", "u/c/e", "u/d/f", "v"], "after key-marker u/a")
    r = s3.list_multipart_uploads(Bucket=b, Prefix="u/", Delimiter="/")
    eq([u["Key"] for u in r.get("Uploads", [])], ["u/a", "u/a", "u/b"], "uploads beside the prefixes")
    eq([p["Prefix"] for p in r.get("CommonPrefixes", [])], ["u/c/", "u/d/"], "common prefixes")
    eq((r.get("Prefix"), r.get("Delimiter")), ("u/", "/"), "Prefix and Delimiter echoed")
    # A page boundary inside a common prefix does not repeat it.
    seen, km, im = [], None, None
    while True:
        kw = {"KeyMarker": km, "UploadIdMarker": im} if km else {}
        r = s3.list_multipart_uploads(Bucket=b, Prefix="u/", Delimiter="/", MaxUploads=4, **kw)
        seen += [u["Key"] for u in r.get("Uploads", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        km, im = r["NextKeyMarker"], r["NextUploadIdMarker"]
    eq(sorted(seen), ["u/a", "u/a", "u/b", "u/c/", "u/d/"], "delimiter listing over pages")
    for k, uid in made:
        s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=uid)
    s3.delete_bucket(Bucket=b)


def crc32_b64(b):
    return base64.b64encode(struct.pack(">I", zlib.crc32(b) & 0xFFFFFFFF)).decode()


def checksummed_upload(key):
    parts = [os.urandom(5 * MIB), b"checksummed tail"]
    uid = s3.create_multipart_upload(Bucket=B, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    done = []
    for n, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=n, Body=p, ChecksumAlgorithm="CRC32")
        eq(r.get("ChecksumCRC32"), crc32_b64(p), "UploadPart CRC32")
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    return parts, uid, done


def test_multipart_part_checksums_listed():
    parts, uid, done = checksummed_upload("mp/ck-list")
    lp = s3.list_parts(Bucket=B, Key="mp/ck-list", UploadId=uid)
    eq([(p["PartNumber"], p.get("ChecksumCRC32")) for p in lp["Parts"]],
       [(1, crc32_b64(parts[0])), (2, crc32_b64(parts[1]))], "ListParts CRC32s")
    s3.abort_multipart_upload(Bucket=B, Key="mp/ck-list", UploadId=uid)


def test_multipart_composite_checksum():
    parts, uid, done = checksummed_upload("mp/ck")
    composite = "%s-2" % crc32_b64(b"".join(base64.b64decode(d["ChecksumCRC32"]) for d in done))
    r = s3.complete_multipart_upload(Bucket=B, Key="mp/ck", UploadId=uid, MultipartUpload={"Parts": done})
    eq(r.get("ChecksumCRC32"), composite, "CompleteMultipartUpload ChecksumCRC32")
    eq(s3.head_object(Bucket=B, Key="mp/ck", ChecksumMode="ENABLED").get("ChecksumCRC32"), composite,
       "HEAD composite checksum")


def test_multipart_wrong_part_checksum_refused():
    parts, uid, done = checksummed_upload("mp/ck-bad")
    done[0]["ChecksumCRC32"] = crc32_b64(b"not the part")
    try:
        s3.complete_multipart_upload(Bucket=B, Key="mp/ck-bad", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    except ClientError as e:
        eq(cvstore.http_status(e), 400, "refused completion")
        expect_error("404", 404, s3.head_object, Bucket=B, Key="mp/ck-bad")
        return
    raise AssertionError("a completion naming a wrong part checksum succeeded")


def test_entity_too_small():
    parts = [os.urandom(MIB), os.urandom(MIB)]
    uid, done = upload("mp/small", parts)
    expect_error("EntityTooSmall", 400, complete, "mp/small", uid, done)
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=B, Key="mp/small")
    # The upload survives a refused completion; a single small part is fine (it is the last).
    r = complete("mp/small", uid, done[:1])
    eq(r["ETag"], mp_etag(parts[:1]), "one small part completes")
    assert s3.get_object(Bucket=B, Key="mp/small")["Body"].read() == parts[0]


def test_invalid_part_and_order():
    parts = [os.urandom(5 * MIB), os.urandom(10)]
    uid, done = upload("mp/bad", parts)
    expect_error("InvalidPart", 400, complete, "mp/bad", uid, [(1, done[0][1]), (2, '"%s"' % ("0" * 32))])
    expect_error("InvalidPart", 400, complete, "mp/bad", uid, [(1, done[0][1]), (3, done[1][1])])
    expect_error("InvalidPartOrder", 400, complete, "mp/bad", uid, [done[1], done[0]])
    expect_error("MalformedXML", 400, complete, "mp/bad", uid, [])
    expect_error("404", 404, s3.head_object, Bucket=B, Key="mp/bad")
    eq(complete("mp/bad", uid, done)["ETag"], mp_etag(parts), "completes after the refusals")


def test_no_such_upload():
    bogus = "2~bogus-upload-id"
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=B, Key="k", UploadId=bogus,
                 PartNumber=1, Body=b"x")
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=B, Key="k", UploadId=bogus)
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=B, Key="k", UploadId=bogus)
    expect_error("NoSuchUpload", 404, complete, "k", bogus, [(1, '"%s"' % ("0" * 32))])
    # An upload id used with another key is not that key's upload.
    uid, done = upload("mp/owner", [b"p"])
    expect_error("NoSuchUpload", 404, complete, "mp/other-key", uid, done)
    # Part numbers out of range.
    expect_error("InvalidArgument", 400, s3.upload_part, Bucket=B, Key="mp/owner", UploadId=uid,
                 PartNumber=10001, Body=b"x")
    s3.abort_multipart_upload(Bucket=B, Key="mp/owner", UploadId=uid)
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=B, Key="mp/owner", UploadId=uid)


def test_subset_of_parts_leaves_no_files():
    files_before = set(st.object_files())
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(300 * 1024)]
    uid, done = upload("mp/subset", parts)
    r = complete("mp/subset", uid, [done[0], done[2]])
    eq(r["ETag"], mp_etag([parts[0], parts[2]]), "ETag of parts 1 and 3")
    assert s3.get_object(Bucket=B, Key="mp/subset")["Body"].read() == parts[0] + parts[2]
    # Part 2's file was dropped; the object's files are exactly parts 1 and 3.
    new = set(st.object_files()) - files_before
    eq(len(new), 2, "body files of the completed object (part 2 removed)")
    s3.delete_object(Bucket=B, Key="mp/subset")
    eq(set(st.object_files()) - files_before, set(), "files removed with the object")
    # An aborted upload leaves no file.
    uid, done = upload("mp/aborted", [os.urandom(400 * 1024)])
    s3.abort_multipart_upload(Bucket=B, Key="mp/aborted", UploadId=uid)
    eq(set(st.object_files()) - files_before, set(), "no file after abort")


def test_upload_part_copy():
    src = os.urandom(12 * MIB + 5)
    s3.put_object(Bucket=B2, Key="copy-src", Body=src)
    small = os.urandom(100)
    s3.put_object(Bucket=B, Key="copy-small", Body=small)
    uid = s3.create_multipart_upload(Bucket=B, Key="mp/copied")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=B, Key="mp/copied", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": B2, "Key": "copy-src"},
                             CopySourceRange="bytes=0-%d" % (6 * MIB - 1))
    eq(r1["CopyPartResult"]["ETag"], etag_of(src[:6 * MIB]), "UploadPartCopy ETag (range)")
    r2 = s3.upload_part_copy(Bucket=B, Key="mp/copied", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": B2, "Key": "copy-src"},
                             CopySourceRange="bytes=%d-%d" % (6 * MIB, len(src) - 1))
    r3 = s3.upload_part_copy(Bucket=B, Key="mp/copied", UploadId=uid, PartNumber=3,
                             CopySource="%s/copy-small" % B)
    eq(r3["CopyPartResult"]["ETag"], etag_of(small), "UploadPartCopy ETag (whole object)")
    expect_error("PreconditionFailed", 412, s3.upload_part_copy, Bucket=B, Key="mp/copied",
                 UploadId=uid, PartNumber=4, CopySource="%s/copy-small" % B,
                 CopySourceIfMatch='"0000"')
    # A range outside the source: AWS's documentation says InvalidRange (416), its servers
    # have also been seen answering InvalidArgument (400); either is an honest refusal.
    try:
        s3.upload_part_copy(Bucket=B, Key="mp/copied", UploadId=uid, PartNumber=4,
                            CopySource="%s/copy-small" % B, CopySourceRange="bytes=100-200")
        raise AssertionError("a copy range outside the source was accepted")
    except ClientError as e:
        assert (cvstore.error_code(e), cvstore.http_status(e)) in (
            ("InvalidRange", 416), ("InvalidArgument", 400)), e.response["Error"]
    expect_error("NoSuchKey", 404, s3.upload_part_copy, Bucket=B, Key="mp/copied",
                 UploadId=uid, PartNumber=4, CopySource="%s/absent" % B)
    parts = [(1, r1["CopyPartResult"]["ETag"]), (2, r2["CopyPartResult"]["ETag"]),
             (3, r3["CopyPartResult"]["ETag"])]
    r = complete("mp/copied", uid, parts)
    eq(r["ETag"], mp_etag([src[:6 * MIB], src[6 * MIB:], small]), "ETag of copied parts")
    assert s3.get_object(Bucket=B, Key="mp/copied")["Body"].read() == src + small, "copied body"


def test_copy_object_directives_and_conditions():
    body = os.urandom(300 * 1024)
    s3.put_object(Bucket=B, Key="cp/src", Body=body, ContentType="text/x-src",
                  Metadata={"a": "1"}, CacheControl="no-cache")
    h = s3.head_object(Bucket=B, Key="cp/src")
    etag, mtime = h["ETag"], h["LastModified"]
    r = s3.copy_object(Bucket=B2, Key="cp/dst", CopySource={"Bucket": B, "Key": "cp/src"})
    eq(r["CopyObjectResult"]["ETag"], etag, "CopyObject result ETag")
    h2 = s3.head_object(Bucket=B2, Key="cp/dst")
    eq((h2["ContentType"], h2["Metadata"], h2["CacheControl"], h2["ETag"]),
       ("text/x-src", {"a": "1"}, "no-cache", etag), "COPY directive keeps metadata")
    s3.copy_object(Bucket=B2, Key="cp/dst2", CopySource={"Bucket": B, "Key": "cp/src"},
                   MetadataDirective="REPLACE", ContentType="text/x-new", Metadata={"b": "2"})
    h3 = s3.head_object(Bucket=B2, Key="cp/dst2")
    eq((h3["ContentType"], h3["Metadata"], h3.get("CacheControl")), ("text/x-new", {"b": "2"}, None),
       "REPLACE directive")
    assert s3.get_object(Bucket=B2, Key="cp/dst2")["Body"].read() == body
    # Copy onto itself: only with REPLACE (else InvalidRequest).
    expect_error("InvalidRequest", 400, s3.copy_object, Bucket=B, Key="cp/src",
                 CopySource={"Bucket": B, "Key": "cp/src"})
    s3.copy_object(Bucket=B, Key="cp/src", CopySource={"Bucket": B, "Key": "cp/src"},
                   MetadataDirective="REPLACE", Metadata={"c": "3"})
    eq(s3.head_object(Bucket=B, Key="cp/src")["Metadata"], {"c": "3"}, "self-copy REPLACE")
    before = mtime - datetime.timedelta(hours=1)
    after = mtime + datetime.timedelta(hours=1)
    src = {"Bucket": B, "Key": "cp/src"}
    ok = [dict(CopySourceIfMatch=etag), dict(CopySourceIfNoneMatch='"other"'),
          dict(CopySourceIfModifiedSince=before), dict(CopySourceIfUnmodifiedSince=after)]
    bad = [dict(CopySourceIfMatch='"other"'), dict(CopySourceIfNoneMatch=etag),
           dict(CopySourceIfModifiedSince=after), dict(CopySourceIfUnmodifiedSince=before)]
    for i, cond in enumerate(ok):
        s3.copy_object(Bucket=B2, Key="cp/cond-ok-%d" % i, CopySource=src, **cond)
        eq(s3.head_object(Bucket=B2, Key="cp/cond-ok-%d" % i)["ETag"], etag, "copy with %s" % cond)
    for i, cond in enumerate(bad):
        expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=B2, Key="cp/cond-bad-%d" % i,
                     CopySource=src, **cond)
        expect_error("404", 404, s3.head_object, Bucket=B2, Key="cp/cond-bad-%d" % i)
    expect_error("NoSuchKey", 404, s3.copy_object, Bucket=B2, Key="x", CopySource={"Bucket": B, "Key": "nope"})
    expect_error("NoSuchBucket", 404, s3.copy_object, Bucket=B2, Key="x",
                 CopySource={"Bucket": "no-such-bucket-here", "Key": "k"})


def test_copy_of_multipart_object():
    parts = [os.urandom(5 * MIB), os.urandom(1234)]
    uid, done = upload("mp/for-copy", parts)
    complete("mp/for-copy", uid, done)
    s3.copy_object(Bucket=B2, Key="copied-mp", CopySource={"Bucket": B, "Key": "mp/for-copy"})
    got = s3.get_object(Bucket=B2, Key="copied-mp")["Body"].read()
    eq(md5_hex(got), md5_hex(b"".join(parts)), "copy of a multipart object")


def test_tmp_empty():
    eq(st.tmp_files(), [], "DIR/tmp")


cvstore.main(globals())
