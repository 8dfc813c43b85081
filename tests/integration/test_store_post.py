"""Store + boto3 + requests: POST Object (browser uploads). SigV4 forms come
from botocore's generate_presigned_post (an independent signer); legacy
forms are signed here with HMAC-SHA1 as the AWS documentation describes."""
import base64
import datetime
import hashlib
import hmac
import json
import os
import sys

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, etag_of, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
try:
    import requests  # noqa: E402
except ImportError:
    cvstore.skip("python3-requests is not installed (scripts/install-deps installs it)")

st = cvstore.Store("post")
s3 = st.client(signature_version="s3v4")  # SigV4 presigned POSTs
B = "post-bucket"
s3.create_bucket(Bucket=B)
URL = "%s/%s" % (st.endpoint, B)


def expiry(seconds=600):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def v2_form(conditions, fields, secret=None, akid=None, expiration=None):
    """A legacy form: policy + AWSAccessKeyId + signature (HMAC-SHA1 of the policy)."""
    doc = {"expiration": expiration or expiry(), "conditions": conditions}
    policy = base64.b64encode(json.dumps(doc).encode())
    sig = base64.b64encode(hmac.new((secret or st.secret).encode(), policy, hashlib.sha1).digest())
    out = dict(fields)
    out.update({"AWSAccessKeyId": akid or st.akid, "policy": policy.decode(),
                "signature": sig.decode()})
    return out


def post(fields, data=b"hello", filename="hello.txt"):
    # The file goes last: fields after it are ignored by S3.
    files = [(k, (None, v)) for k, v in fields.items()] + [("file", (filename, data))]
    return requests.post(URL, files=files, allow_redirects=False, timeout=60)


def error_code(r):
    import re
    m = re.search(rb"<Code>([^<]*)</Code>", r.content)
    return m.group(1).decode() if m else None


def absent(key):
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=B, Key=key)


def test_sigv4_presigned_post():
    p = s3.generate_presigned_post(B, "v4/${filename}",
                                   Fields={"Content-Type": "text/plain", "x-amz-meta-team": "red"},
                                   Conditions=[["starts-with", "$key", "v4/"],
                                               {"Content-Type": "text/plain"},
                                               {"x-amz-meta-team": "red"},
                                               ["content-length-range", 1, 1 << 20]],
                                   ExpiresIn=600)
    assert p["fields"].get("x-amz-algorithm") == "AWS4-HMAC-SHA256", p["fields"]
    r = post(p["fields"], b"browser upload", filename="report.txt")
    eq(r.status_code, 204, "SigV4 POST: %s" % r.text)
    o = s3.get_object(Bucket=B, Key="v4/report.txt")
    eq(o["Body"].read(), b"browser upload", "body")
    eq(o["ContentType"], "text/plain", "Content-Type from the form")
    eq(o["Metadata"], {"team": "red"}, "metadata from the form")
    eq(o["ETag"], etag_of(b"browser upload"), "ETag")


def test_sigv4_tampered_and_unknown_key():
    p = s3.generate_presigned_post(B, "v4/tampered", ExpiresIn=600)
    f = dict(p["fields"])
    f["x-amz-signature"] = "0" * 64
    r = post(f)
    eq((r.status_code, error_code(r)), (403, "SignatureDoesNotMatch"), "bad signature")
    f = dict(p["fields"])
    f["x-amz-credential"] = "AKIANOTAKEY000000000" + f["x-amz-credential"][20:]
    r = post(f)
    eq((r.status_code, error_code(r)), (403, "InvalidAccessKeyId"), "unknown key")
    absent("v4/tampered")


def test_legacy_signature():
    f = v2_form([{"bucket": B}, ["starts-with", "$key", "v2/"], {"acl": "private"},
                 ["starts-with", "$Content-Type", "image/"]],
                {"key": "v2/pic", "acl": "private", "Content-Type": "image/png"})
    r = post(f, b"\x89PNG")
    eq(r.status_code, 204, "legacy POST: %s" % r.text)
    eq(s3.get_object(Bucket=B, Key="v2/pic")["ContentType"], "image/png", "type")
    f["signature"] = base64.b64encode(b"x" * 20).decode()
    r = post(f, b"other")
    eq((r.status_code, error_code(r)), (403, "SignatureDoesNotMatch"), "bad legacy signature")
    eq(s3.get_object(Bucket=B, Key="v2/pic")["Body"].read(), b"\x89PNG", "object unchanged")


def test_policy_enforced():
    base = [{"bucket": B}, ["starts-with", "$key", "pol/"]]
    cases = [
        # (conditions, fields, expiration, status, code)
        (base, {"key": "pol/a"}, expiry(-60), 403, "AccessDenied"),             # expired
        (base, {"key": "other/a"}, None, 403, "AccessDenied"),                   # condition fails
        (base, {"key": "pol/a", "x-amz-meta-x": "1"}, None, 403, "AccessDenied"),  # extra field
        ([{"bucket": "another-bucket"}, ["starts-with", "$key", ""]], {"key": "pol/a"}, None,
         403, "AccessDenied"),                                                    # wrong bucket
        (base + [["content-length-range", 0, 3]], {"key": "pol/a"}, None, 400, "EntityTooLarge"),
        (base + [["content-length-range", 100, 200]], {"key": "pol/a"}, None, 400,
         "EntityTooSmall"),
    ]
    for conds, fields, exp, status, code in cases:
        r = post(v2_form(conds, fields, expiration=exp), b"12345")
        eq((r.status_code, error_code(r)), (status, code), "policy case %r %r" % (conds, fields))
    # A policy without an expiration, or one in the wrong format, is invalid.
    doc = base64.b64encode(json.dumps({"conditions": base}).encode())
    sig = base64.b64encode(hmac.new(st.secret.encode(), doc, hashlib.sha1).digest()).decode()
    r = post({"key": "pol/a", "AWSAccessKeyId": st.akid, "policy": doc.decode(), "signature": sig})
    eq((r.status_code, error_code(r)), (400, "InvalidPolicyDocument"), "no expiration")
    absent("pol/a")


