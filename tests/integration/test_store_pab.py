"""S3 Block Public Access against the real binary, with boto3 (and awscli).

Put/Get/DeletePublicAccessBlock, GetBucketPolicyStatus, what each of the
four settings does (BlockPublicAcls on every request shape that carries an
ACL, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets), the
default configuration of new buckets and `--default-public-access-block`,
the error codes, and the authorization of the PAB actions themselves.
"""
import json
import subprocess

import cvstore
from cvstore import eq, expect_error

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

st = cvstore.Store("pab")
s3 = st.client()
anon = st.client(signed=False)
B_AKID, B_SECRET, B_ACCOUNT = st.add_account("other")
other = st.client(B_AKID, B_SECRET)
ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}
ALL_OFF = {k: False for k in ALL_ON}
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def iam_client(akid=None, secret=None):
    return boto3.session.Session(aws_access_key_id=akid or st.akid,
                                 aws_secret_access_key=secret or st.secret,
                                 region_name="us-east-1").client(
        "iam", endpoint_url=st.endpoint, config=Config(retries={"max_attempts": 1}))


iam = iam_client()
ACCOUNT = iam.get_user()["User"]["Arn"].split(":")[4]
OTHER_CID = other.list_buckets()["Owner"]["ID"]


def pab(bucket, client=None):
    return (client or s3).get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]


def put_pab(bucket, **flags):
    conf = dict(ALL_OFF)
    conf.update(flags)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf)


def acl_bucket(name, **flags):
    """A bucket with ACLs on (ObjectWriter) and the given PAB flags (none: no configuration)."""
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    if flags:
        put_pab(name, **flags)


def policy(bucket, principal, action="s3:GetObject", resource=None, condition=None,
           effect="Allow"):
    st_ = {"Effect": effect, "Principal": principal, "Action": action,
           "Resource": resource or "arn:aws:s3:::%s/*" % bucket}
    if condition:
        st_["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st_]})


def is_public(bucket):
    return s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"]


def iam_user(name, actions):
    """An IAM user of the default account allowed @actions on every resource; its client."""
    iam.create_user(UserName=name)
    if actions:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return st.client(k["AccessKeyId"], k["SecretAccessKey"])


# -- the configuration itself ---------------------------------------------------

def test_new_buckets_get_all_four():
    s3.create_bucket(Bucket="fresh")
    eq(pab("fresh"), ALL_ON, "the default configuration (AWS since April 2023)")


def test_put_get_delete():
    s3.create_bucket(Bucket="crud")
    conf = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False}
    r = s3.put_public_access_block(Bucket="crud", PublicAccessBlockConfiguration=conf)
    eq(r["ResponseMetadata"]["HTTPStatusCode"], 200, "PutPublicAccessBlock status")
    eq(pab("crud"), conf, "round trip")
    # Elements left out are false.
    s3.put_public_access_block(Bucket="crud",
                               PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    eq(pab("crud"), dict(ALL_OFF, IgnorePublicAcls=True), "a partial document")
    r = s3.delete_public_access_block(Bucket="crud")
    eq(r["ResponseMetadata"]["HTTPStatusCode"], 204, "DeletePublicAccessBlock status")
    e = expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block,
                     Bucket="crud")
    eq(e.response["Error"].get("BucketName"), "crud", "BucketName in the error")
    s3.delete_public_access_block(Bucket="crud")  # deleting none is fine
    expect_error("NoSuchBucket", 404, s3.get_public_access_block, Bucket="no-such-bucket")
    expect_error("NoSuchBucket", 404, s3.put_public_access_block, Bucket="no-such-bucket",
                 PublicAccessBlockConfiguration=ALL_ON)


def test_survives_a_restart():
    w = cvstore.Store("pab-restart", extra_args=["--quiet"])
    try:
        c = w.client()
        c.create_bucket(Bucket="kept")
        conf = dict(ALL_OFF, BlockPublicPolicy=True, RestrictPublicBuckets=True)
        c.put_public_access_block(Bucket="kept", PublicAccessBlockConfiguration=conf)
        w.restart()
        eq(pab("kept", w.client()), conf, "after a restart")
    finally:
        w.stop()


