#!/bin/bash
# Store + s3cmd: mb, put (single and multipart), get, ls, la, info, del, sync
# both ways, rb; with a config pointing at the store (path-style, no https, SigV4).
. "${CV_TESTLIB:-$(dirname "$0")/lib}/cvstore.sh"
cv_require s3cmd md5sum
cv_store_start --quiet

w=$CV_STORE_TMP/work
mkdir -p "$w"
cfg=$w/s3cfg
cat >"$cfg" <<EOF
[default]
access_key = $CV_AK
secret_key = $CV_SK
host_base = 127.0.0.1:$CV_PORT
host_bucket = 127.0.0.1:$CV_PORT
use_https = False
signature_v2 = False
bucket_location = us-east-1
check_ssl_certificate = False
multipart_chunk_size_mb = 5
progress_meter = False
EOF
s3cm() { s3cmd -c "$cfg" "$@"; }

B=s3cmd-bucket
cv_run "s3cmd mb" s3cm mb "s3://$B"
cv_match "$(s3cm ls)" "s3://$B" "s3cmd ls lists the bucket"

head -c 1234567 /dev/urandom >"$w/one.bin"
cv_run "s3cmd put" s3cm put "$w/one.bin" "s3://$B/dir/one.bin"
cv_run "s3cmd get" s3cm get "s3://$B/dir/one.bin" "$w/one.back"
cv_run "put/get round trip" cmp "$w/one.bin" "$w/one.back"
info=$(s3cm info "s3://$B/dir/one.bin")
cv_match "$info" "File size: *1234567" "s3cmd info size"
cv_match "$info" "MD5 sum: *$(cv_md5 "$w/one.bin")" "s3cmd info MD5"

# 13 MiB with 5 MiB chunks: a 3-part multipart upload.
head -c $((13 * 1024 * 1024)) /dev/urandom >"$w/big.bin"
cv_run "s3cmd put 13 MiB" s3cm put "$w/big.bin" "s3://$B/big.bin"
cv_match "$(cv_curl HEAD "/$B/big.bin" | tr -d '\r')" 'ETag: "[0-9a-f]{32}-3"' \
    "s3cmd put used a 3-part multipart upload"
cv_run "s3cmd get multipart object" s3cm get "s3://$B/big.bin" "$w/big.back"
cv_eq "$(cv_md5 "$w/big.back")" "$(cv_md5 "$w/big.bin")" "multipart round trip MD5"

cv_match "$(s3cm ls "s3://$B/dir/")" "1234567 +s3://$B/dir/one.bin" "s3cmd ls a prefix"
cv_eq "$(s3cm ls "s3://$B/" | grep -c DIR)" "1" "s3cmd ls shows dir/ as a prefix"
cv_eq "$(s3cm la | grep -c "s3://$B/")" "2" "s3cmd la lists every object"

# sync up, change, sync again, sync down
mkdir -p "$w/tree/x/y"
for i in $(seq 1 30); do head -c $((RANDOM * 3)) /dev/urandom >"$w/tree/x/f$i"; done
echo "nested" >"$w/tree/x/y/n.txt"
: >"$w/tree/empty"
cv_run "s3cmd sync up" s3cm sync "$w/tree/" "s3://$B/tree/"
echo "changed" >"$w/tree/x/f1"
rm "$w/tree/x/f2"
out=$(s3cm sync --delete-removed "$w/tree/" "s3://$B/tree/" 2>&1)
cv_match "$out" "upload: .*x/f1" "second sync uploads the changed file"
cv_match "$out" "delete: 's3://$B/tree/x/f2'" "second sync deletes the removed file"
cv_eq "$(grep -c "upload:" <<<"$out")" "1" "second sync uploads only that file"
cv_run "s3cmd sync down" s3cm sync "s3://$B/tree/" "$w/tree-back/"
cv_run "synced tree identical" diff -r "$w/tree" "$w/tree-back"

cv_run "s3cmd del" s3cm del "s3://$B/dir/one.bin"
cv_eq "$(cv_status HEAD "/$B/dir/one.bin")" "404" "deleted"
cv_run_fails "s3cmd rb of a non-empty bucket fails" "BucketNotEmpty|not empty" s3cm rb "s3://$B"
cv_run "s3cmd del --recursive" s3cm del --recursive --force "s3://$B"
cv_run "s3cmd rb" s3cm rb "s3://$B"
cv_eq "$(cv_status HEAD "/$B")" "404" "bucket removed"
cv_eq "$(ls "$CV_STORE_DIR/tmp")" "" "DIR/tmp is empty"

cv_done
