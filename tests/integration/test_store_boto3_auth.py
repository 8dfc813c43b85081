"""Store + boto3: buckets, addressing and who may do what. Bucket errors
(NoSuchBucket, BucketNotEmpty, BucketAlreadyOwnedByYou, BucketAlreadyExists,
InvalidBucketName), virtual-hosted addressing, SigV4 failures
(SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed, expired
presigned URLs), another account's root, anonymous requests, and the
x-amz-request-id / x-amz-id-2 headers on every response, HEAD errors without
a body."""
import datetime
import json
import os
import socket
import sys
import time
import urllib.parse
from unittest import mock

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, expect_error, xml_text  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
from botocore.auth import S3SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

st = cvstore.Store("auth")
s3 = st.client()
B = "auth-bucket"
s3.create_bucket(Bucket=B)
s3.put_object(Bucket=B, Key="secret.txt", Body=b"account A's data")


def test_bucket_errors():
    # In us-east-1, re-creating a bucket you own answers 200 (AWS's legacy behaviour).
    eq(s3.create_bucket(Bucket=B)["ResponseMetadata"]["HTTPStatusCode"], 200, "re-create own bucket")
    eq(s3.get_object(Bucket=B, Key="secret.txt")["Body"].read(), b"account A's data", "contents kept")
    for bad in ("ab", "a" * 64, "Upper-Case", "-leading", "trailing-", "dou..ble", "192.168.1.1",
                "under_score", "xn--punycode", "ends-s3alias"):
        expect_error("InvalidBucketName", 400, s3.create_bucket, Bucket=bad)
    s3.create_bucket(Bucket="a" * 63)
    s3.create_bucket(Bucket="1.2.3")
    expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket="no-such-bucket")
    expect_error("NoSuchBucket", 404, s3.put_object, Bucket="no-such-bucket", Key="k", Body=b"x")
    expect_error("NoSuchBucket", 404, s3.get_object, Bucket="no-such-bucket", Key="k")
    expect_error("NoSuchBucket", 404, s3.delete_bucket, Bucket="no-such-bucket")
    expect_error("404", 404, s3.head_bucket, Bucket="no-such-bucket")
    e = expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket="no-such-bucket")
    eq(e.response["Error"].get("BucketName"), "no-such-bucket", "BucketName element")
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=B)
    eq(s3.delete_bucket(Bucket="a" * 63)["ResponseMetadata"]["HTTPStatusCode"], 204, "DeleteBucket")
    s3.delete_bucket(Bucket="1.2.3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    eq(names, [B], "ListBuckets after the deletes")
    eq(s3.get_bucket_location(Bucket=B).get("LocationConstraint"), None, "us-east-1 location")
    eq(s3.head_bucket(Bucket=B)["ResponseMetadata"]["HTTPStatusCode"], 200, "HeadBucket")


def test_bucket_already_owned_outside_us_east_1():
    """Only us-east-1 answers 200 to re-creating your own bucket; elsewhere it is a 409."""
    eu = cvstore.Store("auth-eu", extra_args=["--quiet", "--region", "eu-west-1"])
    try:
        c = eu.client(region="eu-west-1")
        c.create_bucket(Bucket="eu-bucket",
                        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        expect_error("BucketAlreadyOwnedByYou", 409, c.create_bucket, Bucket="eu-bucket",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        eq(c.get_bucket_location(Bucket="eu-bucket").get("LocationConstraint"), "eu-west-1",
           "GetBucketLocation")
        akid, secret, _ = eu.add_account("eu-other")
        expect_error("BucketAlreadyExists", 409, eu.client(akid=akid, secret=secret, region="eu-west-1")
                     .create_bucket, Bucket="eu-bucket",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    finally:
        eu.stop()


def resolve_localhost_subdomains():
    """*.localhost -> 127.0.0.1 in this process (systemd-resolved does it; not every
    machine runs it). Only name resolution is patched: the client still sends
    Host: BUCKET.localhost:PORT and signs it."""
    real = socket.getaddrinfo

    def fake(host, *a, **kw):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *a, **kw)
    return mock.patch("socket.getaddrinfo", fake)


def test_virtual_hosted_addressing():
    vb = "virtual-bucket"
    with resolve_localhost_subdomains():
        v = st.client(endpoint="http://localhost:%d" % st.port, addressing="virtual")
        seen = []
        v.meta.events.register("before-send.s3", lambda request, **_: seen.append(request.url))
        v.create_bucket(Bucket=vb)
        v.put_object(Bucket=vb, Key="dir/v.txt", Body=b"virtual")
        eq(v.get_object(Bucket=vb, Key="dir/v.txt")["Body"].read(), b"virtual", "virtual GET")
        eq([c["Key"] for c in v.list_objects_v2(Bucket=vb)["Contents"]], ["dir/v.txt"], "virtual list")
        assert all(urllib.parse.urlsplit(u).hostname == vb + ".localhost" for u in seen), seen
        v.delete_object(Bucket=vb, Key="dir/v.txt")
        v.delete_bucket(Bucket=vb)
    # The same object through both styles.
    s3.put_object(Bucket=B, Key="both", Body=b"same")
    status, h, body = st.request("GET", "/both", host="%s.localhost:%d" % (B, st.port),
                                 headers={"Host": "%s.localhost:%d" % (B, st.port)})
    eq((status, body), (200, b"same"), "virtual-host GET signed by hand")


def test_bad_signature_and_unknown_key():
    bad = st.client(secret="x" * 40)
    e = expect_error("SignatureDoesNotMatch", 403, bad.list_objects_v2, Bucket=B)
    eq(e.response["Error"].get("AWSAccessKeyId"), st.akid, "AWSAccessKeyId element")
    expect_error("SignatureDoesNotMatch", 403, bad.put_object, Bucket=B, Key="forged", Body=b"x")
    unknown = st.client(akid="AKIAUNKNOWNKEY000000")
    expect_error("InvalidAccessKeyId", 403, unknown.list_buckets)
    expect_error("InvalidAccessKeyId", 403, unknown.get_object, Bucket=B, Key="secret.txt")
    # Scoped to another region (botocore would follow the Region hint and retry; sign by hand).
    status, h, body = st.request("GET", "/" + B, region="eu-west-1")
    eq((status, xml_text(body, "Code"), xml_text(body, "Region")),
       (400, "AuthorizationHeaderMalformed", "us-east-1"), "credential scope in another region")
    # SigV2 (what this botocore presigns with by default) is refused as on AWS's newer regions.
    v2 = st.client().generate_presigned_url(
        "get_object", Params={"Bucket": B, "Key": "secret.txt"})
    assert "AWSAccessKeyId=" in v2, v2
    status, body = fetch(v2)
    eq((status, xml_text(body, "Code")), (400, "InvalidRequest"), "SigV2 presigned URL")
    expect_error("404", 404, s3.head_object, Bucket=B, Key="forged")


def test_clock_skew():
    now = datetime.datetime.utcnow()
    for minutes, ok in ((-20, False), (20, False), (-10, True), (10, True)):
        status, h, body = st.request("GET", "/" + B + "/secret.txt",
                                     when=now + datetime.timedelta(minutes=minutes))
        if ok:
            eq((status, body), (200, b"account A's data"), "skew %d min accepted" % minutes)
        else:
            eq((status, xml_text(body, "Code")), (403, "RequestTimeTooSkewed"),
               "skew %d min refused" % minutes)
            assert xml_text(body, "ServerTime") and xml_text(body, "RequestTime"), body


def presign(method, path, expires, when=None, query=""):
    url = "http://127.0.0.1:%d%s%s" % (st.port, path, "?" + query if query else "")
    req = AWSRequest(method=method, url=url, headers={})
    auth = S3SigV4QueryAuth(Credentials(st.akid, st.secret), "s3", cvstore.REGION, expires=expires)
    if when is None:
        auth.add_auth(req)
    else:
        with mock.patch("botocore.auth.datetime") as dt:
            dt.datetime.utcnow.return_value = when
            dt.datetime.now.return_value = when
            auth.add_auth(req)
    return req.url


def fetch(url, method="GET", body=None):
    import http.client
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.request(method, u.path + "?" + u.query, body=body)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def test_presigned_urls():
    url = st.client(signature_version="s3v4").generate_presigned_url("get_object", Params={"Bucket": B, "Key": "secret.txt"},
                                    ExpiresIn=60)
    eq(fetch(url), (200, b"account A's data"), "presigned GET from boto3")
    put = st.client(signature_version="s3v4").generate_presigned_url("put_object", Params={"Bucket": B, "Key": "presigned-put"},
                                    ExpiresIn=60)
    eq(fetch(put, "PUT", b"uploaded by URL")[0], 200, "presigned PUT")
    eq(s3.get_object(Bucket=B, Key="presigned-put")["Body"].read(), b"uploaded by URL", "stored")
    # Signed two hours ago, valid for one: expired.
    old = presign("GET", "/%s/secret.txt" % B, 3600,
                  datetime.datetime.utcnow() - datetime.timedelta(hours=2))
    status, body = fetch(old)
    eq((status, xml_text(body, "Code"), xml_text(body, "Message")),
       (403, "AccessDenied", "Request has expired"), "expired presigned URL")
    # A short expiry really expires (X-Amz-Date has whole seconds: wait past date + 4 s).
    short = presign("GET", "/%s/secret.txt" % B, 4)
    eq(fetch(short)[0], 200, "4-second URL used at once")
    signed = datetime.datetime.strptime(
        urllib.parse.parse_qs(urllib.parse.urlsplit(short).query)["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
    time.sleep(max(0.0, (signed - datetime.datetime.utcnow()).total_seconds() + 5.5))
    status, body = fetch(short)
    eq((status, xml_text(body, "Message")), (403, "Request has expired"), "4-second URL later")
    # Signed an hour in the future.
    future = presign("GET", "/%s/secret.txt" % B, 60,
                     datetime.datetime.utcnow() + datetime.timedelta(hours=1))
    status, body = fetch(future)
    eq((status, xml_text(body, "Code"), xml_text(body, "Message")),
       (403, "AccessDenied", "Request is not yet valid"), "future presigned URL")
    # X-Amz-Expires over 7 days.
    status, body = fetch(presign("GET", "/%s/secret.txt" % B, 604801))
    eq((status, xml_text(body, "Code")), (400, "AuthorizationQueryParametersError"), "expires > 7 days")
    # Tampering with a signed parameter.
    tampered = url.replace("secret.txt", "presigned-put")
    status, body = fetch(tampered)
    eq((status, xml_text(body, "Code")), (403, "SignatureDoesNotMatch"), "tampered presigned URL")


def test_other_account_is_denied():
    akid, secret, _ = st.add_account("other-account")
    b = st.client(akid=akid, secret=secret)
    eq(b.list_buckets()["Buckets"], [], "the other account sees no bucket")
    expect_error("BucketAlreadyExists", 409, b.create_bucket, Bucket=B)
    expect_error("AccessDenied", 403, b.get_object, Bucket=B, Key="secret.txt")
    expect_error("403", 403, b.head_object, Bucket=B, Key="secret.txt")
    expect_error("AccessDenied", 403, b.get_object, Bucket=B, Key="absent-key")
    expect_error("AccessDenied", 403, b.put_object, Bucket=B, Key="intruder", Body=b"x")
    expect_error("AccessDenied", 403, b.list_objects_v2, Bucket=B)
    expect_error("AccessDenied", 403, b.delete_object, Bucket=B, Key="secret.txt")
    expect_error("AccessDenied", 403, b.delete_bucket, Bucket=B)
    expect_error("AccessDenied", 403, b.copy_object, Bucket=B, Key="intruder",
                 CopySource={"Bucket": B, "Key": "secret.txt"})
    expect_error("AccessDenied", 403, b.create_multipart_upload, Bucket=B, Key="intruder")
    # Copying A's object into B's own bucket needs read access to A's: denied.
    b.create_bucket(Bucket="other-account-bucket")
    expect_error("AccessDenied", 403, b.copy_object, Bucket="other-account-bucket", Key="stolen",
                 CopySource={"Bucket": B, "Key": "secret.txt"})
    r = b.delete_objects(Bucket="other-account-bucket", Delete={"Objects": [{"Key": "x"}]})
    eq(len(r["Deleted"]), 1, "B may delete in its own bucket")
    eq(s3.get_object(Bucket=B, Key="secret.txt")["Body"].read(), b"account A's data", "A's data intact")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=B, Key="intruder")
    eq([x["Name"] for x in s3.list_buckets()["Buckets"]], [B], "A does not see B's bucket")
    expect_error("AccessDenied", 403, s3.list_objects_v2, Bucket="other-account-bucket")


def test_other_account_delete_objects():
    akid, secret, _ = st.add_account("third-account")
    c = st.client(akid=akid, secret=secret)
    from botocore.exceptions import ClientError
    try:
        r = c.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "secret.txt"}]})
    except ClientError as e:  # a whole-request AccessDenied is also AWS-like
        r = None
        eq((cvstore.error_code(e), cvstore.http_status(e)), ("AccessDenied", 403), "DeleteObjects denied")
    if r is not None:
        eq([(x["Key"], x["Code"]) for x in r.get("Errors", [])], [("secret.txt", "AccessDenied")],
           "DeleteObjects by another account: per-key AccessDenied")
        eq(r.get("Deleted", []), [], "nothing reported deleted")
    eq(s3.get_object(Bucket=B, Key="secret.txt")["Body"].read(), b"account A's data", "A's data intact")