def test_malformed_documents():
    s3.create_bucket(Bucket="malformed")
    ns = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    bad = [
        b"",
        b"not xml",
        ("<Other%s><BlockPublicAcls>true</BlockPublicAcls></Other>" % ns).encode(),
        ("<PublicAccessBlockConfiguration%s><BlockPublicAcls>yes</BlockPublicAcls>"
         "</PublicAccessBlockConfiguration>" % ns).encode(),
        ("<PublicAccessBlockConfiguration%s><BlockEverything>true</BlockEverything>"
         "</PublicAccessBlockConfiguration>" % ns).encode(),
        ("<PublicAccessBlockConfiguration%s><BlockPublicAcls>true</BlockPublicAcls>"
         "<BlockPublicAcls>false</BlockPublicAcls></PublicAccessBlockConfiguration>" % ns).encode(),
    ]
    for body in bad:
        status, _, data = st.request("PUT", "/malformed", body=body, query="publicAccessBlock=")
        eq((status, cvstore.xml_text(data, "Code")), (400, "MalformedXML"), body)
    eq(pab("malformed"), ALL_ON, "unchanged by refused documents")


def test_flag_off_and_bad_values():
    w = cvstore.Store("pab-off", extra_args=["--quiet", "--default-public-access-block", "off"])
    try:
        c = w.client()
        c.create_bucket(Bucket="open")
        expect_error("NoSuchPublicAccessBlockConfiguration", 404, c.get_public_access_block,
                     Bucket="open")
        # Without a configuration public ACLs are accepted, on CreateBucket too.
        c.create_bucket(Bucket="open-acl", ObjectOwnership="ObjectWriter", ACL="public-read")
        eq(c.get_bucket_acl(Bucket="open-acl")["Grants"][0]["Grantee"].get("URI"), ALL_USERS,
           "public-read at creation")
    finally:
        w.stop()
    out = subprocess.run([cvstore.BIN, "store", "serve", "--data", w.dir, "--listen",
                          "127.0.0.1:0", "--default-public-access-block", "maybe"],
                         capture_output=True, timeout=60)
    assert out.returncode != 0, "a bad --default-public-access-block must not start"
    assert b"on or off" in out.stderr, out.stderr


