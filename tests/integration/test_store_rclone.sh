#!/bin/bash
# Store + rclone (S3 remote, provider Other, path-style, no env auth): copy,
# check (MD5 hashes, and --download), sync with changes and deletions, on a
# folder of a few hundred small files and some larger ones (multipart).
. "${CV_TESTLIB:-$(dirname "$0")/lib}/cvstore.sh"
cv_require rclone md5sum jq bc
cv_store_start --quiet

w=$CV_STORE_TMP/work
mkdir -p "$w"
export RCLONE_CONFIG=$w/rclone.conf
cat >"$RCLONE_CONFIG" <<EOF
[cv]
type = s3
provider = Other
env_auth = false
access_key_id = $CV_AK
secret_access_key = $CV_SK
endpoint = $CV_ENDPOINT
region = us-east-1
force_path_style = true
EOF
# Small cut-off and chunks so the larger files go multipart.
rc() { rclone --config "$RCLONE_CONFIG" --s3-upload-cutoff 5M --s3-chunk-size 5M \
    --low-level-retries 1 --retries 1 -q "$@"; }

src=$w/src
mkdir -p "$src/a" "$src/b/c" "$src/unicode"
for i in $(seq 1 300); do
    head -c $(((i * 7919) % 20000)) /dev/urandom >"$src/a/small-$i.dat"
done
for i in 1 2 3; do head -c $((i * 6 * 1024 * 1024 + 123)) /dev/urandom >"$src/b/c/large-$i.bin"; done
echo "caf\u00e9" >"$src/unicode/café ünï.txt"
echo "spaces" >"$src/b/with  two spaces.txt"

B=rclone-bucket
cv_run "rclone mkdir (bucket)" rc mkdir "cv:$B"
cv_run "rclone copy up" rc copy "$src" "cv:$B/data" --transfers 8
cv_eq "$(rc size "cv:$B/data" --json | jq -r '"\(.count) \(.bytes)"')" \
    "$(find "$src" -type f | wc -l) $(find "$src" -type f -printf '%s\n' | paste -sd+ | bc)" \
    "rclone size: every file, every byte"
cv_match "$(cv_curl HEAD "/$B/data/b/c/large-3.bin" | tr -d '\r')" 'ETag: "[0-9a-f]{32}-4"' \
    "the 18 MiB file went up in 4 parts"
cv_run "rclone check (hashes)" rc check "$src" "cv:$B/data"
cv_run "rclone check --download (content)" rc check --download "$src" "cv:$B/data"

# Change the source: modify, add, delete; sync; check again.
echo "modified" >"$src/a/small-7.dat"
head -c 777 /dev/urandom >"$src/a/new-file.dat"
rm "$src/a/small-8.dat" "$src/b/c/large-1.bin"
cv_run_fails "check sees the differences" "differences found|not found|not equal" rc check "$src" "cv:$B/data"
cv_run "rclone sync" rc sync "$src" "cv:$B/data" --transfers 8
cv_run "rclone check after sync" rc check "$src" "cv:$B/data"
cv_eq "$(cv_status HEAD "/$B/data/a/small-8.dat") $(cv_status HEAD "/$B/data/b/c/large-1.bin")" \
    "404 404" "sync deleted the removed files"

# Back down and compare byte for byte.
cv_run "rclone copy down" rc copy "cv:$B/data" "$w/back" --transfers 8
cv_run "downloaded tree identical" diff -r "$src" "$w/back"

cv_run "rclone purge" rc purge "cv:$B"
cv_eq "$(cv_status HEAD "/$B")" "404" "bucket purged"
cv_eq "$(ls "$CV_STORE_DIR/tmp")" "" "DIR/tmp is empty"
cv_eq "$(find "$CV_STORE_DIR/objects" -type f | wc -l)" "0" "no body file left behind"

cv_done
