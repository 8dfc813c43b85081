// Store + @aws-sdk/client-s3 (node): a Readable stream body, which this SDK
// sends as Content-Encoding aws-chunked with x-amz-content-sha256
// STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32 trailer; a Buffer body;
// GetObject, HeadObject, ListObjectsV2, DeleteObject, errors; a multipart
// upload through @aws-sdk/lib-storage's Upload.
import crypto from "node:crypto";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const lib = process.env.CV_TESTLIB || path.join(path.dirname(fileURLToPath(import.meta.url)), "lib");
const { Store, check, done, eq, skip } = await import(path.join(lib, "cvstore.mjs"));

let S3, Upload;
try {
  S3 = await import("@aws-sdk/client-s3");
  ({ Upload } = await import("@aws-sdk/lib-storage"));
} catch (e) {
  skip("@aws-sdk/client-s3 or @aws-sdk/lib-storage is not installed (npm ci): " + e.message);
}
if (typeof zlib.crc32 !== "function") skip("this node has no zlib.crc32");

const st = await Store.start();
const B = "sdkjs-bucket";
const md5 = (b) => crypto.createHash("md5").update(b).digest("hex");
const crc32b64 = (b) => {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(zlib.crc32(b) >>> 0);
  return v.toString("base64");
};

const seen = []; // the headers of every request as sent (after signing)
const client = new S3.S3Client({
  endpoint: st.endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: st.akid, secretAccessKey: st.secret },
  maxAttempts: 1,
});
client.middlewareStack.add(
  (next) => async (args) => {
    seen.push({ ...args.request.headers });
    return next(args);
  },
  { step: "finalizeRequest", priority: "low", name: "cvRecordHeaders" },
);
const header = (h, name) => {
  const k = Object.keys(h).find((x) => x.toLowerCase() === name);
  return k === undefined ? undefined : h[k];
};

async function body(r) {
  return Buffer.from(await r.Body.transformToByteArray());
}