def test_awscli():
    s3.create_bucket(Bucket="cli")
    put_pab("cli", BlockPublicAcls=True)
    out = subprocess.run([cvstore.AWS, "--endpoint-url", st.endpoint, "s3api",
                          "get-public-access-block", "--bucket", "cli", "--output", "json"],
                         env=st.env(), capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    eq(json.loads(out.stdout)["PublicAccessBlockConfiguration"], dict(ALL_OFF, BlockPublicAcls=True),
       "aws s3api get-public-access-block")


# -- BlockPublicAcls ------------------------------------------------------------

def test_block_public_acls_on_create_bucket():
    # The default configuration applies to the bucket being created (AWS's error).
    expect_error("InvalidBucketAclWithBlockPublicAccessError", 400, s3.create_bucket,
                 Bucket="born-public", ObjectOwnership="ObjectWriter", ACL="public-read")
    expect_error("InvalidBucketAclWithBlockPublicAccessError", 400, s3.create_bucket,
                 Bucket="born-public", ObjectOwnership="ObjectWriter",
                 GrantRead='uri="%s"' % ALL_USERS)
    expect_error("404", 404, s3.head_bucket, Bucket="born-public")  # HEAD: no body
    s3.create_bucket(Bucket="born-private", ObjectOwnership="ObjectWriter", ACL="private")
    # ACLs disabled (the default ownership): that error comes first, as on AWS.
    expect_error("InvalidBucketAclWithObjectOwnership", 400, s3.create_bucket,
                 Bucket="born-enforced", ACL="public-read")


def test_block_public_acls_on_every_shape():
    acl_bucket("bpa", BlockPublicAcls=True)
    for canned in ("public-read", "public-read-write", "authenticated-read"):
        expect_error("AccessDenied", 403, s3.put_bucket_acl, Bucket="bpa", ACL=canned)
        expect_error("AccessDenied", 403, s3.put_object, Bucket="bpa", Key="k", Body=b"x",
                     ACL=canned)
    expect_error("AccessDenied", 403, s3.put_bucket_acl, Bucket="bpa",
                 GrantRead='uri="%s"' % ALL_USERS)
    owner = s3.get_bucket_acl(Bucket="bpa")["Owner"]
    expect_error("AccessDenied", 403, s3.put_bucket_acl, Bucket="bpa", AccessControlPolicy={
        "Owner": owner, "Grants": [
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]})
    expect_error("NoSuchKey", 404, s3.get_object, Bucket="bpa", Key="k")  # nothing stored
    s3.put_object(Bucket="bpa", Key="k", Body=b"x", ACL="private")
    expect_error("AccessDenied", 403, s3.put_object_acl, Bucket="bpa", Key="k", ACL="public-read")
    expect_error("AccessDenied", 403, s3.copy_object, Bucket="bpa", Key="copy",
                 CopySource={"Bucket": "bpa", "Key": "k"}, ACL="public-read")
    expect_error("AccessDenied", 403, s3.create_multipart_upload, Bucket="bpa", Key="mpu",
                 ACL="public-read-write")
    # Non-public grants still go through: another account, the owner.
    s3.put_object_acl(Bucket="bpa", Key="k", GrantRead='id="%s"' % OTHER_CID)
    eq(other.get_object(Bucket="bpa", Key="k")["Body"].read(), b"x", "a grant to an account")
    s3.put_bucket_acl(Bucket="bpa", ACL="private")
    # Existing public ACLs are left alone when the setting is turned on.
    acl_bucket("bpa-late")
    s3.put_object(Bucket="bpa-late", Key="pub", Body=b"p", ACL="public-read")
    put_pab("bpa-late", BlockPublicAcls=True)
    eq(anon.get_object(Bucket="bpa-late", Key="pub")["Body"].read(), b"p",
       "an existing public ACL still reads")


def test_block_public_acls_on_post_object():
    import requests
    acl_bucket("bpa-post", BlockPublicAcls=True)
    url = "%s/bpa-post" % st.endpoint

    def post(acl):
        p = s3.generate_presigned_post("bpa-post", "form", Fields={"acl": acl},
                                       Conditions=[{"acl": acl}], ExpiresIn=600)
        files = [(k, (None, v)) for k, v in p["fields"].items()] + [("file", ("f", b"form"))]
        return requests.post(url, files=files, timeout=60)
    r = post("public-read")
    eq(r.status_code, 403, "POST Object with a public acl field: %s" % r.text)
    assert b"<Code>AccessDenied</Code>" in r.content, r.content
    eq(post("private").status_code, 204, "POST Object with a private acl field")


# -- IgnorePublicAcls -----------------------------------------------------------

def test_ignore_public_acls():
    acl_bucket("ign")
    s3.put_bucket_acl(Bucket="ign", ACL="public-read")
    s3.put_object(Bucket="ign", Key="pub", Body=b"public", ACL="public-read")
    s3.put_object(Bucket="ign", Key="auth", Body=b"signed", ACL="authenticated-read")
    s3.put_object(Bucket="ign", Key="granted", Body=b"granted", GrantRead='id="%s"' % OTHER_CID)
    eq(anon.get_object(Bucket="ign", Key="pub")["Body"].read(), b"public", "public before")
    eq(other.get_object(Bucket="ign", Key="auth")["Body"].read(), b"signed", "auth-read before")
    anon.list_objects_v2(Bucket="ign")
    put_pab("ign", IgnorePublicAcls=True)
    expect_error("AccessDenied", 403, anon.get_object, Bucket="ign", Key="pub")
    expect_error("AccessDenied", 403, other.get_object, Bucket="ign", Key="pub")
    expect_error("AccessDenied", 403, other.get_object, Bucket="ign", Key="auth")
    expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket="ign")
    # Grants to accounts and the owner's rights are not public: they still count.
    eq(other.get_object(Bucket="ign", Key="granted")["Body"].read(), b"granted", "account grant")
    eq(s3.get_object(Bucket="ign", Key="pub")["Body"].read(), b"public", "the owner")
    # The ACLs themselves are unchanged, and public again once the setting goes.
    eq(s3.get_object_acl(Bucket="ign", Key="pub")["Grants"][0]["Grantee"].get("URI"), ALL_USERS,
       "GetObjectAcl still reports the public grant")
    s3.delete_public_access_block(Bucket="ign")
    eq(anon.get_object(Bucket="ign", Key="pub")["Body"].read(), b"public", "public after")


