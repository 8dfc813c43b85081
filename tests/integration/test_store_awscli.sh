#!/bin/bash
# Store + awscli v2 (/usr/bin/aws): the s3 commands (mb, cp, ls, rm, rb,
# presign fetched with curl, sync), and s3api (put/get/head/delete-object,
# list-objects-v2 prefix/delimiter/paging, copy-object COPY and REPLACE,
# multipart by hand, ranged get, delete-objects), plus a 100 MiB multipart
# upload, download and server-side move compared by MD5.
# Each aws run costs ~1.5 s of start-up, so outcomes are checked with
# curl --aws-sigv4 where the check is not itself about awscli.
. "${CV_TESTLIB:-$(dirname "$0")/lib}/cvstore.sh"
cv_require /usr/bin/aws curl md5sum jq xxd
cv_store_start --quiet

w=$CV_STORE_TMP/work
mkdir -p "$w"
B=cli-bucket

# --- s3 mb / ls / cp / presign -------------------------------------------------
cv_run "s3 mb" cv_aws s3 mb "s3://$B"
cv_match "$(cv_aws s3 ls)" "[0-9-]+ [0-9:]+ $B" "s3 ls lists the bucket"

head -c 777777 /dev/urandom >"$w/small.bin"
cv_run "s3 cp up" cv_aws s3 cp --only-show-errors "$w/small.bin" "s3://$B/dir/small.bin"
cv_run "s3 cp down" cv_aws s3 cp --only-show-errors "s3://$B/dir/small.bin" "$w/small.back"
cv_run "round trip is byte for byte" cmp "$w/small.bin" "$w/small.back"
cv_match "$(cv_aws s3 ls "s3://$B/dir/")" " 777777 small.bin" "s3 ls shows key and size"

url=$(cv_aws s3 presign "s3://$B/dir/small.bin" --expires-in 300)
cv_match "$url" "X-Amz-Signature=[0-9a-f]{64}" "s3 presign makes a SigV4 URL"
curl -sf -o "$w/presigned.bin" "$url"
cv_eq "$(cv_md5 "$w/presigned.bin")" "$(cv_md5 "$w/small.bin")" "presigned URL fetched with curl"
last=${url: -1}
[ "$last" = 0 ] && flip=1 || flip=0
code=$(curl -s -o "$w/tampered.xml" -w '%{http_code}' "${url%?}$flip")
cv_eq "$code $(grep -o '<Code>[A-Za-z]*</Code>' "$w/tampered.xml")" \
    "403 <Code>SignatureDoesNotMatch</Code>" "a tampered presigned URL is refused"

# --- sync ------------------------------------------------------------------------
mkdir -p "$w/tree/a/b" "$w/tree/c"
for i in $(seq 1 20); do head -c $((i * 997)) /dev/urandom >"$w/tree/a/f$i"; done
echo "deep" >"$w/tree/a/b/deep.txt"
printf '' >"$w/tree/c/empty"
head -c 2000000 /dev/urandom >"$w/tree/c/two-mb"
cv_run "s3 sync up" cv_aws s3 sync --only-show-errors "$w/tree" "s3://$B/tree"
cv_run "s3 sync down" cv_aws s3 sync --only-show-errors "s3://$B/tree" "$w/tree-back"
cv_run "synced tree identical" diff -r "$w/tree" "$w/tree-back"
rm "$w/tree/a/f3"
echo changed >"$w/tree/a/f4"
out=$(cv_aws s3 sync --delete "$w/tree" "s3://$B/tree" 2>&1)
cv_eq "$(grep -c . <<<"$out")" "2" "sync --delete does exactly two things (one upload, one delete)"
cv_eq "$(cv_status HEAD "/$B/tree/a/f3")" "404" "sync --delete removed a/f3"
cv_eq "$(cv_curl GET "/$B/tree/a/f4")" "changed" "sync uploaded the changed file"

