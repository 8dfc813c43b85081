"""Store on the wire, over raw sockets: Expect: 100-continue, HTTP chunked
bodies, and bad input that must get the right S3 error and store nothing
(malformed XML, a wrong x-amz-content-sha256, a missing one, truncated
bodies, a closed socket mid-upload, an oversized header section)."""
import hashlib
import os
import socket
import sys
import time

sys.path.insert(0, os.environ.get("CV_TESTLIB", os.path.join(os.path.dirname(__file__), "lib")))
import cvstore  # noqa: E402
from cvstore import b64, eq, xml_text  # noqa: E402

cvstore.require_bin()
if not cvstore.have_boto3():
    cvstore.skip("python3-boto3 is not installed (scripts/install-deps installs it)")

st = cvstore.Store("wire")
s3 = st.client()
B = "wire-bucket"
s3.create_bucket(Bucket=B)


def head_bytes(method, path, headers, query=""):
    target = path + ("?" + query if query else "")
    lines = ["%s %s HTTP/1.1" % (method, target)] + ["%s: %s" % kv for kv in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)}
    return status, hdrs, body


def key_absent(key):
    status, _, _ = st.request("HEAD", "/%s/%s" % (B, key))
    return status == 404


def wait_tmp_empty(timeout=15):
    deadline = time.monotonic() + timeout
    while st.tmp_files() and time.monotonic() < deadline:
        time.sleep(0.05)
    return st.tmp_files()


def test_expect_100_continue():
    body = os.urandom(300 * 1024)
    hdrs = st.sign("PUT", "/%s/expect" % B, body=body)
    hdrs.update({"Content-Length": str(len(body)), "Expect": "100-continue"})
    s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
    try:
        s.sendall(head_bytes("PUT", "/%s/expect" % B, hdrs))
        interim = b""
        t0 = time.monotonic()
        while b"\r\n\r\n" not in interim:
            chunk = s.recv(4096)  # times out (fails) if the store never answers
            assert chunk, "connection closed before 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100"), interim[:100]
        assert time.monotonic() - t0 < 5, "100 Continue took too long"
        s.sendall(body)
        status, h, data = parse_response(cvstore.recv_all(s))
    finally:
        s.close()
    eq(status, 200, "PUT after 100 Continue")
    eq(h.get("etag"), cvstore.etag_of(body), "ETag")
    eq(s3.get_object(Bucket=B, Key="expect")["Body"].read(), body, "stored body")


def test_expect_refused_before_body():
    """A request that is refused on its head gets the error, not 100 Continue."""
    body = b"x" * 1000
    hdrs = st.sign("PUT", "/%s/expect-denied" % B, body=body, secret="wrong" * 8)
    hdrs.update({"Content-Length": str(len(body)), "Expect": "100-continue"})
    s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
    try:
        s.sendall(head_bytes("PUT", "/%s/expect-denied" % B, hdrs))
        status, h, data = parse_response(cvstore.recv_all(s))
    finally:
        s.close()
    eq((status, xml_text(data, "Code")), (403, "SignatureDoesNotMatch"), "final answer, no 100")
    assert key_absent("expect-denied")


def test_http_chunked_body():
    body = os.urandom(200000)
    hdrs = st.sign("PUT", "/%s/chunked" % B, body=body)
    hdrs["Transfer-Encoding"] = "chunked"
    wire = head_bytes("PUT", "/%s/chunked" % B, hdrs)
    for i in range(0, len(body), 65536):
        piece = body[i:i + 65536]
        wire += b"%x\r\n%s\r\n" % (len(piece), piece)
    wire += b"0\r\n\r\n"
    status, h, data = parse_response(st.raw(wire))
    eq(status, 200, "chunked PUT: %r" % data[:200])
    eq(s3.get_object(Bucket=B, Key="chunked")["Body"].read(), body, "chunked body stored")