# -- BlockPublicPolicy ----------------------------------------------------------

def test_block_public_policy():
    s3.create_bucket(Bucket="bpp")
    put_pab("bpp", BlockPublicPolicy=True)
    expect_error("AccessDenied", 403, s3.put_bucket_policy, Bucket="bpp",
                 Policy=policy("bpp", "*"))
    expect_error("AccessDenied", 403, s3.put_bucket_policy, Bucket="bpp",
                 Policy=policy("bpp", {"AWS": "*"}, condition={"IpAddress": {"aws:SourceIp":
                                                                             "0.0.0.0/0"}}))
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket="bpp")
    # Non-public policies are fine.
    s3.put_bucket_policy(Bucket="bpp", Policy=policy("bpp", {"AWS": "arn:aws:iam::%s:root"
                                                             % B_ACCOUNT}))
    s3.put_bucket_policy(Bucket="bpp", Policy=policy(
        "bpp", "*", condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/32"}}))
    # A malformed policy is still MalformedPolicy, not AccessDenied.
    expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket="bpp", Policy="{}")
    # Turning the setting on leaves an existing public policy in place.
    s3.create_bucket(Bucket="bpp-late")
    s3.delete_public_access_block(Bucket="bpp-late")
    s3.put_bucket_policy(Bucket="bpp-late", Policy=policy("bpp-late", "*"))
    put_pab("bpp-late", BlockPublicPolicy=True)
    eq(is_public("bpp-late"), True, "the existing policy stays")


# -- RestrictPublicBuckets ------------------------------------------------------

def test_restrict_public_buckets():
    s3.create_bucket(Bucket="rpb")
    s3.delete_public_access_block(Bucket="rpb")
    s3.put_object(Bucket="rpb", Key="k", Body=b"bar")
    doc = json.loads(policy("rpb", "*"))
    # A non-public statement for the other account in the same (public) policy.
    doc["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root"
                                                              % B_ACCOUNT},
                             "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::rpb"})
    s3.put_bucket_policy(Bucket="rpb", Policy=json.dumps(doc))
    user = iam_user("rpb-reader", [])  # no identity policy: only the bucket policy allows it
    eq(anon.get_object(Bucket="rpb", Key="k")["Body"].read(), b"bar", "anonymous before")
    eq(other.get_object(Bucket="rpb", Key="k")["Body"].read(), b"bar", "other account before")
    other.list_objects_v2(Bucket="rpb")
    put_pab("rpb", RestrictPublicBuckets=True)
    expect_error("AccessDenied", 403, anon.get_object, Bucket="rpb", Key="k")
    expect_error("AccessDenied", 403, other.get_object, Bucket="rpb", Key="k")
    expect_error("AccessDenied", 403, other.list_objects_v2, Bucket="rpb")  # non-public grant too
    eq(s3.get_object(Bucket="rpb", Key="k")["Body"].read(), b"bar", "the owner")
    eq(user.get_object(Bucket="rpb", Key="k")["Body"].read(), b"bar",
       "a user of the owner's account through the public policy")
    # A non-public policy is not restricted: cross-account grants work again.
    s3.put_bucket_policy(Bucket="rpb", Policy=policy("rpb", {"AWS": "arn:aws:iam::%s:root"
                                                             % B_ACCOUNT}))
    eq(other.get_object(Bucket="rpb", Key="k")["Body"].read(), b"bar", "non-public policy")
    expect_error("AccessDenied", 403, anon.get_object, Bucket="rpb", Key="k")


# -- GetBucketPolicyStatus ------------------------------------------------------

