"""Store + boto3 + raw HTTP: CORS (bucket configuration, OPTIONS preflight,
Access-Control-* headers on ordinary requests), GetObjectAttributes and
bucket tagging."""
import json
import os
import sys

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")

st = cvstore.Store("cors")
s3 = st.client()
B = "cors-bucket"
s3.create_bucket(Bucket=B)
s3.delete_public_access_block(Bucket=B)  # new buckets block public policies
# Anonymous GetObject/ListBucket through a bucket policy, so that browsers'
# unsigned requests get answers with CORS headers.
s3.put_bucket_policy(Bucket=B, Policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                   "Resource": ["arn:aws:s3:::%s" % B, "arn:aws:s3:::%s/*" % B]}]}))
s3.put_object(Bucket=B, Key="hello", Body=b"hello")

RULES = {"CORSRules": [
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*suffix"], "ExposeHeaders": ["x-amz-meta-a"],
     "MaxAgeSeconds": 300},
    {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["start*end"],
     "AllowedHeaders": ["x-amz-*", "content-type"]},
    {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*.put"], "ID": "writers"},
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
]}


def anon(method, path, headers=None):
    return st.request(method, path, headers=headers or {}, sign=False)


def test_no_configuration():
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=B)
    status, h, _ = anon("OPTIONS", "/%s/hello" % B,
                        {"Origin": "a.suffix", "Access-Control-Request-Method": "GET"})
    eq(status, 403, "preflight without a configuration")
    assert "access-control-allow-origin" not in h, h


def test_put_get_round_trip():
    s3.put_bucket_cors(Bucket=B, CORSConfiguration=RULES)
    got = s3.get_bucket_cors(Bucket=B)["CORSRules"]
    eq(len(got), 4, "rules kept")
    eq(got[0]["AllowedOrigins"], ["*suffix"], "origins")
    eq(got[0]["ExposeHeaders"], ["x-amz-meta-a"], "expose headers")
    eq(got[0]["MaxAgeSeconds"], 300, "max age")
    eq(got[1]["AllowedMethods"], ["GET", "HEAD"], "methods in order")
    eq(got[2]["ID"], "writers", "rule id")


def test_invalid_configurations():
    bad = [
        ({"CORSRules": [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]}, "InvalidRequest"),
        ({"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*a*"]}]}, "InvalidRequest"),
        ({"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["x"],
                         "AllowedHeaders": ["*a*"]}]}, "InvalidRequest"),
    ]
    for cfg, code in bad:
        expect_error(code, 400, s3.put_bucket_cors, Bucket=B, CORSConfiguration=cfg)
    # Missing AllowedOrigin: the XML does not validate.
    status, _, body = st.request("PUT", "/" + B, query="cors=",
                                 body=b"<CORSConfiguration><CORSRule><AllowedMethod>GET"
                                      b"</AllowedMethod></CORSRule></CORSConfiguration>")
    eq(status, 400, "rule without an origin")
    assert b"MalformedXML" in body, body
    # The stored configuration survived the bad attempts.
    eq(len(s3.get_bucket_cors(Bucket=B)["CORSRules"]), 4, "configuration unchanged")


