#!/bin/bash
# The product guide's IAM setup, end to end, with awscli v2 against a fresh
# store: root creates the bucket and a user, puts the user-level policy and
# the bucket policy that `caravel policy generate` prints; then, as that
# user, ListObjectsV2 and PutObject (with and without the ACL header) work,
# GetObject and ListBuckets are denied; another user, an anonymous caller
# and an inactive key cannot write; a Deny overrides; every malformed bucket
# policy of IAM.md §1.9 is rejected with its message.
set -euo pipefail

bin=${CV_BIN:?CV_BIN must name the caravel binary}
aws=/usr/bin/aws
[ -x "$aws" ] || { echo "SKIP: awscli v2 is not installed at /usr/bin/aws"; exit 77; }

work=$(mktemp -d /tmp/cv-iam-guide.XXXXXX)
pid=
cleanup() {
    local rc=$?
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        if ! wait "$pid"; then
            echo "FAIL: the store did not exit cleanly; its log:" >&2
            cat "$work/store.log" >&2
            rc=1
        fi
    fi
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "--- store log:" >&2
    tail -30 "$work/store.log" >&2 || true
    exit 1
}

"$bin" store serve --data "$work/data" --listen 127.0.0.1:0 --quiet >"$work/store.log" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -s "$work/data/endpoint" ] && break; sleep 0.05; done
[ -s "$work/data/endpoint" ] || fail "the store did not start"
ep=$(cat "$work/data/endpoint")

export AWS_CONFIG_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
root() { AWS_SHARED_CREDENTIALS_FILE="$work/data/root-credentials" "$aws" --endpoint-url "$ep" "$@"; }
# as KEYFILE cmd...: run aws with the credentials in KEYFILE (a create-access-key answer)
as() {
    local f=$1
    shift
    AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        AWS_ACCESS_KEY_ID=$(sed -n 's/.*"AccessKeyId": "\([^"]*\)".*/\1/p' "$f") \
        AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*"SecretAccessKey": "\([^"]*\)".*/\1/p' "$f") \
        "$aws" --endpoint-url "$ep" "$@"
}
# expect_error CODE cmd...: the command must fail with that S3/IAM error code
expect_error() {
    local code=$1 out
    shift
    if out=$("$@" 2>&1); then
        fail "expected $code, but succeeded: $*"
    fi
    grep -q "($code)" <<<"$out" || fail "expected $code from: $* -- got: $out"
}

bucket=feedback-bucket
root s3api create-bucket --bucket "$bucket" >/dev/null
root iam create-user --user-name deliver >/dev/null
root iam create-access-key --user-name deliver >"$work/deliver.json"
arn=$(root iam get-user --user-name deliver --query User.Arn --output text)
[[ $arn == arn:aws:iam::*:user/deliver ]] || fail "unexpected user ARN $arn"

# The user's own view of itself (what Caravel's connection check shows).
who=$(as "$work/deliver.json" sts get-caller-identity --query Arn --output text)
[ "$who" = "$arn" ] || fail "GetCallerIdentity said $who, expected $arn"

# Before any policy: the user can do nothing.
expect_error AccessDenied as "$work/deliver.json" s3api list-objects-v2 --bucket "$bucket"

# The two policies, as the guide (and caravel policy generate) writes them.
"$bin" policy generate --bucket "$bucket" --user-arn "$arn" --json-only >"$work/policies.json"
/usr/bin/python3 - "$work" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/policies.json"))
json.dump(d["user_policy"], open(sys.argv[1] + "/user.json", "w"))
json.dump(d["bucket_policy"], open(sys.argv[1] + "/bucket.json", "w"))
PY
root iam put-user-policy --user-name deliver --policy-name list-bucket \
    --policy-document "file://$work/user.json"
root s3api put-bucket-policy --bucket "$bucket" --policy "file://$work/bucket.json"
root s3api get-bucket-policy --bucket "$bucket" --query Policy --output text | grep -q "$arn" ||
    fail "GetBucketPolicy does not return the policy"

echo '{"themes": []}' >"$work/insights.json"
as "$work/deliver.json" s3api list-objects-v2 --bucket "$bucket" --max-keys 1 >/dev/null ||
    fail "ListObjectsV2 as the user was refused"
as "$work/deliver.json" s3api head-bucket --bucket "$bucket" || fail "HeadBucket as the user"
as "$work/deliver.json" s3api put-object --bucket "$bucket" --key run1/insights.json \
    --body "$work/insights.json" >/dev/null || fail "PutObject as the user was refused"
as "$work/deliver.json" s3api put-object --bucket "$bucket" --key run1/with-acl.json \
    --acl bucket-owner-full-control --body "$work/insights.json" >/dev/null ||
    fail "PutObject with x-amz-acl: bucket-owner-full-control was refused"
root s3api head-object --bucket "$bucket" --key run1/with-acl.json >/dev/null ||
    fail "the object the user wrote is not there"
expect_error AccessDenied as "$work/deliver.json" s3api get-object --bucket "$bucket" \
    --key run1/insights.json "$work/out.json"
expect_error AccessDenied as "$work/deliver.json" s3api list-buckets
expect_error AccessDenied as "$work/deliver.json" s3api delete-object --bucket "$bucket" \
    --key run1/insights.json

# A second user with valid keys cannot write.
root iam create-user --user-name intruder >/dev/null
root iam create-access-key --user-name intruder >"$work/intruder.json"
expect_error AccessDenied as "$work/intruder.json" s3api put-object --bucket "$bucket" \
    --key x.json --body "$work/insights.json"

