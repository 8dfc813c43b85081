#!/usr/bin/python3
"""Signs varied S3 requests with botocore and prints them as JSON lines.

An independent signer for test_peers.c: each line is one request as it would
go on the wire (method, raw path, raw query, headers with Authorization or a
presigned query), plus the secret to verify it with. Deterministic (seeded).
usage: botocore_sign.py [COUNT]
"""
import json
import random
import sys
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 200
rng = random.Random(20261127)

KEY_PARTS = ["photos", "2026", "a b", "c+d", "ünïcödé", "日本", "x~y", "semi;colon",
             "eq=ual", "per%cent", "amp&er", "q?mark", "hash#", "star*", "paren(s)",
             "dot.", "..", ".", "", "tab\tchar", "emoji-\U0001F600", "sl/ash", "quote'"]
QUERY_KEYS = ["prefix", "delimiter", "max-keys", "list-type", "continuation-token",
              "uploadId", "partNumber", "versionId", "acl", "tagging", "uploads",
              "x-id", "response-content-type", "Ünï", "a b", "k+k", "Z", "_", "~"]
VALUES = ["", "1", "a b", "a+b", "a/b/", "ünï", "%", "=", "&", "x~y", "A-Z_a.z",
          "日本語", "multi  space", "1000", "text/plain; charset=utf-8"]
META_VALUES = ["plain", "  padded  ", "inner   spaces", "ünïcödé", "a,b", "quote \"x\"",
               "tabs\tinside", "", "x" * 200]
REGIONS = ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"]


def enc(s, safe):
    return quote(s, safe=safe)


def rand_path():
    bucket = rng.choice(["bucket", "my.bucket", "b-1"])
    n = rng.randint(0, 4)
    parts = [rng.choice(KEY_PARTS) for _ in range(n)]
    key = "/".join(parts)
    if rng.random() < 0.2:
        key = "/" + key  # a double slash
    return "/" + bucket + ("/" + enc(key, "/~") if n or rng.random() < 0.5 else "")


def rand_query():
    pairs = []
    for _ in range(rng.randint(0, 5)):
        k = rng.choice(QUERY_KEYS)
        if rng.random() < 0.15:
            pairs.append(enc(k, "-_.~"))  # no '='
        else:
            pairs.append(enc(k, "-_.~") + "=" + enc(rng.choice(VALUES), "-_.~"))
    if pairs and rng.random() < 0.2:
        pairs.append(pairs[0])  # a repeated parameter
    return "&".join(pairs)


def main():
    for i in range(COUNT):
        akid = rng.choice(["AKIDEXAMPLE", "AKIAIOSFODNN7EXAMPLE", "ASIA" + str(i)])
        secret = "".join(rng.choice("abcdefXYZ0123456789/+") for _ in range(40))
        token = None
        if rng.random() < 0.25:
            token = "IQoJb3JpZ2luX2Vj" + "".join(rng.choice("abcXYZ0189/+=") for _ in range(60))
        region = rng.choice(REGIONS)
        creds = Credentials(akid, secret, token)
        host = rng.choice(["127.0.0.1:9000", "bucket.s3.amazonaws.com", "localhost"])
        path = rand_path()
        query = rand_query()
        url = "http://" + host + path + ("?" + query if query else "")
        presign = rng.random() < 0.35
        method = rng.choice(["GET", "HEAD", "DELETE"] if presign else
                            ["GET", "PUT", "POST", "HEAD", "DELETE"])
        headers = {"Host": host}
        for _ in range(rng.randint(0, 4)):
            name = rng.choice(["x-amz-meta-Note", "X-Amz-Meta-Other", "Content-Type",
                               "x-amz-storage-class", "Range", "If-None-Match"])
            headers[name] = rng.choice(META_VALUES)
        data = b""
        if method in ("PUT", "POST") and rng.random() < 0.7:
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        req = AWSRequest(method=method, url=url, headers=headers, data=data)
        if presign:
            signer = S3SigV4QueryAuth(creds, "s3", region, expires=rng.randint(1, 604800))
        else:
            signer = S3SigV4Auth(creds, "s3", region)
        signer.add_auth(req)
        raw = req.url.split("://", 1)[1]
        raw = raw[raw.index("/"):]
        rpath, _, rquery = raw.partition("?")
        print(json.dumps({
            "kind": "query" if presign else "header",
            "method": method,
            "path": rpath,
            "query": rquery,
            "headers": [[k, v] for k, v in req.headers.items()],
            "secret": secret,
            "token": token or "",
        }))


if __name__ == "__main__":
    main()