def _hmac(key, msg):
    import hmac
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def signed_chunked_put(key, data, chunk_size, tamper=None):
    """PUT with x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk
    signed, chained from the request's signature (the S3 documentation's scheme,
    written here independently of the store's decoder)."""
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    sig_len = 64
    wire_len = sum(len("%x" % len(c)) + len(";chunk-signature=") + sig_len + 2 + len(c) + 2
                   for c in chunks)
    path = "/%s/%s" % (B, key)
    hdrs = st.sign("PUT", path, payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                   headers={"Content-Encoding": "aws-chunked", "Content-Length": str(wire_len),
                            "x-amz-decoded-content-length": str(len(data))})
    auth = hdrs["Authorization"]
    seed = auth.rsplit("Signature=", 1)[1]
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/", 1)[1]
    amz_date = hdrs["X-Amz-Date"]
    date, region, service, _ = scope.split("/")
    k = _hmac(_hmac(_hmac(_hmac(("AWS4" + st.secret).encode(), date), region), service), "aws4_request")
    body, prev = b"", seed
    empty = hashlib.sha256(b"").hexdigest()
    for i, c in enumerate(chunks):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, empty,
                         hashlib.sha256(c).hexdigest()])
        sig = _hmac(k, sts).hex()
        prev = sig
        if tamper == i:
            c = bytes([c[0] ^ 1]) + c[1:]
        body += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), sig.encode(), c)
    assert len(body) == wire_len
    return parse_response(st.raw(head_bytes("PUT", path, hdrs) + body))


def test_signed_aws_chunked_upload():
    data = os.urandom(200 * 1024 + 77)
    status, h, resp = signed_chunked_put("signed-chunked", data, 64 * 1024)
    eq(status, 200, "signed aws-chunked PUT: %r" % resp[:300])
    eq(h.get("etag"), cvstore.etag_of(data), "ETag of the decoded body")
    g = s3.get_object(Bucket=B, Key="signed-chunked")
    eq(g["Body"].read(), data, "decoded body stored")
    eq(g.get("ContentEncoding"), None, "aws-chunked is not the object's Content-Encoding")
    # One flipped byte in the second chunk: its signature no longer matches; nothing stored.
    status, h, resp = signed_chunked_put("signed-chunked-bad", data, 64 * 1024, tamper=1)
    eq((status, xml_text(resp, "Code")), (403, "SignatureDoesNotMatch"), "tampered chunk")
    assert key_absent("signed-chunked-bad")
    eq(wait_tmp_empty(), [], "DIR/tmp after a refused stream")


def test_malformed_xml_delete_objects():
    s3.put_object(Bucket=B, Key="keep-me", Body=b"keep")
    for doc in (b"<Delete><Object><Key>keep-me</Key></Object>",  # truncated
                b"not xml at all",
                b"<Delete><Object><Key>keep-me</Key></Object></Delete><extra/>",
                b"<Delete></Delete>",  # no Object
                b""):
        hdrs = {"Content-MD5": b64(hashlib.md5(doc).digest()), "Content-Type": "application/xml"}
        status, h, data = st.request("POST", "/" + B, headers=hdrs, body=doc, query="delete=")
        eq((status, xml_text(data, "Code")), (400, "MalformedXML"), "DeleteObjects with %r" % doc[:40])
    eq(s3.get_object(Bucket=B, Key="keep-me")["Body"].read(), b"keep", "nothing deleted")


def test_malformed_xml_complete_multipart():
    uid = s3.create_multipart_upload(Bucket=B, Key="mpx")["UploadId"]
    etag = s3.upload_part(Bucket=B, Key="mpx", UploadId=uid, PartNumber=1, Body=b"p")["ETag"]
    for doc in (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>",
                b"<<<>>>",
                b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>%s</ETag></Part>"
                b"</CompleteMultipartUpload>" % etag.encode(),
                b"<CompleteMultipartUpload></CompleteMultipartUpload>"):
        status, h, data = st.request("POST", "/%s/mpx" % B, body=doc, query="uploadId=" + uid)
        eq((status, xml_text(data, "Code")), (400, "MalformedXML"), "Complete with %r" % doc[:50])
    assert key_absent("mpx"), "no object from a malformed completion"
    ok = (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
          b"</CompleteMultipartUpload>" % etag.encode())
    status, h, data = st.request("POST", "/%s/mpx" % B, body=ok, query="uploadId=" + uid)
    eq(status, 200, "the upload still completes: %r" % data[:300])


