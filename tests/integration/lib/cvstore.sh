# Harness for the store's bash integration tests (source it).
#
#   . "$CV_TESTLIB/cvstore.sh"
#   cv_store_start                 # a fresh store on an ephemeral 127.0.0.1 port
#   cv_aws s3 mb s3://bucket       # /usr/bin/aws with the root credentials
#   cv_eq "$(cat x)" "expected" "what"
#   cv_done                        # stops the store (SIGTERM, clean exit required), summary
#
# Sets: CV_STORE_TMP (temp folder), CV_STORE_DIR (data), CV_STORE_LOG,
# CV_ENDPOINT (http://127.0.0.1:PORT), CV_PORT, CV_AK, CV_SK.
# A failed check prints FAIL and the test goes on; cv_done exits 1 if any
# failed and then prints the store's log. cv_die stops at once.
# Known store bugs (written down in /work/briefs/store-bugs.md): wrap the
# check in cv_known_bug "what" / cv_known_bug_end; a failure in between
# prints XFAIL and does not fail the test, a pass prints XPASS and does.
set -u
# The clients talk to this store only: no profile, CA bundle or keys from outside.
for v in $(compgen -e | grep '^AWS_'); do unset "$v"; done
export AWS_EC2_METADATA_DISABLED=true

CV_BIN=${CV_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/test/src/cli/caravel}
CV_PASS=0
CV_FAIL=0
CV_XFAIL=0
CV_KNOWN_BUG=""
CV_KNOWN_BUG_HIT=0
CV_STORE_PID=""
CV_STORE_TMP=""
CV_T0=$(date +%s)

cv_skip() {
    echo "SKIP: $*"
    exit 77
}

cv_require() {
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || cv_skip "$c is not installed (scripts/install-deps installs it)"
    done
}

cv_ok() {
    CV_PASS=$((CV_PASS + 1))
    echo "ok    $*"
}

cv_fail() {
    if [ -n "$CV_KNOWN_BUG" ]; then
        CV_KNOWN_BUG_HIT=1
        echo "XFAIL $* -- known store bug (see /work/briefs/store-bugs.md): $CV_KNOWN_BUG"
        return 0
    fi
    CV_FAIL=$((CV_FAIL + 1))
    echo "FAIL  $*"
}

cv_known_bug() {
    CV_KNOWN_BUG="$*"
    CV_KNOWN_BUG_HIT=0
}

cv_known_bug_end() {
    if [ "$CV_KNOWN_BUG_HIT" = 1 ]; then
        CV_XFAIL=$((CV_XFAIL + 1))
    else
        CV_FAIL=$((CV_FAIL + 1))
        echo "XPASS the known bug is fixed, remove its cv_known_bug marker: $CV_KNOWN_BUG"
    fi
    CV_KNOWN_BUG=""
}

# cv_eq ACTUAL EXPECTED WHAT
cv_eq() {
    if [ "$1" == "$2" ]; then
        cv_ok "$3"
    else
        cv_fail "$3: expected '$2', got '$1'"
    fi
}

# cv_match ACTUAL REGEX WHAT
cv_match() {
    if [[ "$1" =~ $2 ]]; then
        cv_ok "$3"
    else
        cv_fail "$3: '$1' does not match /$2/"
    fi
}

# cv_run WHAT CMD... : the command must succeed
cv_run() {
    local what=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc = 0 ]; then
        cv_ok "$what"
    else
        cv_fail "$what: exit $rc: $(printf '%s' "$out" | tail -5)"
    fi
    return $rc
}

# cv_run_fails WHAT REGEX CMD... : the command must fail with output matching REGEX
cv_run_fails() {
    local what=$1 re=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc != 0 ] && [[ "$out" =~ $re ]]; then
        cv_ok "$what"
    else
        cv_fail "$what: expected a failure matching /$re/, got exit $rc: $(printf '%s' "$out" | tail -5)"
    fi
}

cv_die() {
    cv_fail "$*"
    cv_done
}

cv_store_log() {
    echo "----- store log ($CV_STORE_LOG) -----"
    tail -c 60000 "$CV_STORE_LOG" 2>/dev/null
}

cv_cleanup() {
    if [ -n "$CV_STORE_PID" ]; then
        kill -KILL "$CV_STORE_PID" 2>/dev/null
        wait "$CV_STORE_PID" 2>/dev/null
        CV_STORE_PID=""
    fi
}
trap cv_cleanup EXIT