# --- s3api: put / get / head / delete ------------------------------------------
printf 'hello s3api' >"$w/hello.txt"
etag=$(cv_aws s3api put-object --bucket "$B" --key api/hello.txt --body "$w/hello.txt" \
    --content-type text/plain --metadata color=blue,size=small | jq -r .ETag)
cv_eq "$etag" "\"$(cv_md5 "$w/hello.txt")\"" "put-object ETag is the MD5"
head=$(cv_aws s3api head-object --bucket "$B" --key api/hello.txt)
cv_eq "$(jq -c '[.ContentLength, .ContentType, .Metadata]' <<<"$head")" \
    '[11,"text/plain",{"color":"blue","size":"small"}]' "head-object length, type, metadata"
cv_aws s3api get-object --bucket "$B" --key api/hello.txt "$w/hello.back" >/dev/null
cv_run "get-object body" cmp "$w/hello.txt" "$w/hello.back"
out=$(cv_aws s3api get-object --bucket "$B" --key api/hello.txt --range bytes=6-9 "$w/range.back")
cv_eq "$(cat "$w/range.back")" "s3ap" "get-object --range bytes"
cv_eq "$(jq -r .ContentRange <<<"$out")" "bytes 6-9/11" "get-object --range Content-Range"
cv_run "delete-object" cv_aws s3api delete-object --bucket "$B" --key api/hello.txt
cv_eq "$(cv_status HEAD "/$B/api/hello.txt")" "404" "deleted key is gone"

# --- list-objects-v2 ---------------------------------------------------------------
: >"$w/empty"
for k in list/a1 list/a2 list/b/x list/b/y list/c/z list/d list/e; do
    [ "$(cv_curl PUT "/$B/$k" "$w/empty" -o /dev/null -w '%{http_code}')" = 200 ] || cv_fail "curl PUT $k"
done
out=$(cv_aws s3api list-objects-v2 --bucket "$B" --prefix list/ --delimiter /)
cv_eq "$(jq -r '[.Contents[].Key] | join(",")' <<<"$out")" "list/a1,list/a2,list/d,list/e" \
    "list-objects-v2 prefix+delimiter: keys"
cv_eq "$(jq -r '[.CommonPrefixes[].Prefix] | join(",")' <<<"$out")" "list/b/,list/c/" \
    "list-objects-v2 prefix+delimiter: common prefixes"
p1=$(cv_aws s3api list-objects-v2 --bucket "$B" --prefix list/ --max-items 3 --page-size 2)
cv_eq "$(jq -r '[.Contents[].Key] | join(",")' <<<"$p1")" "list/a1,list/a2,list/b/x" "page 1 (max-items 3)"
tok=$(jq -r .NextToken <<<"$p1")
p2=$(cv_aws s3api list-objects-v2 --bucket "$B" --prefix list/ --max-items 3 --page-size 2 \
    --starting-token "$tok")
cv_eq "$(jq -r '[.Contents[].Key] | join(",")' <<<"$p2")" "list/b/y,list/c/z,list/d" "page 2 (starting-token)"
tok=$(jq -r .NextToken <<<"$p2")
p3=$(cv_aws s3api list-objects-v2 --bucket "$B" --prefix list/ --max-items 3 --page-size 2 \
    --starting-token "$tok")
cv_eq "$(jq -r '(.NextToken // "end") as $t | [.Contents[].Key] | join(",") + " " + $t' <<<"$p3")" "list/e end" \
    "page 3 is the last"

# --- copy-object -------------------------------------------------------------------
cv_curl PUT "/$B/copy/src" "$w/small.bin" -H "Content-Type: application/x-src" \
    -H "x-amz-meta-origin: src" -o /dev/null
cv_run "copy-object COPY" cv_aws s3api copy-object --bucket "$B" --key copy/dst1 \
    --copy-source "$B/copy/src" --metadata-directive COPY
