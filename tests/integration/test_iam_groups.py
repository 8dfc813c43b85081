"""Store + boto3: IAM groups, managed policies, roles and OIDC providers.

Groups (CRUD, membership, inline policies, case-insensitive names), managed
policies (built-in AWS ones and customer ones: create, get, versions, list
scopes, attach/detach, DeleteConflict, the 10-per-identity quota), and what
they mean for access: an attached policy grants, detaching takes it away,
group membership grants, an explicit Deny in a group policy wins over an
Allow elsewhere. Roles and OIDC providers CRUD, GetAccountSummary counts,
the error codes, and `caravel store users add` with --attach-policy-file."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import eq, expect_error  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

st = cvstore.Store("iamgroups")
s3root = st.client()


def iam_client(akid=None, secret=None, validate=True):
    return boto3.session.Session(aws_access_key_id=akid or st.akid,
                                 aws_secret_access_key=secret or st.secret,
                                 region_name="us-east-1").client(
        "iam", endpoint_url=st.endpoint,
        config=Config(retries={"max_attempts": 1}, parameter_validation=validate))


iam = iam_client()
raw_iam = iam_client(validate=False)  # sends what botocore would refuse to
ACCOUNT = iam.get_user()["User"]["Arn"].split(":")[4]
S3_FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def doc(effect, action, resource="*"):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]})


def new_user(name):
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return st.client(k["AccessKeyId"], k["SecretAccessKey"])


def denied(fn, *a, **kw):
    expect_error("AccessDenied", 403, fn, *a, **kw)


def test_group_crud_and_errors():
    g = iam.create_group(GroupName="Devs", Path="/eng/")["Group"]
    eq((g["GroupName"], g["Path"], g["Arn"]), ("Devs", "/eng/", "arn:aws:iam::%s:group/eng/Devs" % ACCOUNT),
       "CreateGroup")
    assert g["GroupId"].startswith("AGPA"), g
    expect_error("EntityAlreadyExists", 409, iam.create_group, GroupName="devs")
    expect_error("ValidationError", 400, iam.create_group, GroupName="bad name")
    expect_error("ValidationError", 400, iam.create_group, GroupName="g2", Path="no-slash")
    eq(iam.get_group(GroupName="DEVS")["Group"], g, "GetGroup is case-insensitive")
    expect_error("NoSuchEntity", 404, iam.get_group, GroupName="nope")
    iam.create_group(GroupName="admins")
    eq([x["GroupName"] for x in iam.list_groups()["Groups"]], ["admins", "Devs"], "ListGroups order")
    eq([x["GroupName"] for x in iam.list_groups(PathPrefix="/eng/")["Groups"]], ["Devs"], "PathPrefix")
    iam.create_user(UserName="ann")
    iam.add_user_to_group(GroupName="devs", UserName="ANN")
    iam.add_user_to_group(GroupName="Devs", UserName="ann")  # idempotent
    eq([u["UserName"] for u in iam.get_group(GroupName="Devs")["Users"]], ["ann"], "members")
    eq([x["GroupName"] for x in iam.list_groups_for_user(UserName="ann")["Groups"]], ["Devs"],
       "ListGroupsForUser")
    expect_error("NoSuchEntity", 404, iam.add_user_to_group, GroupName="Devs", UserName="nobody")
    expect_error("NoSuchEntity", 404, iam.add_user_to_group, GroupName="nogroup", UserName="ann")
    expect_error("DeleteConflict", 409, iam.delete_group, GroupName="Devs")
    iam.update_group(GroupName="Devs", NewGroupName="Developers", NewPath="/eng2/")
    got = iam.get_group(GroupName="Developers")
    eq((got["Group"]["Path"], got["Group"]["GroupId"], [u["UserName"] for u in got["Users"]]),
       ("/eng2/", g["GroupId"], ["ann"]), "UpdateGroup keeps id and members")
    iam.remove_user_from_group(GroupName="Developers", UserName="ann")
    expect_error("NoSuchEntity", 404, iam.remove_user_from_group, GroupName="Developers", UserName="ann")
    iam.put_group_policy(GroupName="Developers", PolicyName="p", PolicyDocument=doc("Allow", "s3:ListBucket"))
    eq(iam.list_group_policies(GroupName="Developers")["PolicyNames"], ["p"], "ListGroupPolicies")
    eq(iam.get_group_policy(GroupName="Developers", PolicyName="p")["PolicyDocument"]["Statement"][0]["Action"],
       "s3:ListBucket", "GetGroupPolicy")
    expect_error("NoSuchEntity", 404, iam.get_group_policy, GroupName="Developers", PolicyName="q")
    expect_error("MalformedPolicyDocument", 400, iam.put_group_policy, GroupName="Developers",
                 PolicyName="bad", PolicyDocument='{"Statement": []}')
    big = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b%04d/*" % i}
        for i in range(200)]})
    expect_error("LimitExceeded", 409, iam.put_group_policy, GroupName="Developers",
                 PolicyName="big", PolicyDocument=big)
    expect_error("DeleteConflict", 409, iam.delete_group, GroupName="Developers")
    iam.delete_group_policy(GroupName="Developers", PolicyName="p")
    expect_error("NoSuchEntity", 404, iam.delete_group_policy, GroupName="Developers", PolicyName="p")
    iam.delete_group(GroupName="Developers")
    iam.delete_group(GroupName="admins")
    expect_error("NoSuchEntity", 404, iam.delete_group, GroupName="admins")
    iam.delete_user(UserName="ann")


def test_managed_policies_crud():
    p = iam.get_policy(PolicyArn=S3_READ)["Policy"]
    eq((p["PolicyName"], p["DefaultVersionId"]), ("AmazonS3ReadOnlyAccess", "v1"), "built-in policy")
    v = iam.get_policy_version(PolicyArn=S3_READ, VersionId="v1")["PolicyVersion"]
    assert v["IsDefaultVersion"] and v["Document"]["Statement"], v
    expect_error("NoSuchEntity", 404, iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchThing")
    mine = iam.create_policy(PolicyName="ReadLogs", Path="/team/", Description="read the logs",
                             PolicyDocument=doc("Allow", "s3:GetObject", "arn:aws:s3:::logs/*"))["Policy"]
    eq(mine["Arn"], "arn:aws:iam::%s:policy/team/ReadLogs" % ACCOUNT, "customer policy ARN")
    eq(mine["AttachmentCount"], 0, "AttachmentCount")
    expect_error("EntityAlreadyExists", 409, iam.create_policy, PolicyName="readlogs",
                 PolicyDocument=doc("Allow", "s3:GetObject"))
    expect_error("MalformedPolicyDocument", 400, iam.create_policy, PolicyName="x",
                 PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",'
                                '"Resource":"*","Principal":"*"}]}')
    got = iam.get_policy_version(PolicyArn=mine["Arn"], VersionId="v1")["PolicyVersion"]["Document"]
    eq(got["Statement"][0]["Resource"], "arn:aws:s3:::logs/*", "GetPolicyVersion document")
    expect_error("NoSuchEntity", 404, iam.get_policy_version, PolicyArn=mine["Arn"], VersionId="v2")
    eq([x["VersionId"] for x in iam.list_policy_versions(PolicyArn=mine["Arn"])["Versions"]], ["v1"],
       "ListPolicyVersions")
    local = [x["PolicyName"] for x in iam.list_policies(Scope="Local")["Policies"]]
    eq(local, ["ReadLogs"], "Scope=Local")
    aws = [x["PolicyName"] for x in iam.list_policies(Scope="AWS")["Policies"]]
    assert "AmazonS3FullAccess" in aws and "ReadLogs" not in aws, aws
    eq(iam.list_policies(OnlyAttached=True)["Policies"], [], "OnlyAttached with nothing attached")
    iam.create_user(UserName="bob")
    iam.attach_user_policy(UserName="bob", PolicyArn=mine["Arn"])
    eq([x["PolicyName"] for x in iam.list_policies(OnlyAttached=True)["Policies"]], ["ReadLogs"],
       "OnlyAttached")
    eq(iam.get_policy(PolicyArn=mine["Arn"])["Policy"]["AttachmentCount"], 1, "AttachmentCount after attach")
    expect_error("DeleteConflict", 409, iam.delete_policy, PolicyArn=mine["Arn"])
    expect_error("DeleteConflict", 409, iam.delete_user, UserName="bob")
    iam.detach_user_policy(UserName="bob", PolicyArn=mine["Arn"])
    expect_error("NoSuchEntity", 404, iam.detach_user_policy, UserName="bob", PolicyArn=mine["Arn"])
    iam.delete_policy(PolicyArn=mine["Arn"])
    expect_error("NoSuchEntity", 404, iam.get_policy, PolicyArn=mine["Arn"])
    expect_error("NoSuchEntity", 404, iam.attach_user_policy, UserName="bob", PolicyArn=mine["Arn"])
    expect_error("NoSuchEntity", 404, iam.attach_user_policy, UserName="nobody", PolicyArn=S3_READ)
    # 10 attached policies per identity.
    arns = [iam.create_policy(PolicyName="q%d" % i, PolicyDocument=doc("Allow", "s3:GetObject"))["Policy"]["Arn"]
            for i in range(11)]
    for a in arns[:10]:
        iam.attach_user_policy(UserName="bob", PolicyArn=a)
    expect_error("LimitExceeded", 409, iam.attach_user_policy, UserName="bob", PolicyArn=arns[10])
    eq(len(iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"]), 10, "ten attached")
    for a in arns[:10]:
        iam.detach_user_policy(UserName="bob", PolicyArn=a)
    for a in arns:
        iam.delete_policy(PolicyArn=a)
    iam.delete_user(UserName="bob")


def retry_until(fn, want_ok, what):
    # Every IAM write drops the compiled-policy cache: no wait should be needed.
    from botocore.exceptions import ClientError
    try:
        fn()
        ok = True
    except ClientError as e:
        assert cvstore.error_code(e) == "AccessDenied", e
        ok = False
    eq(ok, want_ok, what)


def test_attached_and_group_policies_decide_access():
    s3root.create_bucket(Bucket="grp-bucket")
    s3root.put_object(Bucket="grp-bucket", Key="k", Body=b"v")
    c = new_user("carol")
    denied(c.list_objects_v2, Bucket="grp-bucket")
    # A managed policy attached to the user grants; detaching takes it away.
    iam.attach_user_policy(UserName="carol", PolicyArn=S3_READ)
    eq(c.get_object(Bucket="grp-bucket", Key="k")["Body"].read(), b"v", "attached AWS policy grants")
    denied(c.put_object, Bucket="grp-bucket", Key="w", Body=b"x")
    iam.detach_user_policy(UserName="carol", PolicyArn=S3_READ)
    retry_until(lambda: c.list_objects_v2(Bucket="grp-bucket"), False, "detached: denied again")
    # Group membership grants: inline group policy, then attached group policy.
    iam.create_group(GroupName="writers")
    iam.put_group_policy(GroupName="writers", PolicyName="put",
                         PolicyDocument=doc("Allow", "s3:PutObject", "arn:aws:s3:::grp-bucket/*"))
    denied(c.put_object, Bucket="grp-bucket", Key="w", Body=b"x")
    iam.add_user_to_group(GroupName="writers", UserName="carol")
    c.put_object(Bucket="grp-bucket", Key="w", Body=b"x")
    mine = iam.create_policy(PolicyName="ListGrp", PolicyDocument=doc("Allow", "s3:ListBucket",
                                                                      "arn:aws:s3:::grp-bucket"))["Policy"]
    denied(c.list_objects_v2, Bucket="grp-bucket")
    iam.attach_group_policy(GroupName="writers", PolicyArn=mine["Arn"])
    eq(sorted(o["Key"] for o in c.list_objects_v2(Bucket="grp-bucket")["Contents"]), ["k", "w"],
       "attached group policy grants")
    # An explicit Deny in a group policy wins over the user's own Allow.
    iam.put_user_policy(UserName="carol", PolicyName="all", PolicyDocument=doc("Allow", "s3:*"))
    c.get_object(Bucket="grp-bucket", Key="k")
    iam.put_group_policy(GroupName="writers", PolicyName="nodelete",
                         PolicyDocument=doc("Deny", "s3:DeleteObject"))
    denied(c.delete_object, Bucket="grp-bucket", Key="w")
    # Leaving the group drops both its grants and its Deny.
    iam.remove_user_from_group(GroupName="writers", UserName="carol")
    c.delete_object(Bucket="grp-bucket", Key="w")
    iam.delete_user_policy(UserName="carol", PolicyName="all")
    denied(c.put_object, Bucket="grp-bucket", Key="w", Body=b"x")
    # Renaming a group keeps what it grants.
    iam.add_user_to_group(GroupName="writers", UserName="carol")
    iam.update_group(GroupName="writers", NewGroupName="writers2")
    c.put_object(Bucket="grp-bucket", Key="w", Body=b"x")
    denied(c.delete_object, Bucket="grp-bucket", Key="w")


def test_iam_actions_authorized_by_policy():
    k = iam.create_access_key(UserName="carol")["AccessKey"]
    ci = iam_client(k["AccessKeyId"], k["SecretAccessKey"])
    denied(ci.list_groups)
    denied(ci.create_group, GroupName="x")
    iam.attach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    names = [g["GroupName"] for g in ci.list_groups()["Groups"]]
    eq(names, ["writers2"], "ListGroups with IAMReadOnlyAccess")
    ci.list_roles()
    ci.list_policies(Scope="Local")
    denied(ci.create_group, GroupName="x")
    denied(ci.attach_user_policy, UserName="carol", PolicyArn=S3_FULL)
    iam.detach_user_policy(UserName="carol", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    denied(ci.list_groups)


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}}]})


def test_roles_crud():
    r = iam.create_role(RoleName="Builder", Path="/ci/", AssumeRolePolicyDocument=TRUST,
                        Description="builds", MaxSessionDuration=7200)["Role"]
    eq((r["Arn"], r["MaxSessionDuration"], r["Description"]),
       ("arn:aws:iam::%s:role/ci/Builder" % ACCOUNT, 7200, "builds"), "CreateRole")
    eq(json.dumps(r["AssumeRolePolicyDocument"]), TRUST, "trust policy as given")
    assert r["RoleId"].startswith("AROA"), r
    expect_error("EntityAlreadyExists", 409, iam.create_role, RoleName="builder", AssumeRolePolicyDocument=TRUST)
    expect_error("MalformedPolicyDocument", 400, iam.create_role, RoleName="r2",
                 AssumeRolePolicyDocument=doc("Allow", "s3:GetObject"))
    expect_error("MalformedPolicyDocument", 400, iam.create_role, RoleName="r2",
                 AssumeRolePolicyDocument="not json")
    expect_error("ValidationError", 400, raw_iam.create_role, RoleName="r2", AssumeRolePolicyDocument=TRUST,
                 MaxSessionDuration=60)
    eq(iam.get_role(RoleName="BUILDER")["Role"]["RoleId"], r["RoleId"], "GetRole")
    eq([x["RoleName"] for x in iam.list_roles(PathPrefix="/ci/")["Roles"]], ["Builder"], "ListRoles")
    iam.update_role(RoleName="Builder", Description="new", MaxSessionDuration=43200)
    got = iam.get_role(RoleName="Builder")["Role"]
    eq((got["Description"], got["MaxSessionDuration"]), ("new", 43200), "UpdateRole")
    iam.put_role_policy(RoleName="Builder", PolicyName="rp", PolicyDocument=doc("Allow", "s3:*"))
    eq(iam.list_role_policies(RoleName="Builder")["PolicyNames"], ["rp"], "ListRolePolicies")
    eq(iam.get_role_policy(RoleName="Builder", PolicyName="rp")["RoleName"], "Builder", "GetRolePolicy")
    iam.attach_role_policy(RoleName="Builder", PolicyArn=S3_FULL)
    eq([x["PolicyArn"] for x in iam.list_attached_role_policies(RoleName="Builder")["AttachedPolicies"]],
       [S3_FULL], "ListAttachedRolePolicies")
    expect_error("DeleteConflict", 409, iam.delete_role, RoleName="Builder")
    iam.delete_role_policy(RoleName="Builder", PolicyName="rp")
    expect_error("DeleteConflict", 409, iam.delete_role, RoleName="Builder")
    iam.detach_role_policy(RoleName="Builder", PolicyArn=S3_FULL)
    iam.delete_role(RoleName="Builder")
    expect_error("NoSuchEntity", 404, iam.get_role, RoleName="Builder")
    expect_error("NoSuchEntity", 404, iam.list_attached_role_policies, RoleName="Builder")


def test_oidc_providers():
    arn = iam.create_open_id_connect_provider(
        Url="https://idp.example.com/tenant", ClientIDList=["app1"],
        ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    eq(arn, "arn:aws:iam::%s:oidc-provider/idp.example.com/tenant" % ACCOUNT, "OIDC ARN")
    expect_error("EntityAlreadyExists", 409, iam.create_open_id_connect_provider,
                 Url="https://idp.example.com/tenant", ThumbprintList=["a" * 40])
    expect_error("ValidationError", 400, raw_iam.create_open_id_connect_provider,
                 Url="https://other.example.com", ThumbprintList=["short"])
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app2")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app2")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app1")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["b" * 40])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    eq((got["Url"], got["ClientIDList"], got["ThumbprintList"]),
       ("https://idp.example.com/tenant", ["app2"], ["b" * 40]), "GetOpenIDConnectProvider")
    eq([p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]], [arn], "list")
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    expect_error("NoSuchEntity", 404, iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)
    expect_error("NoSuchEntity", 404, iam.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn)


def test_account_summary_counts():
    m = iam.get_account_summary()["SummaryMap"]
    groups = len(iam.list_groups()["Groups"])
    policies = len(iam.list_policies(Scope="Local")["Policies"])
    eq((m["Groups"], m["Policies"], m["Roles"]), (groups, policies, 0), "summary counts")
    iam.create_role(RoleName="counted", AssumeRolePolicyDocument=TRUST)
    eq(iam.get_account_summary()["SummaryMap"]["Roles"], 1, "Roles after CreateRole")
    iam.delete_role(RoleName="counted")


def test_cli_users_add_with_policy():
    path = os.path.join(st.tmp, "seed.json")
    with open(path, "w") as f:
        f.write(doc("Allow", "s3:*"))
    out = subprocess.run([cvstore.BIN, "store", "users", "add", "default", "seeded", "--data", st.dir,
                          "--access-key-id", "SEEDSEEDSEEDSEED0001", "--secret-access-key-stdin",
                          "--attach-policy-file", path],
                         input=b"seedsecretseedsecret\n", capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    c = st.client("SEEDSEEDSEEDSEED0001", "seedsecretseedsecret")
    c.create_bucket(Bucket="seeded-bucket")
    eq([x["PolicyName"] for x in iam.list_attached_user_policies(UserName="seeded")["AttachedPolicies"]],
       ["seeded-policy"], "the seeded policy is attached, not inline")
    eq(iam.list_user_policies(UserName="seeded")["PolicyNames"], [], "no inline policy")
    iam.put_user_policy(UserName="seeded", PolicyName="deny", PolicyDocument=doc("Deny", "s3:PutObject"))
    denied(c.put_object, Bucket="seeded-bucket", Key="k", Body=b"x")
    again = subprocess.run([cvstore.BIN, "store", "users", "add", "default", "seeded", "--data", st.dir],
                           capture_output=True, timeout=60)
    assert again.returncode != 0 and b"already exists" in again.stderr, again
    bad = subprocess.run([cvstore.BIN, "store", "users", "add", "no-such-account", "x", "--data", st.dir],
                         capture_output=True, timeout=60)
    assert bad.returncode != 0 and b"no account" in bad.stderr, bad


def test_restart_keeps_everything():
    st.restart()
    global iam
    iam = iam_client()
    eq([g["GroupName"] for g in iam.list_groups()["Groups"]], ["writers2"], "groups persist")
    eq([u["UserName"] for u in iam.get_group(GroupName="writers2")["Users"]], ["carol"], "members persist")
    c = st.client("SEEDSEEDSEEDSEED0001", "seedsecretseedsecret")
    c.list_objects_v2(Bucket="seeded-bucket")


cvstore.main(globals())