def test_anonymous_and_least_privilege():
    # No policy: anonymous, and this bucket allows nobody.
    r = post({"key": "anon/a"})
    eq((r.status_code, error_code(r)), (403, "AccessDenied"), "anonymous POST")
    absent("anon/a")
    # An IAM user allowed PutObject on anon/* only.
    import boto3
    iam = boto3.client("iam", endpoint_url=st.endpoint, region_name="us-east-1",
                       aws_access_key_id=st.akid, aws_secret_access_key=st.secret)
    iam.create_user(UserName="uploader")
    k = iam.create_access_key(UserName="uploader")["AccessKey"]
    iam.put_user_policy(UserName="uploader", PolicyName="put", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                       "Resource": "arn:aws:s3:::%s/anon/*" % B}]}))
    u = st.client(k["AccessKeyId"], k["SecretAccessKey"], signature_version="s3v4")
    ok = u.generate_presigned_post(B, "anon/by-user", ExpiresIn=600)
    r = post(ok["fields"], b"from the user")
    eq(r.status_code, 204, "user POST within its policy: %s" % r.text)
    bad = u.generate_presigned_post(B, "private/by-user", ExpiresIn=600)
    r = post(bad["fields"])
    eq((r.status_code, error_code(r)), (403, "AccessDenied"), "user POST outside its policy")
    absent("private/by-user")


def test_anonymous_post_to_a_public_write_bucket():
    # ACLs authorize POST too: AllUsers WRITE lets an anonymous form in (the
    # acl field rides on the bucket's WRITE, as x-amz-acl does on PUT).
    s3.create_bucket(Bucket="post-public", ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket="post-public")  # new buckets block public ACLs
    s3.put_bucket_acl(Bucket="post-public", ACL="public-read-write")
    files = [("key", (None, "anon/x")), ("acl", (None, "private")),
             ("file", ("x.txt", b"from anyone"))]
    r = requests.post("%s/post-public" % st.endpoint, files=files, timeout=60)
    eq(r.status_code, 204, "anonymous POST to a public-read-write bucket: %s" % r.text)
    eq(s3.get_object(Bucket="post-public", Key="anon/x")["Body"].read(), b"from anyone", "body")
    s3.put_bucket_acl(Bucket="post-public", ACL="private")
    r = requests.post("%s/post-public" % st.endpoint, files=files, timeout=60)
    eq((r.status_code, error_code(r)), (403, "AccessDenied"), "anonymous POST once private")


def test_success_actions():
    f = v2_form([{"bucket": B}, ["starts-with", "$key", "act/"],
                 {"success_action_status": "201"}],
                {"key": "act/201", "success_action_status": "201"})
    r = post(f)
    eq(r.status_code, 201, "201")
    assert b"<Key>act/201</Key>" in r.content and b"<Bucket>%s</Bucket>" % B.encode() in r.content
    # No xmlns, as AWS: browsers' scripts find <Key> without a namespace.
    import xml.etree.ElementTree as ET
    eq(ET.fromstring(r.content).find("Key").text, "act/201", "PostResponse Key, no namespace")
    f = v2_form([{"bucket": B}, ["starts-with", "$key", "act/"],
                 {"success_action_redirect": "http://example.com/done?x=1"}],
                {"key": "act/r d", "success_action_redirect": "http://example.com/done?x=1"})
    r = post(f)
    eq(r.status_code, 303, "redirect")
    loc = r.headers["Location"]
    assert loc.startswith("http://example.com/done?x=1&bucket=%s&key=act/r%%20d&etag=" % B), loc


def test_large_file_streams():
    data = os.urandom(9 * 1024 * 1024 + 7)
    p = s3.generate_presigned_post(B, "big/file", ExpiresIn=600)
    r = post(p["fields"], data)
    eq(r.status_code, 204, "9 MiB POST")
    o = s3.get_object(Bucket=B, Key="big/file")
    got = o["Body"].read()
    eq((len(got), hashlib.md5(got).hexdigest()), (len(data), hashlib.md5(data).hexdigest()), "body")
    eq(o["ETag"], etag_of(data), "ETag")


def test_malformed_forms():
    r = requests.post(URL, data=b"key=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
    eq(r.status_code, 412, "not multipart/form-data")
    r = requests.post(URL, data=b"--xyz\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk",
                      headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    eq((r.status_code, error_code(r)), (400, "MalformedPOSTRequest"), "truncated form")
    r = post({"acl": "private"})
    eq((r.status_code, error_code(r)), (400, "InvalidArgument"), "no key field")


def test_no_temp_files_left():
    eq(st.tmp_files(), [], "DIR/tmp after the tests")


cvstore.main(globals())
