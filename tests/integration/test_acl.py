"""Store + boto3: S3 ACLs that authorize, and Object Ownership.

Two accounts (the store's first, A, and B from `caravel store accounts add`).
Checks: BucketOwnerEnforced (the default) refusing ACLs; ownership controls
put/get/delete and x-amz-object-ownership on CreateBucket; the
--default-object-ownership flag; canned ACLs as GetBucketAcl/GetObjectAcl
report them; grant headers and AccessControlPolicy bodies; grants that
authorize another account, anonymous callers and signed callers; the
object writer owning what it writes under ObjectWriter; an explicit Deny
beating a grant; an IAM user of another account needing its own policy;
and the error codes of bad ACLs."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")

ALL = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG = "http://acs.amazonaws.com/groups/s3/LogDelivery"

# These tests are about ACLs, public ones included: buckets start without a
# Block Public Access configuration, as before AWS's 2023 default.
st = cvstore.Store("acl", extra_args=["--default-public-access-block", "off"])
a = st.client()
B_AKID, B_SECRET, B_ACCOUNT = st.add_account("acl-b")
ACCOUNT_A = re.search(r"^# account (\d{12}) ", subprocess.run(
    [cvstore.BIN, "store", "credentials", st.dir], capture_output=True, check=True,
    timeout=60).stdout.decode(), re.M).group(1)
b = st.client(akid=B_AKID, secret=B_SECRET)
anon = st.client(signed=False)
A_ID = a.list_buckets()["Owner"]["ID"]
B_ID = b.list_buckets()["Owner"]["ID"]


def grants(resp):
    """[(kind, id-or-uri, permission)] in the order S3 returned them."""
    out = []
    for g in resp["Grants"]:
        ge = g["Grantee"]
        if ge["Type"] == "CanonicalUser":
            out.append(("user", ge["ID"], g["Permission"]))
        else:
            out.append((ge["Type"], ge.get("URI"), g["Permission"]))
    return out


def writer_bucket(name):
    a.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    return name


def test_default_is_bucket_owner_enforced():
    a.create_bucket(Bucket="enforced")
    eq(a.get_bucket_ownership_controls(Bucket="enforced")["OwnershipControls"]["Rules"],
       [{"ObjectOwnership": "BucketOwnerEnforced"}], "default ownership")
    expect_error("AccessControlListNotSupported", 400, a.put_bucket_acl, Bucket="enforced",
                 ACL="public-read")
    expect_error("AccessControlListNotSupported", 400, a.put_bucket_acl, Bucket="enforced",
                 GrantRead="id=" + B_ID)
    expect_error("AccessControlListNotSupported", 400, a.put_object, Bucket="enforced", Key="k",
                 Body=b"x", ACL="public-read")
    expect_error("NoSuchKey", 404, a.get_object, Bucket="enforced", Key="k")
    a.put_bucket_acl(Bucket="enforced", ACL="bucket-owner-full-control")
    a.put_object(Bucket="enforced", Key="k", Body=b"x", ACL="bucket-owner-full-control")
    eq(grants(a.get_bucket_acl(Bucket="enforced")), [("user", A_ID, "FULL_CONTROL")], "bucket ACL")
    eq(grants(a.get_object_acl(Bucket="enforced", Key="k")), [("user", A_ID, "FULL_CONTROL")],
       "object ACL")
    expect_error("InvalidBucketAclWithObjectOwnership", 400, a.create_bucket,
                 Bucket="enforced-public", ACL="public-read")
    # A grant in an enforced bucket authorizes nothing: B stays out.
    expect_error("AccessDenied", 403, b.get_object, Bucket="enforced", Key="k")


def test_ownership_controls_crud():
    a.create_bucket(Bucket="own-crud", ObjectOwnership="BucketOwnerPreferred")
    rules = lambda: a.get_bucket_ownership_controls(Bucket="own-crud")["OwnershipControls"]["Rules"]
    eq(rules(), [{"ObjectOwnership": "BucketOwnerPreferred"}], "from CreateBucket")
    for v in ("ObjectWriter", "BucketOwnerEnforced", "BucketOwnerPreferred"):
        a.put_bucket_ownership_controls(Bucket="own-crud",
                                        OwnershipControls={"Rules": [{"ObjectOwnership": v}]})
        eq(rules(), [{"ObjectOwnership": v}], "after put " + v)
    expect_error("MalformedXML", 400, a.put_bucket_ownership_controls, Bucket="own-crud",
                 OwnershipControls={"Rules": [{"ObjectOwnership": "Nobody"}]})
    a.delete_bucket_ownership_controls(Bucket="own-crud")
    expect_error("OwnershipControlsNotFoundError", 404, a.get_bucket_ownership_controls,
                 Bucket="own-crud")
    # Without controls the bucket behaves as ObjectWriter: ACLs are accepted.
    a.put_bucket_acl(Bucket="own-crud", ACL="public-read")
    # ACLs cannot be disabled while the bucket ACL grants others.
    expect_error("InvalidBucketAclWithObjectOwnership", 400, a.put_bucket_ownership_controls,
                 Bucket="own-crud",
                 OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    a.put_bucket_acl(Bucket="own-crud", ACL="private")
    a.put_bucket_ownership_controls(
        Bucket="own-crud", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    expect_error("InvalidArgument", 400, a.create_bucket, Bucket="own-bad",
                 ObjectOwnership="Whoever")
    # B may not read or change A's controls.
    expect_error("AccessDenied", 403, b.get_bucket_ownership_controls, Bucket="own-crud")
    expect_error("AccessDenied", 403, b.delete_bucket_ownership_controls, Bucket="own-crud")


def test_default_object_ownership_flag():
    w = cvstore.Store("acl-writer", extra_args=["--quiet", "--default-object-ownership",
                                                 "ObjectWriter", "--default-public-access-block",
                                                 "off"])
    try:
        c = w.client()
        c.create_bucket(Bucket="flagged")
        eq(c.get_bucket_ownership_controls(Bucket="flagged")["OwnershipControls"]["Rules"],
           [{"ObjectOwnership": "ObjectWriter"}], "default from the flag")
        c.put_bucket_acl(Bucket="flagged", ACL="public-read")
    finally:
        w.stop()
    out = subprocess.run([cvstore.BIN, "store", "serve", "--data", w.dir, "--listen",
                          "127.0.0.1:0", "--default-object-ownership", "Anyone"],
                         capture_output=True, timeout=60)
    assert out.returncode != 0, "a bad --default-object-ownership must not start"
    assert b"ObjectWriter" in out.stderr, out.stderr


def test_canned_acls_reported():
    writer_bucket("canned")
    want = {
        "private": [],
        "public-read": [("Group", ALL, "READ")],
        "public-read-write": [("Group", ALL, "READ"), ("Group", ALL, "WRITE")],
        "authenticated-read": [("Group", AUTH, "READ")],
        "log-delivery-write": [("Group", LOG, "WRITE"), ("Group", LOG, "READ_ACP")],
        "aws-exec-read": [],
    }
    for name, extra in want.items():
        a.put_bucket_acl(Bucket="canned", ACL=name)
        r = a.get_bucket_acl(Bucket="canned")
        eq(r["Owner"]["ID"], A_ID, "owner")
        assert r["Owner"].get("DisplayName"), r["Owner"]
        # Group grants first, then the owner's (the order ceph/s3-tests expects).
        eq(grants(r), extra + [("user", A_ID, "FULL_CONTROL")], "bucket " + name)
    a.put_bucket_acl(Bucket="canned", ACL="public-read-write")
    # B writes into A's bucket: the object is B's; bucket-owner-* name A too.
    b.put_object(Bucket="canned", Key="by-b", Body=b"b", ACL="bucket-owner-read")
    r = b.get_object_acl(Bucket="canned", Key="by-b")
    eq(r["Owner"]["ID"], B_ID, "ObjectWriter: the writer owns the object")
    eq(grants(r), [("user", B_ID, "FULL_CONTROL"), ("user", A_ID, "READ")], "bucket-owner-read")
    # The bucket owner reaches B's object only through B's grants.
    eq(a.get_object(Bucket="canned", Key="by-b")["Body"].read(), b"b", "A's READ grant")
    expect_error("AccessDenied", 403, a.get_object_acl, Bucket="canned", Key="by-b")
    b.put_object_acl(Bucket="canned", Key="by-b", ACL="bucket-owner-full-control")
    eq(grants(b.get_object_acl(Bucket="canned", Key="by-b")),
       [("user", B_ID, "FULL_CONTROL"), ("user", A_ID, "FULL_CONTROL")],
       "bucket-owner-full-control")
    eq(grants(a.get_object_acl(Bucket="canned", Key="by-b"))[1], ("user", A_ID, "FULL_CONTROL"),
       "FULL_CONTROL lets A read the ACL")
    b.put_object(Bucket="canned", Key="by-b-private", Body=b"p")
    expect_error("AccessDenied", 403, a.get_object, Bucket="canned", Key="by-b-private")
    # ... but the bucket owner may still delete it (DeleteObject is the bucket's).
    a.delete_object(Bucket="canned", Key="by-b-private")
    expect_error("NoSuchKey", 404, b.get_object, Bucket="canned", Key="by-b-private")
    a.put_object(Bucket="canned", Key="by-a", Body=b"a", ACL="bucket-owner-full-control")
    eq(grants(a.get_object_acl(Bucket="canned", Key="by-a")), [("user", A_ID, "FULL_CONTROL")],
       "the bucket owner's own object: one grant")
    a.put_bucket_acl(Bucket="canned", ACL="private")


def test_bucket_owner_preferred():
    a.create_bucket(Bucket="preferred", ObjectOwnership="BucketOwnerPreferred")
    a.put_bucket_acl(Bucket="preferred", GrantWrite="id=" + B_ID)
    b.put_object(Bucket="preferred", Key="given", Body=b"x", ACL="bucket-owner-full-control")
    eq(a.get_object_acl(Bucket="preferred", Key="given")["Owner"]["ID"], A_ID,
       "bucket-owner-full-control hands the object to the bucket owner")
    b.put_object(Bucket="preferred", Key="kept", Body=b"x")
    eq(b.get_object_acl(Bucket="preferred", Key="kept")["Owner"]["ID"], B_ID,
       "without it the writer keeps it")


def test_grants_authorize_another_account():
    writer_bucket("grants")
    a.put_object(Bucket="grants", Key="doc", Body=b"A's doc")
    expect_error("AccessDenied", 403, b.list_objects_v2, Bucket="grants")
    expect_error("AccessDenied", 403, b.get_object, Bucket="grants", Key="doc")
    expect_error("AccessDenied", 403, b.put_object, Bucket="grants", Key="new", Body=b"x")
    expect_error("AccessDenied", 403, b.get_bucket_acl, Bucket="grants")
    a.put_bucket_acl(Bucket="grants", GrantRead='id="%s"' % B_ID, GrantFullControl="id=" + A_ID)
    eq([o["Key"] for o in b.list_objects_v2(Bucket="grants")["Contents"]], ["doc"], "READ lists")
    expect_error("AccessDenied", 403, b.get_object, Bucket="grants", Key="doc")
    expect_error("AccessDenied", 403, b.put_object, Bucket="grants", Key="new", Body=b"x")
    a.put_object_acl(Bucket="grants", Key="doc", GrantRead="id=" + B_ID)
    eq(b.get_object(Bucket="grants", Key="doc")["Body"].read(), b"A's doc", "object READ")
    expect_error("AccessDenied", 403, b.get_object_acl, Bucket="grants", Key="doc")
    a.put_bucket_acl(Bucket="grants", AccessControlPolicy={
        "Owner": {"ID": A_ID},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": A_ID}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": B_ID}, "Permission": "WRITE"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": B_ID}, "Permission": "READ_ACP"}]})
    eq(grants(b.get_bucket_acl(Bucket="grants")),
       [("user", A_ID, "FULL_CONTROL"), ("user", B_ID, "WRITE"), ("user", B_ID, "READ_ACP")],
       "READ_ACP lets B read the document in order")
    # Reported: group grants first, then the others, each in the order given.
    a.put_bucket_acl(Bucket="grants", AccessControlPolicy={
        "Owner": {"ID": A_ID},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": A_ID}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "Group", "URI": AUTH}, "Permission": "READ_ACP"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": B_ID}, "Permission": "WRITE"},
                   {"Grantee": {"Type": "Group", "URI": ALL}, "Permission": "READ_ACP"}]})
    eq(grants(a.get_bucket_acl(Bucket="grants")),
       [("Group", AUTH, "READ_ACP"), ("Group", ALL, "READ_ACP"), ("user", A_ID, "FULL_CONTROL"),
        ("user", B_ID, "WRITE")], "groups first")
    expect_error("AccessDenied", 403, b.list_objects_v2, Bucket="grants")
    b.put_object(Bucket="grants", Key="new", Body=b"B's")
    # B owns what it wrote and has its rights even in A's bucket.
    eq(b.get_object(Bucket="grants", Key="new")["Body"].read(), b"B's", "the writer reads it")
    b.put_object_acl(Bucket="grants", Key="new", ACL="public-read")
    eq(anon.get_object(Bucket="grants", Key="new")["Body"].read(), b"B's", "made public by B")
    b.delete_object(Bucket="grants", Key="doc")
    expect_error("NoSuchKey", 404, a.get_object, Bucket="grants", Key="doc")
    expect_error("AccessDenied", 403, b.put_bucket_acl, Bucket="grants", ACL="public-read")
    a.put_bucket_acl(Bucket="grants", GrantWriteACP="id=" + B_ID)
    b.put_bucket_acl(Bucket="grants", ACL="public-read")
    eq(grants(a.get_bucket_acl(Bucket="grants")),
       [("Group", ALL, "READ"), ("user", A_ID, "FULL_CONTROL")], "WRITE_ACP let B set it")


def test_group_grants():
    writer_bucket("groups")
    a.put_object(Bucket="groups", Key="pub", Body=b"public", ACL="public-read")
    a.put_object(Bucket="groups", Key="auth", Body=b"signed", ACL="authenticated-read")
    a.put_object(Bucket="groups", Key="priv", Body=b"private")
    eq(anon.get_object(Bucket="groups", Key="pub")["Body"].read(), b"public", "AllUsers: anonymous")
    eq(b.get_object(Bucket="groups", Key="pub")["Body"].read(), b"public", "AllUsers: B")
    expect_error("AccessDenied", 403, anon.get_object, Bucket="groups", Key="auth")
    eq(b.get_object(Bucket="groups", Key="auth")["Body"].read(), b"signed", "AuthenticatedUsers")
    expect_error("AccessDenied", 403, anon.get_object, Bucket="groups", Key="priv")
    expect_error("AccessDenied", 403, b.get_object, Bucket="groups", Key="priv")
    expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket="groups")
    a.put_bucket_acl(Bucket="groups", ACL="public-read-write")
    eq(len(anon.list_objects_v2(Bucket="groups")["Contents"]), 3, "public listing")
    anon.put_object(Bucket="groups", Key="dropped", Body=b"anon")
    eq(a.get_object_acl(Bucket="groups", Key="dropped")["Owner"]["ID"], A_ID,
       "an anonymous write is owned by the bucket owner")
    a.put_bucket_acl(Bucket="groups", ACL="private")
    expect_error("AccessDenied", 403, anon.put_object, Bucket="groups", Key="x", Body=b"x")


def test_deny_beats_a_grant():
    writer_bucket("denied")
    a.put_object(Bucket="denied", Key="pub", Body=b"x", ACL="public-read")
    a.put_bucket_policy(Bucket="denied", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::denied/*"}]}))
    expect_error("AccessDenied", 403, anon.get_object, Bucket="denied", Key="pub")
    expect_error("AccessDenied", 403, b.get_object, Bucket="denied", Key="pub")
    a.delete_bucket_policy(Bucket="denied")
    eq(b.get_object(Bucket="denied", Key="pub")["Body"].read(), b"x", "the grant again")


def test_iam_user_of_another_account_needs_its_policy():
    import boto3
    writer_bucket("cross-user")
    a.put_object(Bucket="cross-user", Key="k", Body=b"x")
    a.put_object_acl(Bucket="cross-user", Key="k", GrantRead="id=" + B_ID)
    iam = boto3.session.Session(aws_access_key_id=B_AKID, aws_secret_access_key=B_SECRET,
                                region_name="us-east-1").client("iam", endpoint_url=st.endpoint)
    iam.create_user(UserName="reader")
    k = iam.create_access_key(UserName="reader")["AccessKey"]
    u = st.client(akid=k["AccessKeyId"], secret=k["SecretAccessKey"])
    expect_error("AccessDenied", 403, u.get_object, Bucket="cross-user", Key="k")
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "*"}]}))
    eq(u.get_object(Bucket="cross-user", Key="k")["Body"].read(), b"x",
       "identity Allow + the account's grant")


def test_upload_owner_and_expected_bucket_owner():
    writer_bucket("uploads")
    a.put_bucket_acl(Bucket="uploads", ACL="public-read-write")
    ua = a.create_multipart_upload(Bucket="uploads", Key="a")["UploadId"]
    ub = b.create_multipart_upload(Bucket="uploads", Key="b")["UploadId"]
    ups = {u["Key"]: u for u in a.list_multipart_uploads(Bucket="uploads")["Uploads"]}
    for key, cid in (("a", A_ID), ("b", B_ID)):
        eq(ups[key]["Initiator"]["ID"], cid, "a root initiator is its canonical id")
        eq(ups[key]["Owner"]["ID"], cid, "ObjectWriter: the initiator's account owns it")
    eq(b.list_parts(Bucket="uploads", Key="b", UploadId=ub)["Owner"]["ID"], B_ID, "ListParts")
    a.abort_multipart_upload(Bucket="uploads", Key="a", UploadId=ua)
    b.abort_multipart_upload(Bucket="uploads", Key="b", UploadId=ub)
    a.list_objects_v2(Bucket="uploads", ExpectedBucketOwner=ACCOUNT_A)
    expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket="uploads",
                 ExpectedBucketOwner=B_ACCOUNT)
    expect_error("AccessDenied", 403, b.put_object, Bucket="uploads", Key="x", Body=b"x",
                 ExpectedBucketOwner=A_ID)
    b.put_object(Bucket="uploads", Key="x", Body=b"x", ExpectedBucketOwner=ACCOUNT_A)


def test_acl_errors():
    writer_bucket("errs")
    a.put_object(Bucket="errs", Key="k", Body=b"x")
    expect_error("InvalidRequest", 400, a.put_bucket_acl, Bucket="errs", ACL="public-read",
                 GrantRead="id=" + B_ID)
    expect_error("InvalidArgument", 400, a.put_bucket_acl, Bucket="errs", ACL="world-writable")
    expect_error("InvalidArgument", 400, a.put_object, Bucket="errs", Key="k2", Body=b"x",
                 ACL="world-writable")
    expect_error("InvalidArgument", 400, a.put_bucket_acl, Bucket="errs", GrantRead="id")
    expect_error("InvalidArgument", 400, a.put_bucket_acl, Bucket="errs", GrantRead="nick=x")
    expect_error("InvalidArgument", 400, a.put_bucket_acl, Bucket="errs", GrantRead="uri=http://x/")
    expect_error("InvalidArgument", 400, a.put_bucket_acl, Bucket="errs", GrantRead="id=" + "0" * 64)
    expect_error("UnresolvableGrantByEmailAddress", 400, a.put_bucket_acl, Bucket="errs",
                 GrantRead="emailAddress=nobody@example.com")
    bad_perm = {"Owner": {"ID": A_ID},
                "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": A_ID}, "Permission": "ALL"}]}
    expect_error("MalformedACLError", 400, a.put_bucket_acl, Bucket="errs",
                 AccessControlPolicy=bad_perm)
    expect_error("MalformedACLError", 400, a.put_object_acl, Bucket="errs", Key="k",
                 AccessControlPolicy=bad_perm)
    status, _, body = st.request("PUT", "/errs", query="acl")
    eq(status, 400, "PutBucketAcl without any ACL")
    assert b"MalformedACLError" in body, body
    expect_error("NoSuchKey", 404, a.put_object_acl, Bucket="errs", Key="absent", ACL="private")
    # Nothing changed on the way.
    eq(grants(a.get_bucket_acl(Bucket="errs")), [("user", A_ID, "FULL_CONTROL")], "unchanged")


cvstore.main(globals())