def test_bucket_policy_grants_another_account():
    akid, secret, account = st.add_account("granted-account")
    g = st.client(akid=akid, secret=secret)
    s3.put_object(Bucket=B, Key="shared/report.txt", Body=b"for the partner")
    expect_error("AccessDenied", 403, g.get_object, Bucket=B, Key="shared/report.txt")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/shared/*" % B}]})
    s3.put_bucket_policy(Bucket=B, Policy=policy)
    eq(json.loads(s3.get_bucket_policy(Bucket=B)["Policy"]), json.loads(policy), "GetBucketPolicy")
    for _ in range(20):  # every request of a bucket with a policy loads it
        eq(g.get_object(Bucket=B, Key="shared/report.txt")["Body"].read(), b"for the partner",
           "granted read")
    expect_error("AccessDenied", 403, g.get_object, Bucket=B, Key="secret.txt")
    expect_error("AccessDenied", 403, g.put_object, Bucket=B, Key="shared/new", Body=b"x")
    expect_error("AccessDenied", 403, g.list_objects_v2, Bucket=B)
    s3.delete_bucket_policy(Bucket=B)
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=B)
    expect_error("AccessDenied", 403, g.get_object, Bucket=B, Key="shared/report.txt")
    # The store's clean exit at the end (checked by the harness) also proves the policy
    # buffers were freed: under ASan a leak makes the exit status non-zero.


def test_anonymous_is_denied():
    anon = st.client(signed=False)
    expect_error("AccessDenied", 403, anon.list_buckets)
    expect_error("AccessDenied", 403, anon.get_object, Bucket=B, Key="secret.txt")
    expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket=B)
    expect_error("AccessDenied", 403, anon.put_object, Bucket=B, Key="anon", Body=b"x")
    expect_error("AccessDenied", 403, anon.delete_object, Bucket=B, Key="secret.txt")
    expect_error("AccessDenied", 403, anon.create_bucket, Bucket="anon-bucket")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=B, Key="anon")
    eq([x["Name"] for x in s3.list_buckets()["Buckets"]], [B], "no anonymous bucket")


def test_request_ids_on_every_response():
    cases = [("GET", "/", b""), ("GET", "/" + B, b""), ("GET", "/%s/secret.txt" % B, b""),
             ("HEAD", "/%s/secret.txt" % B, b""), ("PUT", "/%s/ids" % B, b"x"),
             ("DELETE", "/%s/ids" % B, b""), ("GET", "/%s/absent" % B, b""),
             ("HEAD", "/%s/absent" % B, b""), ("GET", "/no-such-bucket", b""),
             ("PUT", "/%s/%s" % (B, "k" * 1100), b"x")]
    ids = set()
    for method, path, body in cases:
        for signed in (True, False):
            status, h, data = st.request(method, path, body=body, sign=signed)
            rid, hid = h.get("x-amz-request-id"), h.get("x-amz-id-2")
            assert rid and hid, "%s %s (signed=%s, %d): no request ids in %r" % (
                method, path[:40], signed, status, h)
            ids.add(rid)
            if status >= 300 and method != "HEAD":
                eq(xml_text(data, "RequestId"), rid, "RequestId in the error body")
                eq(xml_text(data, "HostId"), hid, "HostId in the error body")
    eq(len(ids), len(cases) * 2, "request ids are unique")


def raw_head(path, signed=True):
    """HEAD over a raw socket; returns (status line, headers, bytes after the head)."""
    hdrs = st.sign("HEAD", path) if signed else {"Host": "127.0.0.1:%d" % st.port}
    req = "HEAD %s HTTP/1.1\r\n%sConnection: close\r\n\r\n" % (
        path, "".join("%s: %s\r\n" % kv for kv in hdrs.items()))
    s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
    try:
        s.sendall(req.encode())
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return lines[0], {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}, rest


def test_head_errors_have_no_body():
    for path, signed, code in (("/%s/absent" % B, True, 404), ("/no-such-bucket/k", True, 404),
                               ("/%s/secret.txt" % B, False, 403), ("/no-such-bucket", True, 404)):
        line, h, rest = raw_head(path, signed)
        assert line.startswith("HTTP/1.1 %d" % code), (path, line)
        eq(rest, b"", "HEAD %s has no body" % path)
        assert "x-amz-request-id" in h and "x-amz-id-2" in h, h
    line, h, rest = raw_head("/%s/secret.txt" % B)
    assert line.startswith("HTTP/1.1 200"), line
    eq((h.get("content-length"), rest), (str(len(b"account A's data")), b""),
       "HEAD 200: Content-Length of the object, no body")


cvstore.main(globals())