def test_content_sha256_mismatch():
    for size in (10, 300 * 1024):  # inline and file-backed bodies
        body = os.urandom(size)
        wrong = hashlib.sha256(body + b"!").hexdigest()
        key = "sha-mismatch-%d" % size
        status, h, data = st.request("PUT", "/%s/%s" % (B, key), body=body, payload_hash=wrong)
        eq((status, xml_text(data, "Code")), (400, "XAmzContentSHA256Mismatch"), "wrong hash, %d B" % size)
        assert key_absent(key), "an object was stored despite the mismatch"
        # An existing key keeps its content.
        s3.put_object(Bucket=B, Key=key, Body=b"old")
        st.request("PUT", "/%s/%s" % (B, key), body=body, payload_hash=wrong)
        eq(s3.get_object(Bucket=B, Key=key)["Body"].read(), b"old", "old content kept")
    eq(wait_tmp_empty(), [], "DIR/tmp after mismatches")
    status, h, data = st.request("PUT", "/%s/bad-hash-syntax" % B, body=b"x", payload_hash="xyz")
    eq((status, xml_text(data, "Code")), (400, "InvalidArgument"), "malformed x-amz-content-sha256")


def test_missing_content_sha256():
    status, h, data = st.request("GET", "/" + B, payload_hash=False)
    eq((status, xml_text(data, "Code"), xml_text(data, "Message")),
       (400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"),
       "header-signed request without x-amz-content-sha256")


def test_missing_content_length():
    hdrs = st.sign("PUT", "/%s/no-length" % B, body=b"")
    wire = head_bytes("PUT", "/%s/no-length" % B, hdrs)
    status, h, data = parse_response(st.raw(wire))
    eq((status, xml_text(data, "Code")), (411, "MissingContentLength"), "PUT without a length")
    assert key_absent("no-length")


def truncated_upload(key, declared, sent):
    body = os.urandom(declared)
    hdrs = st.sign("PUT", "/%s/%s" % (B, key), body=body)
    hdrs["Content-Length"] = str(declared)
    s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
    try:
        s.sendall(head_bytes("PUT", "/%s/%s" % (B, key), hdrs))
        s.sendall(body[:sent])
        time.sleep(0.3)  # let the store take in what was sent
    finally:
        s.close()


def test_truncated_bodies_leave_nothing():
    cases = [("trunc-small", 5000, 100), ("trunc-spill", 4 * 1024 * 1024, 1024 * 1024),
             ("trunc-nothing", 2 * 1024 * 1024, 0), ("trunc-one-short", 300 * 1024, 300 * 1024 - 1),
             # 8 MiB and more: the hashing pipeline and its disk thread own the file
             ("trunc-stream", 10 * 1024 * 1024, 3 * 1024 * 1024 + 5),
             ("trunc-stream-nothing", 9 * 1024 * 1024, 0),
             ("trunc-stream-one-short", 8 * 1024 * 1024, 8 * 1024 * 1024 - 1)]
    for key, declared, sent in cases:
        truncated_upload(key, declared, sent)
    eq(wait_tmp_empty(), [], "DIR/tmp after closed uploads")
    for key, _, _ in cases:
        assert key_absent(key), "%s is visible after a truncated upload" % key
    # Over a key that exists: the old content stays.
    s3.put_object(Bucket=B, Key="trunc-existing", Body=b"before")
    truncated_upload("trunc-existing", 1024 * 1024, 512 * 1024)
    eq(wait_tmp_empty(), [], "DIR/tmp")
    eq(s3.get_object(Bucket=B, Key="trunc-existing")["Body"].read(), b"before", "old content kept")


def test_oversized_header_section():
    hdrs = st.sign("GET", "/" + B)
    for i in range(20):
        hdrs["x-amz-meta-pad%02d" % i] = "p" * 1000  # 20 KiB of headers
    status, h, data = parse_response(st.raw(head_bytes("GET", "/" + B, hdrs)))
    eq((status, xml_text(data, "Code")), (400, "RequestHeaderSectionTooLarge"), "20 KiB header section")
    assert h.get("x-amz-request-id"), "request id on the error"
    # Far past any buffer: refused one way or another, and the store lives on.
    hdrs = st.sign("GET", "/" + B)
    hdrs["x-pad"] = "p" * (1024 * 1024)
    try:
        data = st.raw(head_bytes("GET", "/" + B, hdrs))
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    if data:
        status = parse_response(data)[0]
        assert 400 <= status < 500, "1 MiB header section answered %d" % status
    eq(s3.head_bucket(Bucket=B)["ResponseMetadata"]["HTTPStatusCode"], 200, "store still serving")


def test_put_object_body_too_large_declared():
    hdrs = st.sign("PUT", "/%s/huge" % B, body=b"", payload_hash="UNSIGNED-PAYLOAD")
    hdrs["Content-Length"] = str(5 * 1024 ** 3 + 1)
    s = socket.create_connection(("127.0.0.1", st.port), timeout=10)
    try:
        s.sendall(head_bytes("PUT", "/%s/huge" % B, hdrs))
        status, h, data = parse_response(cvstore.recv_all(s))
    finally:
        s.close()
    eq((status, xml_text(data, "Code")), (400, "EntityTooLarge"), "5 GiB + 1 declared")
    eq(wait_tmp_empty(), [], "DIR/tmp")


def test_keep_alive():
    """Several requests, errors included, on one connection."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", st.port, timeout=10)
    try:
        for i in range(3):
            body = os.urandom(100000 * i)
            path = "/%s/ka-%d" % (B, i)
            c.request("PUT", path, body=body, headers=st.sign("PUT", path, body=body))
            r = c.getresponse()
            eq((r.status, r.read()), (200, b""), "PUT %d on a kept-alive connection" % i)
            c.request("GET", "/%s/absent" % B, headers=st.sign("GET", "/%s/absent" % B))
            r = c.getresponse()
            eq((r.status, xml_text(r.read(), "Code")), (404, "NoSuchKey"), "an error in between")
            c.request("GET", path, headers=st.sign("GET", path))
            r = c.getresponse()
            eq((r.status, r.read() == body), (200, True), "GET %d on the same connection" % i)
            sock = c.sock
            assert sock is not None, "the store closed a connection it could keep"
    finally:
        c.close()


def test_refused_body_is_never_a_request():
    """A PUT refused on its head (bad signature) whose body is already on the wire:
    the body must not be read as the next request (request smuggling)."""
    inner = head_bytes("DELETE", "/%s/keep-me" % B, st.sign("DELETE", "/%s/keep-me" % B))
    s3.put_object(Bucket=B, Key="keep-me", Body=b"keep")
    body = inner + b"x" * 3000
    hdrs = st.sign("PUT", "/%s/refused" % B, body=body, secret="w" * 40)
    hdrs["Content-Length"] = str(len(body))
    follow = head_bytes("GET", "/%s/keep-me" % B, st.sign("GET", "/%s/keep-me" % B))
    s = socket.create_connection(("127.0.0.1", st.port), timeout=5)
    data = b""
    try:
        s.sendall(head_bytes("PUT", "/%s/refused" % B, hdrs) + body + follow)
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    statuses = [ln.split()[1] for ln in data.split(b"\r\n") if ln.startswith(b"HTTP/1.1 ")]
    assert statuses[:1] == [b"403"], statuses
    # Either the connection closed after the 403, or the GET was answered properly.
    assert statuses[1:] in ([], [b"200"]), "after a refused body: %r" % statuses
    eq(s3.get_object(Bucket=B, Key="keep-me")["Body"].read(), b"keep", "the smuggled DELETE did not run")
    assert key_absent("refused")


def test_no_orphans_after_restart():
    st.restart()
    eq(st.tmp_files(), [], "DIR/tmp after restart")
    body = st.client().get_object(Bucket=B, Key="chunked")["Body"].read()
    eq(len(body), 200000, "store serves after restart (new port)")


cvstore.main(globals())
