"""Store + boto3: the bucket-row cache never serves a stale bucket.

The store keeps each bucket's row (owner, Object Ownership, policy,
versioning) in memory between requests and drops it after any commit that
is not an object write. Each test below first makes a request that caches
the row, changes the bucket, and checks that the very next request sees
the change: a policy that starts denying, its removal, versioning turned
on, ownership controls, a deleted bucket (and one recreated under another
account), many buckets at once (more than the cache has slots)."""
import json
import os
import sys

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")

st = cvstore.Store("bucket-cache")
s3 = st.client()


def put(b, k, body=b"x", client=None):
    return (client or s3).put_object(Bucket=b, Key=k, Body=body)


def test_policy_change_applies_to_the_next_request():
    b = "cache-policy"
    s3.create_bucket(Bucket=b)
    akid, secret, acct = st.add_account("other-a")
    other = st.client(akid, secret)
    expect_error("AccessDenied", 403, put, b, "k0", client=other)
    put(b, "k1")  # caches the row (no policy)
    pol = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % acct},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/*" % b}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(pol))
    put(b, "k2", client=other)  # allowed at once by the new policy
    deny = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::%s/deny/*" % b}]}
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps(deny))
    expect_error("AccessDenied", 403, put, b, "deny/x")
    put(b, "ok/x")
    s3.delete_bucket_policy(Bucket=b)
    put(b, "deny/x")  # no policy left: the owner writes anywhere
    expect_error("AccessDenied", 403, put, b, "k3", client=other)


def test_versioning_change_applies_to_the_next_put():
    b = "cache-versioning"
    s3.create_bucket(Bucket=b)
    r = put(b, "k")
    assert "VersionId" not in r, "unversioned PUT has no version id: %r" % r
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    r = put(b, "k")
    assert r.get("VersionId") and r["VersionId"] != "null", "version id right after enabling: %r" % r
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    put(b, "k", b"suspended")
    latest = [v for v in s3.list_object_versions(Bucket=b)["Versions"] if v["IsLatest"]]
    eq([v["VersionId"] for v in latest], ["null"], "suspended: the PUT made the null version")


def test_ownership_change_applies_to_the_next_acl():
    b = "cache-ownership"
    s3.create_bucket(Bucket=b)
    s3.delete_public_access_block(Bucket=b)  # new buckets block public ACLs
    put(b, "k")
    expect_error("AccessControlListNotSupported", 400, s3.put_object_acl, Bucket=b, Key="k",
                 ACL="public-read")
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object_acl(Bucket=b, Key="k", ACL="public-read")
    s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    expect_error("AccessControlListNotSupported", 400, s3.put_object_acl, Bucket=b, Key="k",
                 ACL="public-read")


def test_deleted_and_recreated_bucket():
    b = "cache-gone"
    s3.create_bucket(Bucket=b)
    put(b, "k")
    s3.delete_object(Bucket=b, Key="k")
    s3.delete_bucket(Bucket=b)
    expect_error("NoSuchBucket", 404, put, b, "k")  # also caches "no such bucket"
    akid, secret, _ = st.add_account("other-b")
    other = st.client(akid, secret)
    other.create_bucket(Bucket=b)
    put(b, "k", client=other)  # the miss was dropped: the new bucket is seen
    expect_error("AccessDenied", 403, put, b, "k2")  # and its owner is the new one


def test_more_buckets_than_cache_slots():
    names = ["cache-many-%03d" % i for i in range(150)]
    for n in names:
        s3.create_bucket(Bucket=n)
    for rnd in range(2):
        for n in names:
            put(n, "k%d" % rnd, n.encode())
    for n in names:
        eq(s3.get_object(Bucket=n, Key="k1")["Body"].read(), n.encode(), "body of " + n)
    victim = names[7]
    s3.put_bucket_versioning(Bucket=victim, VersioningConfiguration={"Status": "Enabled"})
    for n in names:
        r = put(n, "k2")
        if n == victim:
            assert r.get("VersionId") not in (None, "null"), "versioned: %r" % r
        else:
            assert "VersionId" not in r, "%s is not versioned: %r" % (n, r)


cvstore.main(globals(), [st])
