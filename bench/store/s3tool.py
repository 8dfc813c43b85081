#!/usr/bin/python3
"""S3 helpers for bench/store/run, on boto3/botocore (not Caravel's own code).

usage: s3tool.py mb ENDPOINT AKID SECRET BUCKET
       s3tool.py presign ENDPOINT AKID SECRET METHOD BUCKET PREFIX START COUNT OUT
       s3tool.py presign1 ENDPOINT AKID SECRET METHOD BUCKET KEY
       s3tool.py guide-user ENDPOINT AKID SECRET BUCKET USER

guide-user sets up the product guide's least-privilege user with the root
key (CreateUser, CreateAccessKey, the user policy: s3:ListBucket on the
bucket, the bucket policy: s3:PutObject + s3:PutObjectAcl on BUCKET/* for
the user) and prints "AKID SECRET" of the user's key.

presign writes COUNT lines "PATH?QUERY" for the keys PREFIX%06d, START..START+COUNT-1,
to OUT; presign1 prints one full URL. Both are query-string SigV4 valid for an
hour (X-Amz-SignedHeaders=host; a PUT's payload is UNSIGNED-PAYLOAD), what
boto3's generate_presigned_url makes. presign1 calls exactly that; presign
calls botocore's S3SigV4QueryAuth directly (the same signer, without the
client's per-call overhead: about 6x faster) on every core.
"""
import json
import os
import sys
from multiprocessing import Pool
from urllib.parse import urlsplit

import boto3
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "us-east-1"


def client(endpoint, akid, secret):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=akid,
                        aws_secret_access_key=secret, region_name=REGION,
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": "path"},
                                      retries={"max_attempts": 10}))


def sign_range(args):
    endpoint, akid, secret, method, bucket, prefix, lo, hi = args
    cr = Credentials(akid, secret)
    out = []
    for i in range(lo, hi):
        auth = S3SigV4QueryAuth(cr, "s3", REGION, expires=3600)
        req = AWSRequest(method=method, url="%s/%s/%s%06d" % (endpoint, bucket, prefix, i))
        auth.add_auth(req)
        u = urlsplit(req.url)
        out.append(u.path + "?" + u.query)
    return out


def presign(endpoint, akid, secret, method, bucket, prefix, start, count, out):
    lo, n = int(start), int(count)
    jobs = max(1, os.cpu_count() or 1)
    step = max(1, (n + jobs - 1) // jobs)
    parts = [(endpoint, akid, secret, method, bucket, prefix, a, min(lo + n, a + step))
             for a in range(lo, lo + n, step)]
    with Pool(jobs) as p:
        res = p.map(sign_range, parts)
    with open(out, "w") as f:
        for r in res:
            for line in r:
                f.write(line + "\n")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "mb":
        endpoint, akid, secret, bucket = args
        client(endpoint, akid, secret).create_bucket(Bucket=bucket)
    elif cmd == "presign":
        presign(*args)
    elif cmd == "presign1":
        endpoint, akid, secret, method, bucket, key = args
        op = {"GET": "get_object", "PUT": "put_object"}[method]
        print(client(endpoint, akid, secret).generate_presigned_url(
            op, Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600))
    elif cmd == "guide-user":
        endpoint, akid, secret, bucket, user = args
        kw = dict(endpoint_url=endpoint, aws_access_key_id=akid, aws_secret_access_key=secret,
                  region_name=REGION)
        iam = boto3.client("iam", **kw)
        arn = iam.create_user(UserName=user)["User"]["Arn"]
        key = iam.create_access_key(UserName=user)["AccessKey"]
        iam.put_user_policy(UserName=user, PolicyName="list", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": "arn:aws:s3:::%s" % bucket}]}))
        client(endpoint, akid, secret).put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": [arn]},
                           "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                           "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
        print(key["AccessKeyId"], key["SecretAccessKey"])
    else:
        sys.exit("s3tool.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