# Starts a store in a fresh temporary folder; waits for DIR/endpoint.
cv_store_start() {
    local ep i
    [ -x "$CV_BIN" ] || cv_skip "no caravel binary at $CV_BIN (set CV_BIN or run make test)"
    if [ -z "$CV_STORE_TMP" ]; then
        CV_STORE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cvstore-sh-XXXXXX")
        CV_STORE_DIR=$CV_STORE_TMP/data
        CV_STORE_LOG=$CV_STORE_TMP/store.log
    fi
    ep=$CV_STORE_DIR/endpoint
    rm -f "$ep"
    "$CV_BIN" store serve --data "$CV_STORE_DIR" --listen 127.0.0.1:0 "$@" \
        </dev/null >>"$CV_STORE_LOG" 2>&1 &
    CV_STORE_PID=$!
    for ((i = 0; i < 3000; i++)); do
        if ! kill -0 "$CV_STORE_PID" 2>/dev/null; then
            wait "$CV_STORE_PID"
            CV_STORE_PID=""
            cv_store_log
            echo "FAIL  the store exited during start-up"
            exit 1
        fi
        if [ -s "$ep" ] && [ "$(tail -c1 "$ep" | od -An -c | tr -d ' ')" = '\n' ]; then
            break
        fi
        sleep 0.02
    done
    [ -s "$ep" ] || { cv_store_log; echo "FAIL  no $ep after 60 s"; exit 1; }
    CV_ENDPOINT=$(tr -d '\n' <"$ep")
    CV_PORT=${CV_ENDPOINT##*:}
    CV_AK=$(sed -n 's/^aws_access_key_id *= *//p' "$CV_STORE_DIR/root-credentials")
    CV_SK=$(sed -n 's/^aws_secret_access_key *= *//p' "$CV_STORE_DIR/root-credentials")
    [[ "$CV_ENDPOINT" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || cv_die "unexpected endpoint '$CV_ENDPOINT'"
    [ -n "$CV_AK" ] && [ -n "$CV_SK" ] || cv_die "no root credentials in $CV_STORE_DIR/root-credentials"
}

# SIGTERM; the store must exit with status 0 (no sanitizer report, no leak).
cv_store_stop() {
    local rc i
    [ -n "$CV_STORE_PID" ] || return 0
    kill -TERM "$CV_STORE_PID"
    for ((i = 0; i < 600; i++)); do
        kill -0 "$CV_STORE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$CV_STORE_PID" 2>/dev/null; then
        cv_fail "the store did not stop within 60 s of SIGTERM"
        kill -KILL "$CV_STORE_PID"
    fi
    wait "$CV_STORE_PID"
    rc=$?
    CV_STORE_PID=""
    if [ $rc = 0 ]; then
        cv_ok "store stopped cleanly on SIGTERM"
    else
        cv_fail "store exited with status $rc after SIGTERM"
    fi
}

# /usr/bin/aws against the store with its root credentials (no config files, no IMDS).
cv_aws() {
    env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
        AWS_ACCESS_KEY_ID="$CV_AK" AWS_SECRET_ACCESS_KEY="$CV_SK" AWS_DEFAULT_REGION=us-east-1 \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" \
        /usr/bin/aws --endpoint-url "$CV_ENDPOINT" "$@"
}

# curl --aws-sigv4 against the store: cv_curl METHOD PATH [BODYFILE|-] [curl args...]
# (curl 7.88 signs a valueless query parameter as "name", S3 as "name=": write "?uploads=";
# nor does it sort the query: write the parameters in order)
# curl 7.88 signs the payload hash but does not send x-amz-content-sha256,
# which S3 requires: send it (the body's SHA-256, or the empty string's).
cv_curl() {
    local m=$1 p=$2 f=${3:--} h data=()
    shift 2
    [ $# -gt 0 ] && shift
    if [ "$f" != - ]; then
        h=$(sha256sum "$f" | cut -d' ' -f1)
        data=(--data-binary "@$f")
    else
        h=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    fi
    if [ "$m" = HEAD ]; then
        data=(-I)
    else
        data+=(-X "$m")
    fi
    curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user "$CV_AK:$CV_SK" \
        -H "x-amz-content-sha256: $h" "${data[@]}" "$@" "$CV_ENDPOINT$p"
}

# The HTTP status of a signed request: cv_status METHOD PATH
cv_status() {
    cv_curl "$1" "$2" - -o /dev/null -w '%{http_code}'
}

cv_md5() {
    md5sum "$1" | cut -d' ' -f1
}

cv_done() {
    cv_store_stop
    if [ "$CV_FAIL" != 0 ]; then
        cv_store_log
    elif [ -n "$CV_STORE_TMP" ]; then
        rm -rf "$CV_STORE_TMP"
    fi
    echo "$CV_PASS passed, $CV_FAIL failed, $CV_XFAIL expected failures ($(($(date +%s) - CV_T0))s)"
    [ "$CV_FAIL" = 0 ] && exit 0
    exit 1
}