h=$(cv_curl HEAD "/$B/copy/dst1" | tr -d '\r')
cv_match "$h" $'content-type: application/x-src' "COPY keeps the Content-Type"
cv_match "$h" $'x-amz-meta-origin: src' "COPY keeps the metadata"
cv_match "$h" "ETag: \"$(cv_md5 "$w/small.bin")\"" "COPY keeps the ETag"
cv_run "copy-object REPLACE" cv_aws s3api copy-object --bucket "$B" --key copy/dst2 \
    --copy-source "$B/copy/src" --metadata-directive REPLACE --content-type text/x-new \
    --metadata origin=replaced
h=$(cv_curl HEAD "/$B/copy/dst2" | tr -d '\r')
cv_match "$h" $'content-type: text/x-new' "REPLACE sets the Content-Type"
cv_match "$h" $'x-amz-meta-origin: replaced' "REPLACE sets the metadata"
cv_curl GET "/$B/copy/dst2" - -o "$w/copy.back"
cv_run "copied body identical" cmp "$w/small.bin" "$w/copy.back"

# --- multipart by hand -------------------------------------------------------------
head -c $((5 * 1024 * 1024)) /dev/urandom >"$w/p1"
head -c 123457 /dev/urandom >"$w/p2"
uid=$(cv_aws s3api create-multipart-upload --bucket "$B" --key mp/manual | jq -r .UploadId)
cv_match "$uid" "^[^ ]{8,}$" "create-multipart-upload gives an UploadId"
e1=$(cv_aws s3api upload-part --bucket "$B" --key mp/manual --upload-id "$uid" --part-number 1 \
    --body "$w/p1" | jq -r .ETag)
e2=$(cv_aws s3api upload-part --bucket "$B" --key mp/manual --upload-id "$uid" --part-number 2 \
    --body "$w/p2" | jq -r .ETag)
cv_eq "$e1" "\"$(cv_md5 "$w/p1")\"" "upload-part ETag is the part's MD5"
lp=$(cv_aws s3api list-parts --bucket "$B" --key mp/manual --upload-id "$uid")
cv_eq "$(jq -c '[.Parts[] | [.PartNumber, .Size, .ETag]]' <<<"$lp")" \
    "[[1,5242880,$(jq -R . <<<"$e1")],[2,123457,$(jq -R . <<<"$e2")]]" "list-parts"
lu=$(cv_aws s3api list-multipart-uploads --bucket "$B")
cv_eq "$(jq -r '[.Uploads[] | .Key + "=" + .UploadId] | join(",")' <<<"$lu")" "mp/manual=$uid" \
    "list-multipart-uploads"
cat >"$w/parts.json" <<EOF
{"Parts": [{"PartNumber": 1, "ETag": $(jq -R . <<<"$e1")}, {"PartNumber": 2, "ETag": $(jq -R . <<<"$e2")}]}
EOF
out=$(cv_aws s3api complete-multipart-upload --bucket "$B" --key mp/manual --upload-id "$uid" \
    --multipart-upload "file://$w/parts.json")
want=$( (cv_md5 "$w/p1" | xxd -r -p; cv_md5 "$w/p2" | xxd -r -p) | md5sum | cut -d' ' -f1)
cv_eq "$(jq -r .ETag <<<"$out")" "\"$want-2\"" "complete-multipart-upload ETag is md5-of-md5s-2"
cv_curl GET "/$B/mp/manual" - -o "$w/mp.back"
cv_eq "$(cv_md5 "$w/mp.back")" "$(cat "$w/p1" "$w/p2" | md5sum | cut -d' ' -f1)" "completed object = parts"
uid2=$(cv_aws s3api create-multipart-upload --bucket "$B" --key mp/aborted | jq -r .UploadId)
cv_curl PUT "/$B/mp/aborted?partNumber=1&uploadId=$uid2" "$w/p2" -o /dev/null
cv_run "abort-multipart-upload" cv_aws s3api abort-multipart-upload --bucket "$B" --key mp/aborted \
    --upload-id "$uid2"