def test_preflight():
    cases = [
        # (origin, method, request headers, status, allow-origin, allow-methods)
        ("foo.suffix", "GET", None, 200, "foo.suffix", "GET"),
        ("startend", "HEAD", "X-Amz-Date, content-type", 200, "startend", "GET, HEAD"),
        ("start12end", "GET", None, 200, "start12end", "GET, HEAD"),
        # No rule allows that request header (the "*" rule allows none).
        ("start12end", "GET", "authorization", 403, None, None),
        ("start12end", "PUT", None, 403, None, None),
        ("a.put", "PUT", None, 200, "a.put", "PUT"),
        ("a.put", "DELETE", None, 403, None, None),
        ("http://x.example", "GET", None, 200, "*", "GET"),
    ]
    for origin, method, req_hdrs, status, allow, methods in cases:
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        if req_hdrs:
            h["Access-Control-Request-Headers"] = req_hdrs
        got, rh, _ = anon("OPTIONS", "/%s/hello" % B, h)
        eq(got, status, "preflight %s %s" % (origin, method))
        eq(rh.get("access-control-allow-origin"), allow, "allow-origin for %s" % origin)
        eq(rh.get("access-control-allow-methods"), methods, "allow-methods for %s" % origin)
    _, rh, _ = anon("OPTIONS", "/%s/hello" % B,
                    {"Origin": "x.suffix", "Access-Control-Request-Method": "GET"})
    eq(rh.get("access-control-max-age"), "300", "max age")
    eq(rh.get("access-control-expose-headers"), "x-amz-meta-a", "expose headers")
    eq(rh.get("access-control-allow-credentials"), "true", "credentials for a named origin")
    # Without Origin or Access-Control-Request-Method: 400.
    eq(anon("OPTIONS", "/%s/hello" % B, {"Access-Control-Request-Method": "GET"})[0], 400, "no Origin")
    eq(anon("OPTIONS", "/%s/hello" % B, {"Origin": "x.suffix"})[0], 400, "no request method")
    # A preflight needs no credentials, even on a presigned URL signed for GET.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": B, "Key": "hello"})
    path = url.split(str(st.port), 1)[1]
    got = anon("OPTIONS", path, {"Origin": "y.suffix", "Access-Control-Request-Method": "GET"})
    eq(got[0], 200, "preflight on a presigned URL")


def test_headers_on_ordinary_requests():
    status, h, body = anon("GET", "/%s/hello" % B, {"Origin": "z.suffix"})
    eq((status, body), (200, b"hello"), "anonymous GET")
    eq(h.get("access-control-allow-origin"), "z.suffix", "allow-origin on GET")
    eq(h.get("vary", "").startswith("Origin"), True, "Vary")
    status, h, _ = anon("GET", "/%s/missing" % B, {"Origin": "z.suffix"})
    eq(status, 404, "missing key")
    eq(h.get("access-control-allow-origin"), "z.suffix", "CORS headers on errors too")
    status, h, _ = anon("PUT", "/%s/new" % B, {"Origin": "z.suffix", "Content-Length": "0"})
    eq(status, 403, "anonymous PUT is still denied")
    assert "access-control-allow-origin" not in h, "no rule allows PUT from z.suffix"
    status, h, _ = anon("GET", "/%s/hello" % B)
    assert "access-control-allow-origin" not in h, "no Origin, no CORS headers"


def test_cors_permissions():
    alt = st.client(*st.add_account("cors-alt")[:2])
    expect_error("AccessDenied", 403, alt.get_bucket_cors, Bucket=B)
    expect_error("AccessDenied", 403, alt.put_bucket_cors, Bucket=B, CORSConfiguration=RULES)
    expect_error("AccessDenied", 403, alt.delete_bucket_cors, Bucket=B)


def test_delete_and_bucket_gone():
    s3.delete_bucket_cors(Bucket=B)
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=B)
    # A configuration goes with its bucket: a new bucket of that name starts clean.
    s3.create_bucket(Bucket="cors-gone")
    s3.put_bucket_cors(Bucket="cors-gone", CORSConfiguration=RULES)
    s3.delete_bucket(Bucket="cors-gone")
    s3.create_bucket(Bucket="cors-gone")
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket="cors-gone")