def test_policy_status():
    s3.create_bucket(Bucket="status")
    s3.delete_public_access_block(Bucket="status")
    e = expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy_status, Bucket="status")
    eq(e.response["Error"].get("BucketName"), "status", "BucketName in the error")
    acct = {"AWS": "arn:aws:iam::%s:root" % B_ACCOUNT}
    shapes = [
        ("Principal *", policy("status", "*"), True),
        ("AWS *", policy("status", {"AWS": "*"}, "s3:ListBucket", "arn:aws:s3:::status"), True),
        ("an account", policy("status", acct), False),
        ("Deny to *", policy("status", "*", effect="Deny"), False),
        ("SourceIp /32", policy("status", "*", condition={"IpAddress": {
            "aws:SourceIp": "10.0.0.0/32"}}), False),
        ("SourceIp 0.0.0.0/0", policy("status", "*", condition={"IpAddress": {
            "aws:SourceIp": "0.0.0.0/0"}}), True),
        ("SourceVpc fixed", policy("status", "*", condition={"StringEquals": {
            "aws:SourceVpc": "vpc-91237329"}}), False),
        ("SourceVpc wildcard", policy("status", "*", condition={"StringLike": {
            "aws:SourceVpc": "vpc-*"}}), True),
        ("PrincipalAccount fixed", policy("status", "*", condition={"StringEquals": {
            "aws:PrincipalAccount": B_ACCOUNT}}), False),
        ("a key that does not narrow", policy("status", "*", condition={"StringEquals": {
            "aws:UserAgent": "curl"}}), True),
    ]
    for name, doc, want in shapes:
        s3.put_bucket_policy(Bucket="status", Policy=doc)
        eq(is_public("status"), want, name)
    s3.delete_bucket_policy(Bucket="status")
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy_status, Bucket="status")


# -- authorization of the PAB actions -------------------------------------------

def test_pab_actions_are_authorized():
    s3.create_bucket(Bucket="authz")
    s3.put_bucket_policy(Bucket="authz", Policy=policy(
        "authz", {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "s3:GetObject"))
    nobody = iam_user("pab-nobody", [])
    expect_error("AccessDenied", 403, nobody.get_public_access_block, Bucket="authz")
    expect_error("AccessDenied", 403, nobody.put_public_access_block, Bucket="authz",
                 PublicAccessBlockConfiguration=ALL_OFF)
    expect_error("AccessDenied", 403, nobody.delete_public_access_block, Bucket="authz")
    expect_error("AccessDenied", 403, nobody.get_bucket_policy_status, Bucket="authz")
    reader = iam_user("pab-reader", ["s3:GetBucketPublicAccessBlock", "s3:GetBucketPolicyStatus"])
    eq(pab("authz", reader), ALL_ON, "s3:GetBucketPublicAccessBlock allows the read")
    eq(reader.get_bucket_policy_status(Bucket="authz")["PolicyStatus"]["IsPublic"], False,
       "s3:GetBucketPolicyStatus")
    expect_error("AccessDenied", 403, reader.put_public_access_block, Bucket="authz",
                 PublicAccessBlockConfiguration=ALL_OFF)
    expect_error("AccessDenied", 403, reader.delete_public_access_block, Bucket="authz")
    # DeletePublicAccessBlock needs s3:PutBucketPublicAccessBlock, as on AWS.
    writer = iam_user("pab-writer", ["s3:PutBucketPublicAccessBlock"])
    writer.put_public_access_block(Bucket="authz", PublicAccessBlockConfiguration=ALL_OFF)
    eq(pab("authz"), ALL_OFF, "written by the user")
    writer.delete_public_access_block(Bucket="authz")
    expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block,
                 Bucket="authz")
    # Another account has no say over the bucket.
    expect_error("AccessDenied", 403, other.put_public_access_block, Bucket="authz",
                 PublicAccessBlockConfiguration=ALL_ON)
    # A bucket policy Deny binds the owner's users too.
    s3.put_bucket_policy(Bucket="authz", Policy=policy(
        "authz", "*", "s3:GetBucketPublicAccessBlock", "arn:aws:s3:::authz", effect="Deny"))
    expect_error("AccessDenied", 403, reader.get_public_access_block, Bucket="authz")


cvstore.main(globals())