try {
  await client.send(new S3.CreateBucketCommand({ Bucket: B }));
  check(true, "CreateBucket");

  // 1. A Readable stream body: aws-chunked with an unsigned CRC32 trailer.
  const data = crypto.randomBytes(3 * 1024 * 1024 + 4321);
  seen.length = 0;
  const chunks = [];
  for (let i = 0; i < data.length; i += 100000) chunks.push(data.subarray(i, i + 100000));
  const put = await client.send(
    new S3.PutObjectCommand({
      Bucket: B,
      Key: "stream/one.bin",
      Body: Readable.from(chunks),
      ContentLength: data.length,
      ContentType: "application/x-stream",
    }),
  );
  const h = seen[seen.length - 1] || {};
  eq(header(h, "x-amz-content-sha256"), "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "stream PUT is sent unsigned-payload-trailer");
  check(/aws-chunked/.test(header(h, "content-encoding") || ""), "stream PUT is aws-chunked", header(h, "content-encoding"));
  eq(header(h, "x-amz-trailer"), "x-amz-checksum-crc32", "stream PUT carries a CRC32 trailer");
  eq(put.ETag, `"${md5(data)}"`, "stream PUT ETag is the MD5 of the decoded body");
  eq(put.ChecksumCRC32, crc32b64(data), "stream PUT answers the CRC32");
  const got = await client.send(new S3.GetObjectCommand({ Bucket: B, Key: "stream/one.bin", ChecksumMode: "ENABLED" }));
  const gotBody = await body(got);
  check(gotBody.equals(data), "stream PUT reads back byte for byte", `${gotBody.length} bytes`);
  eq(got.ChecksumCRC32, crc32b64(data), "GET returns the trailer's CRC32");
  eq(got.ContentEncoding, undefined, "aws-chunked is not stored as the object's Content-Encoding");
  eq(got.ContentType, "application/x-stream", "Content-Type kept");

  // 2. A Buffer body (the SDK adds its CRC32 as a header or trailer; either way).
  const small = Buffer.from("hello from the v3 SDK \u00e9\n");
  const p2 = await client.send(
    new S3.PutObjectCommand({ Bucket: B, Key: "buffer/hello.txt", Body: small, Metadata: { from: "sdk-js" } }),
  );
  eq(p2.ETag, `"${md5(small)}"`, "Buffer PUT ETag");
  const g2 = await client.send(new S3.GetObjectCommand({ Bucket: B, Key: "buffer/hello.txt" }));
  check((await body(g2)).equals(small), "Buffer PUT reads back");
  eq(g2.Metadata.from, "sdk-js", "user metadata");
  const hd = await client.send(new S3.HeadObjectCommand({ Bucket: B, Key: "buffer/hello.txt" }));
  eq(hd.ContentLength, small.length, "HeadObject ContentLength");
  const rg = await client.send(new S3.GetObjectCommand({ Bucket: B, Key: "buffer/hello.txt", Range: "bytes=6-9" }));
  eq((await body(rg)).toString(), "from", "ranged GetObject");

  // 3. An empty stream.
  await client.send(new S3.PutObjectCommand({ Bucket: B, Key: "stream/empty", Body: Readable.from([]), ContentLength: 0 }));
  const ge = await client.send(new S3.GetObjectCommand({ Bucket: B, Key: "stream/empty" }));
  eq((await body(ge)).length, 0, "empty stream PUT");

  // 4. Multipart through lib-storage: 13 MiB in 5 MiB parts (a stream of unknown length).
  const big = crypto.randomBytes(13 * 1024 * 1024 + 17);
  const bigChunks = [];
  for (let i = 0; i < big.length; i += 1 << 20) bigChunks.push(big.subarray(i, i + (1 << 20)));
  const up = new Upload({
    client,
    params: { Bucket: B, Key: "multipart/big.bin", Body: Readable.from(bigChunks) },
    partSize: 5 * 1024 * 1024,
    queueSize: 3,
  });
  const ur = await up.done();
  check(/^"[0-9a-f]{32}-3"$/.test(ur.ETag), "Upload completes a 3-part multipart upload", ur.ETag);
  const gb = await client.send(new S3.GetObjectCommand({ Bucket: B, Key: "multipart/big.bin" }));
  eq(md5(await body(gb)), md5(big), "multipart object reads back (MD5)");

  // 5. Listing, deleting, errors.
  const ls = await client.send(new S3.ListObjectsV2Command({ Bucket: B }));
  eq(
    (ls.Contents || []).map((c) => `${c.Key}:${c.Size}`).join(","),
    `buffer/hello.txt:${small.length},multipart/big.bin:${big.length},stream/empty:0,stream/one.bin:${data.length}`,
    "ListObjectsV2",
  );
  const lp = await client.send(new S3.ListObjectsV2Command({ Bucket: B, Delimiter: "/", MaxKeys: 2 }));
  eq((lp.CommonPrefixes || []).map((p) => p.Prefix).join(","), "buffer/,multipart/", "delimiter, 2 per page");
  check(lp.IsTruncated === true && !!lp.NextContinuationToken, "page is truncated with a token");
  const lp2 = await client.send(
    new S3.ListObjectsV2Command({ Bucket: B, Delimiter: "/", ContinuationToken: lp.NextContinuationToken }),
  );
  eq((lp2.CommonPrefixes || []).map((p) => p.Prefix).join(","), "stream/", "second page");
  await client.send(new S3.DeleteObjectCommand({ Bucket: B, Key: "stream/empty" }));
  try {
    await client.send(new S3.GetObjectCommand({ Bucket: B, Key: "stream/empty" }));
    check(false, "GetObject of a deleted key fails");
  } catch (e) {
    eq(`${e.name} ${e.$metadata && e.$metadata.httpStatusCode}`, "NoSuchKey 404", "NoSuchKey after delete");
  }
  try {
    await client.send(new S3.CreateBucketCommand({ Bucket: "ab" }));
    check(false, "CreateBucket with a 2-character name fails");
  } catch (e) {
    eq(`${e.name} ${e.$metadata && e.$metadata.httpStatusCode}`, "InvalidBucketName 400", "InvalidBucketName");
  }
  eq(st.tmpFiles().length, 0, "DIR/tmp is empty");
} catch (e) {
  check(false, "unexpected error", (e && e.stack) || String(e));
}
client.destroy();
await done([st]);
