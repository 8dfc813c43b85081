"""Store + boto3: S3 Object Lock. Buckets created with Object Lock (versioning
on, cannot be suspended) or given it later (versioning must be on);
Put/GetObjectLockConfiguration with its errors; retention and legal hold
set on upload (PutObject, CopyObject, multipart) or later, per version;
the bucket's default retention; what they forbid: deleting a locked
version (GOVERNANCE yields to the bypass header from a caller allowed
s3:BypassGovernanceRetention, COMPLIANCE and legal holds to nobody),
shortening or changing a retention; deletes without a version id only add
a delete marker; DeleteObjects reports locked versions one by one; locks
survive a restart."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
import boto3  # noqa: E402

st = cvstore.Store("object-lock")
s3 = st.client()
UTC = datetime.timezone.utc
FAR = datetime.datetime(2090, 1, 1, tzinfo=UTC)


def lock_bucket(name, rule=None):
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    if rule:
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": rule}})
    return name


def soon(seconds):
    return datetime.datetime.now(UTC) + datetime.timedelta(seconds=seconds)


def test_bucket_created_with_object_lock():
    b = lock_bucket("lock-create")
    eq(s3.get_bucket_versioning(Bucket=b)["Status"], "Enabled", "versioning on")
    eq(s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"],
       {"ObjectLockEnabled": "Enabled"}, "configuration without a rule")
    expect_error("InvalidBucketState", 409, s3.put_bucket_versioning, Bucket=b,
                 VersioningConfiguration={"Status": "Suspended"})
    conf = {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 2}}}
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=conf)
    eq(s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"], conf, "rule kept")


def test_configuration_errors():
    plain = "lock-plain"
    s3.create_bucket(Bucket=plain)
    expect_error("ObjectLockConfigurationNotFoundError", 404, s3.get_object_lock_configuration,
                 Bucket=plain)
    conf = {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    expect_error("InvalidBucketState", 409, s3.put_object_lock_configuration, Bucket=plain,
                 ObjectLockConfiguration=conf)
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=plain, ObjectLockConfiguration=conf)  # now allowed
    b = lock_bucket("lock-conf-errors")
    for rule, code in (({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
                       ({"Mode": "GOVERNANCE", "Days": 0}, "InvalidRetentionPeriod"),
                       ({"Mode": "GOVERNANCE", "Years": -1}, "InvalidRetentionPeriod"),
                       ({"Mode": "governance", "Days": 1}, "MalformedXML"),
                       ({"Mode": "GOVERNANCE"}, "MalformedXML")):
        expect_error(code, 400, s3.put_object_lock_configuration, Bucket=b,
                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                              "Rule": {"DefaultRetention": rule}})
    expect_error("MalformedXML", 400, s3.put_object_lock_configuration, Bucket=b,
                 ObjectLockConfiguration={"ObjectLockEnabled": "Disabled"})


def test_put_with_lock_headers_and_head():
    b = lock_bucket("lock-put")
    v = s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=FAR, ObjectLockLegalHoldStatus="ON")["VersionId"]
    h = s3.head_object(Bucket=b, Key="k")
    eq(h["ObjectLockMode"], "GOVERNANCE", "mode on HEAD")
    eq(h["ObjectLockRetainUntilDate"], FAR, "date on HEAD")
    eq(h["ObjectLockLegalHoldStatus"], "ON", "hold on HEAD")
    eq(s3.get_object(Bucket=b, Key="k")["ObjectLockMode"], "GOVERNANCE", "mode on GET")
    eq(s3.get_object_retention(Bucket=b, Key="k", VersionId=v)["Retention"],
       {"Mode": "GOVERNANCE", "RetainUntilDate": FAR}, "retention")
    eq(s3.get_object_legal_hold(Bucket=b, Key="k")["LegalHold"], {"Status": "ON"}, "hold")
    # Header errors.
    expect_error("InvalidArgument", 400, s3.put_object, Bucket=b, Key="k2", Body=b"x",
                 ObjectLockMode="GOVERNANCE")
    expect_error("InvalidArgument", 400, s3.put_object, Bucket=b, Key="k2", Body=b"x",
                 ObjectLockMode="GOVERNANCE",
                 ObjectLockRetainUntilDate=datetime.datetime(2001, 1, 1, tzinfo=UTC))
    plain = "lock-put-plain"
    s3.create_bucket(Bucket=plain)
    expect_error("InvalidRequest", 400, s3.put_object, Bucket=plain, Key="k", Body=b"x",
                 ObjectLockLegalHoldStatus="ON")
    expect_error("InvalidRequest", 400, s3.get_object_retention, Bucket=plain, Key="k")


def test_default_retention_applies_to_new_versions():
    b = lock_bucket("lock-default", {"Mode": "GOVERNANCE", "Days": 1})
    v = s3.put_object(Bucket=b, Key="k", Body=b"x")["VersionId"]
    ret = s3.get_object_retention(Bucket=b, Key="k", VersionId=v)["Retention"]
    eq(ret["Mode"], "GOVERNANCE", "default mode")
    left = ret["RetainUntilDate"] - datetime.datetime.now(UTC)
    assert datetime.timedelta(hours=23) < left <= datetime.timedelta(days=1), left
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=b, Key="k", VersionId=v)
    s3.delete_object(Bucket=b, Key="k", VersionId=v, BypassGovernanceRetention=True)


def test_retention_rules():
    b = lock_bucket("lock-rules")
    v = s3.put_object(Bucket=b, Key="g", Body=b"x")["VersionId"]
    expect_error("NoSuchObjectLockConfiguration", 404, s3.get_object_retention, Bucket=b, Key="g")
    d1 = datetime.datetime(2080, 1, 3, tzinfo=UTC)
    d0 = datetime.datetime(2080, 1, 1, tzinfo=UTC)
    s3.put_object_retention(Bucket=b, Key="g", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d0})
    s3.put_object_retention(Bucket=b, Key="g", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d1})
    expect_error("AccessDenied", 403, s3.put_object_retention, Bucket=b, Key="g",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d0})  # shorter
    expect_error("AccessDenied", 403, s3.put_object_retention, Bucket=b, Key="g",
                 Retention={"Mode": "COMPLIANCE", "RetainUntilDate": d1})  # another mode
    s3.put_object_retention(Bucket=b, Key="g", BypassGovernanceRetention=True,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": d0})
    eq(s3.get_object_retention(Bucket=b, Key="g")["Retention"]["RetainUntilDate"], d0, "shortened")
    expect_error("MalformedXML", 400, s3.put_object_retention, Bucket=b, Key="g",
                 Retention={"Mode": "governance", "RetainUntilDate": d1})
    s3.delete_object(Bucket=b, Key="g", VersionId=v, BypassGovernanceRetention=True)
    # COMPLIANCE: extended yes, shortened or relaxed never, not even with the bypass.
    until = soon(3600)
    v = s3.put_object(Bucket=b, Key="c", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    for ret in ({"Mode": "COMPLIANCE", "RetainUntilDate": until - datetime.timedelta(minutes=5)},
                {"Mode": "GOVERNANCE", "RetainUntilDate": until + datetime.timedelta(days=1)}):
        expect_error("AccessDenied", 403, s3.put_object_retention, Bucket=b, Key="c",
                     Retention=ret, BypassGovernanceRetention=True)
    s3.put_object_retention(Bucket=b, Key="c",
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until + datetime.timedelta(days=1)})
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=b, Key="c", VersionId=v,
                 BypassGovernanceRetention=True)
    # A delete without a version id only adds a marker; the version stays.
    r = s3.delete_object(Bucket=b, Key="c")
    assert r.get("DeleteMarker"), r
    eq(s3.get_object(Bucket=b, Key="c", VersionId=v)["Body"].read(), b"x", "locked version kept")


def test_legal_hold_blocks_delete_until_off():
    b = lock_bucket("lock-hold")
    v = s3.put_object(Bucket=b, Key="k", Body=b"x")["VersionId"]
    s3.put_object_legal_hold(Bucket=b, Key="k", LegalHold={"Status": "ON"})
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=b, Key="k", VersionId=v,
                 BypassGovernanceRetention=True)
    expect_error("MalformedXML", 400, s3.put_object_legal_hold, Bucket=b, Key="k",
                 LegalHold={"Status": "on"})
    s3.put_object_legal_hold(Bucket=b, Key="k", LegalHold={"Status": "OFF"})
    eq(s3.get_object_legal_hold(Bucket=b, Key="k")["LegalHold"], {"Status": "OFF"}, "off")
    s3.delete_object(Bucket=b, Key="k", VersionId=v)


def test_delete_objects_reports_each_locked_version():
    b = lock_bucket("lock-multi")
    v1 = s3.put_object(Bucket=b, Key="a", Body=b"x", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=FAR)["VersionId"]
    v2 = s3.put_object(Bucket=b, Key="b", Body=b"x")["VersionId"]
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "a", "VersionId": v1},
                                                         {"Key": "b", "VersionId": v2}]})
    eq([(e["Key"], e["VersionId"], e["Code"]) for e in r.get("Errors", [])],
       [("a", v1, "AccessDenied")], "the locked one fails")
    eq([(d["Key"], d["VersionId"]) for d in r.get("Deleted", [])], [("b", v2)], "the other goes")
    r = s3.delete_objects(Bucket=b, BypassGovernanceRetention=True,
                          Delete={"Objects": [{"Key": "a", "VersionId": v1}]})
    eq(r.get("Errors", []), [], "bypassed")


def test_multipart_and_copy_carry_locks():
    b = lock_bucket("lock-mpu")
    u = s3.create_multipart_upload(Bucket=b, Key="m", ObjectLockLegalHoldStatus="ON")["UploadId"]
    p = s3.upload_part(Bucket=b, Key="m", UploadId=u, PartNumber=1, Body=b"abc")
    v = s3.complete_multipart_upload(Bucket=b, Key="m", UploadId=u, MultipartUpload={
        "Parts": [{"ETag": p["ETag"], "PartNumber": 1}]})["VersionId"]
    eq(s3.get_object_legal_hold(Bucket=b, Key="m", VersionId=v)["LegalHold"], {"Status": "ON"},
       "multipart hold")
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=b, Key="m", VersionId=v)
    s3.put_object_legal_hold(Bucket=b, Key="m", LegalHold={"Status": "OFF"})
    u = s3.create_multipart_upload(Bucket=b, Key="m2", ObjectLockLegalHoldStatus="ON")["UploadId"]
    s3.abort_multipart_upload(Bucket=b, Key="m2", UploadId=u)
    c = s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "m"},
                       ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    eq(s3.head_object(Bucket=b, Key="copy", VersionId=c["VersionId"])["ObjectLockMode"],
       "GOVERNANCE", "copy locked")


def test_bypass_needs_its_permission():
    b = lock_bucket("lock-perm")
    v = s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=FAR)["VersionId"]
    iam = boto3.session.Session(aws_access_key_id=st.akid, aws_secret_access_key=st.secret,
                                region_name="us-east-1").client("iam", endpoint_url=st.endpoint)
    iam.create_user(UserName="deleter")
    k = iam.create_access_key(UserName="deleter")["AccessKey"]
    iam.put_user_policy(UserName="deleter", PolicyName="del", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["s3:DeleteObjectVersion", "s3:PutObject"],
            "Resource": "arn:aws:s3:::%s/*" % b}]}))
    user = st.client(k["AccessKeyId"], k["SecretAccessKey"])
    expect_error("AccessDenied", 403, user.delete_object, Bucket=b, Key="k", VersionId=v,
                 BypassGovernanceRetention=True)
    # Setting a lock on upload needs s3:PutObjectRetention too.
    expect_error("AccessDenied", 403, user.put_object, Bucket=b, Key="u", Body=b"x",
                 ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    iam.put_user_policy(UserName="deleter", PolicyName="bypass", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:BypassGovernanceRetention",
            "Resource": "arn:aws:s3:::%s/*" % b}]}))
    user.delete_object(Bucket=b, Key="k", VersionId=v, BypassGovernanceRetention=True)


def test_locks_survive_restart():
    global s3
    b = lock_bucket("lock-restart", {"Mode": "GOVERNANCE", "Days": 3})
    v = s3.put_object(Bucket=b, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")["VersionId"]
    st.restart()
    s3 = st.client()
    eq(s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]["Rule"],
       {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}}, "rule after restart")
    h = s3.head_object(Bucket=b, Key="k")
    eq((h["ObjectLockMode"], h["ObjectLockLegalHoldStatus"]), ("GOVERNANCE", "ON"), "lock after restart")
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=b, Key="k", VersionId=v,
                 BypassGovernanceRetention=True)


cvstore.main(globals(), [st])