cv_match "$(cv_curl GET "/$B/mp/aborted?uploadId=$uid2")" "<Code>NoSuchUpload</Code>" \
    "list-parts after abort: NoSuchUpload"
cv_match "$(cv_curl GET "/$B?uploads=")" "^<\?xml[^<]*<ListMultipartUploadsResult[^>]*>(<[A-Za-z]+>[^<]*</[A-Za-z]+>|<[A-Za-z]+/>)*</ListMultipartUploadsResult>$" \
    "no uploads left after complete and abort"

# --- 100 MiB through aws s3 cp (multipart: 8 MiB parts) ---------------------------------
head -c $((100 * 1024 * 1024)) /dev/urandom >"$w/big.bin"
cv_run "s3 cp 100 MiB up (multipart)" cv_aws s3 cp --only-show-errors "$w/big.bin" "s3://$B/big.bin"
cv_match "$(cv_curl HEAD "/$B/big.bin" | tr -d '\r')" 'ETag: "[0-9a-f]{32}-13"' \
    "100 MiB object has a 13-part multipart ETag"
cv_run "s3 cp 100 MiB down" cv_aws s3 cp --only-show-errors "s3://$B/big.bin" "$w/big.back"
cv_eq "$(cv_md5 "$w/big.back")" "$(cv_md5 "$w/big.bin")" "100 MiB round trip MD5"
# Bucket to bucket: awscli copies it server-side in ranged UploadPartCopy parts.
cv_run "s3 mv 100 MiB within the store (multipart copy)" cv_aws s3 mv --only-show-errors \
    "s3://$B/big.bin" "s3://$B/moved/big.bin"
cv_eq "$(cv_status HEAD "/$B/big.bin")" "404" "s3 mv removed the source"
cv_match "$(cv_curl HEAD "/$B/moved/big.bin" | tr -d '\r')" 'ETag: "[0-9a-f]{32}-13"' \
    "the copy was made of 13 copied parts"
cv_curl GET "/$B/moved/big.bin" - -o "$w/big.back"
cv_eq "$(cv_md5 "$w/big.back")" "$(cv_md5 "$w/big.bin")" "server-side copy MD5"
rm -f "$w/big.bin" "$w/big.back"

# --- delete-objects, rm, rb ------------------------------------------------------------
out=$(cv_aws s3api delete-objects --bucket "$B" \
    --delete '{"Objects":[{"Key":"list/a1"},{"Key":"list/a2"},{"Key":"list/never"}]}')
cv_eq "$(jq -r '[.Deleted[].Key] | sort | join(",")' <<<"$out")" "list/a1,list/a2,list/never" \
    "delete-objects reports every key deleted (absent ones too)"
cv_eq "$(cv_status HEAD "/$B/list/a1") $(cv_status HEAD "/$B/list/a2") $(cv_status HEAD "/$B/list/b/x")" \
    "404 404 200" "delete-objects deleted exactly those keys"
cv_run "s3 rm one key" cv_aws s3 rm --only-show-errors "s3://$B/dir/small.bin"
cv_eq "$(cv_status HEAD "/$B/dir/small.bin")" "404" "s3 rm removed it"
cv_run "s3 rm --recursive" cv_aws s3 rm --only-show-errors --recursive "s3://$B"
cv_match "$(cv_curl GET "/$B?list-type=2")" "<KeyCount>0</KeyCount>" "bucket empty after rm --recursive"
cv_run "s3 rb" cv_aws s3 rb "s3://$B"
cv_eq "$(cv_status HEAD "/$B")" "404" "the bucket is gone"
cv_eq "$(ls "$CV_STORE_DIR/tmp")" "" "DIR/tmp is empty"
cv_eq "$(find "$CV_STORE_DIR/objects" -type f | wc -l)" "0" "no body file left behind"

cv_done