# An anonymous request cannot write.
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary '{}' "$ep/$bucket/anon.json")
[ "$code" = 403 ] || fail "anonymous PUT answered $code, expected 403"
root s3api head-object --bucket "$bucket" --key anon.json >/dev/null 2>&1 &&
    fail "the anonymous PUT stored an object"

# A Deny statement overrides the Allow.
/usr/bin/python3 - "$work" "$arn" "$bucket" <<'PY'
import json, sys
w, arn, b = sys.argv[1:]
p = json.load(open(w + "/bucket.json"))
p["Statement"].append({"Sid": "NoSecrets", "Effect": "Deny", "Principal": {"AWS": arn},
                       "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/secret/*" % b})
json.dump(p, open(w + "/bucket-deny.json", "w"))
PY
root s3api put-bucket-policy --bucket "$bucket" --policy "file://$work/bucket-deny.json"
expect_error AccessDenied as "$work/deliver.json" s3api put-object --bucket "$bucket" \
    --key secret/x.json --body "$work/insights.json"
as "$work/deliver.json" s3api put-object --bucket "$bucket" --key run2/insights.json \
    --body "$work/insights.json" >/dev/null || fail "the Deny blocked more than its resource"

# An inactive key is refused; reactivated, it works again.
akid=$(sed -n 's/.*"AccessKeyId": "\([^"]*\)".*/\1/p' "$work/deliver.json")
root iam update-access-key --user-name deliver --access-key-id "$akid" --status Inactive
expect_error InvalidAccessKeyId as "$work/deliver.json" s3api list-objects-v2 --bucket "$bucket"
root iam update-access-key --user-name deliver --access-key-id "$akid" --status Active
as "$work/deliver.json" s3api list-objects-v2 --bucket "$bucket" >/dev/null ||
    fail "the reactivated key was refused"

# Malformed bucket policies: each rejected with S3's message (IAM.md §1.9).
# Each check runs in the background (awscli starts slowly); results are
# collected below.
nbad=0
badpids=()
check_malformed() {
    local doc=$1 msg=$2 i=$nbad
    nbad=$((nbad + 1))
    printf '%s' "$doc" >"$work/bad$i.json"
    printf '%s' "$msg" >"$work/bad$i.msg"
    (set +e # the command is expected to fail
     root s3api put-bucket-policy --bucket "$bucket" --policy "file://$work/bad$i.json" \
        >"$work/bad$i.out" 2>&1
     echo $? >"$work/bad$i.rc") &
    badpids+=($!)
}
collect_malformed() {
    local i out msg
    local p
    for p in "${badpids[@]}"; do # not a bare wait: the store is a child too
        wait "$p" || true
    done
    for ((i = 0; i < nbad; i++)); do
        out=$(cat "$work/bad$i.out")
        msg=$(cat "$work/bad$i.msg")
        [ -s "$work/bad$i.rc" ] || fail "check $i did not finish"
        [ "$(cat "$work/bad$i.rc")" != 0 ] || fail "policy accepted, expected '$msg': $(cat "$work/bad$i.json")"
        grep -q "(MalformedPolicy)" <<<"$out" || fail "expected MalformedPolicy for $(cat "$work/bad$i.json"): $out"
        grep -qF "$msg" <<<"$out" || fail "expected message '$msg' for $(cat "$work/bad$i.json"): $out"
    done
}
P="\"Principal\":{\"AWS\":\"$arn\"}"
R="\"Resource\":\"arn:aws:s3:::$bucket/*\""
check_malformed 'not json' "Policies must be valid JSON and the first byte must be '{'"
check_malformed '{"Version":"2012-10-17","Statement":' 'This policy contains invalid Json'
check_malformed '{"Version":"2012-10-17"}' 'Missing required field Statement'
check_malformed '{"Version":"2012-10-17","Statement":[]}' 'Could not parse the policy: Statement is empty!'
check_malformed "{\"Version\":\"2013-01-01\",\"Statement\":[{\"Effect\":\"Allow\",$P,\"Action\":\"s3:PutObject\",$R}]}" 'The policy must contain a valid version string'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"allow\",$P,\"Action\":\"s3:PutObject\",$R}]}" 'Invalid effect: allow'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\",$R}]}" 'Missing required field Principal'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/nobody\"},\"Action\":\"s3:PutObject\",$R}]}" 'Invalid principal in policy'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",$P,\"Action\":\"s3:PutObjekt\",$R}]}" 'Policy has invalid action'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",$P,\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::other-bucket/*\"}]}" 'Policy has invalid resource'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",$P,\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::$bucket\"}]}" 'Action does not apply to any resource(s) in statement'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",$P,\"Action\":\"s3:PutObject\",$R,\"Condition\":{\"StringEquals\":{\"s3:nosuchkey\":\"x\"}}}]}" 'Policy has an invalid condition key'
check_malformed "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Effect\":\"Deny\",$P,\"Action\":\"s3:PutObject\",$R}]}" 'This policy contains invalid Json'
collect_malformed
# The malformed attempts changed nothing: the user can still write.
as "$work/deliver.json" s3api put-object --bucket "$bucket" --key run3/insights.json \
    --body "$work/insights.json" >/dev/null || fail "a rejected policy changed the stored one"

echo "PASS: the guide's IAM scenario"