def test_object_attributes_single():
    r = s3.put_object(Bucket=B, Key="attrs", Body=b"x" * 1024, ChecksumAlgorithm="SHA256")
    a = s3.get_object_attributes(Bucket=B, Key="attrs",
                                 ObjectAttributes=["ETag", "Checksum", "ObjectParts",
                                                   "StorageClass", "ObjectSize"])
    eq(a["ETag"], r["ETag"].strip('"'), "ETag (unquoted)")
    eq(a["ObjectSize"], 1024, "size")
    eq(a["StorageClass"], "STANDARD", "storage class")
    eq(a["Checksum"]["ChecksumSHA256"], r["ChecksumSHA256"], "checksum")
    assert "ObjectParts" not in a, "a single PUT has no parts"
    a = s3.get_object_attributes(Bucket=B, Key="attrs", ObjectAttributes=["ObjectSize"])
    assert "ETag" not in a and a["ObjectSize"] == 1024, a
    expect_error("NoSuchKey", 404, s3.get_object_attributes, Bucket=B, Key="nope",
                 ObjectAttributes=["ETag"])
    status, _, body = st.request("GET", "/%s/attrs" % B, query="attributes=",
                                 headers={"x-amz-object-attributes": "Colour"})
    eq(status, 400, "unknown attribute")
    assert b"InvalidArgument" in body, body


def test_object_attributes_multipart():
    k = "mp"
    up = s3.create_multipart_upload(Bucket=B, Key=k)["UploadId"]
    parts = []
    for n in range(1, 5):
        body = bytes([n]) * (5 * 1024 * 1024 if n < 4 else 100)
        e = s3.upload_part(Bucket=B, Key=k, UploadId=up, PartNumber=n, Body=body)["ETag"]
        parts.append({"ETag": e, "PartNumber": n})
    done = s3.complete_multipart_upload(Bucket=B, Key=k, UploadId=up,
                                        MultipartUpload={"Parts": parts})
    a = s3.get_object_attributes(Bucket=B, Key=k, ObjectAttributes=["ETag", "ObjectParts"],
                                 MaxParts=2, PartNumberMarker=1)
    eq(a["ETag"], done["ETag"].strip('"'), "multipart ETag")
    p = a["ObjectParts"]
    eq(p["TotalPartsCount"], 4, "parts count")
    eq(p["IsTruncated"], True, "truncated")
    eq(p["NextPartNumberMarker"], 3, "next marker")
    eq([x["PartNumber"] for x in p["Parts"]], [2, 3], "part numbers")
    eq(p["Parts"][0]["Size"], 5 * 1024 * 1024, "part size")
    a = s3.get_object_attributes(Bucket=B, Key=k, ObjectAttributes=["ObjectParts"],
                                 PartNumberMarker=3)
    eq([(x["PartNumber"], x["Size"]) for x in a["ObjectParts"]["Parts"]], [(4, 100)], "last part")
    eq(a["ObjectParts"]["IsTruncated"], False, "not truncated")


def test_object_attributes_needs_both_permissions():
    u = st.add_account("attrs-alt")
    alt = st.client(*u[:2])
    # GetObject alone (anonymous via the bucket policy) is not enough.
    expect_error("AccessDenied", 403, alt.get_object_attributes, Bucket=B, Key="attrs",
                 ObjectAttributes=["ETag"])


def test_bucket_tagging():
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=B)
    tags = [{"Key": "team", "Value": "insights"}, {"Key": "cost centre", "Value": "a&b=c"}]
    s3.put_bucket_tagging(Bucket=B, Tagging={"TagSet": tags})
    got = s3.get_bucket_tagging(Bucket=B)["TagSet"]
    eq(sorted((t["Key"], t["Value"]) for t in got),
       sorted((t["Key"], t["Value"]) for t in tags), "tags round trip")
    expect_error("InvalidTag", 400, s3.put_bucket_tagging, Bucket=B,
                 Tagging={"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]})
    eq(len(s3.get_bucket_tagging(Bucket=B)["TagSet"]), 2, "unchanged after a bad put")
    alt = st.client(*st.add_account("tags-alt")[:2])
    expect_error("AccessDenied", 403, alt.get_bucket_tagging, Bucket=B)
    expect_error("AccessDenied", 403, alt.delete_bucket_tagging, Bucket=B)
    s3.delete_bucket_tagging(Bucket=B)
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=B)


cvstore.main(globals())
