"""Harness for the store's integration tests (Python side).

A test program starts its own store in a fresh temporary folder on an
ephemeral 127.0.0.1 port, talks to it with real clients, and stops it with
SIGTERM, checking that it exited cleanly (exit status 0: no sanitizer
report, no leak). The store's log is kept and printed when a test fails.

    import cvstore
    st = cvstore.Store()          # started
    s3 = st.client()              # boto3 client, path-style, root of the default account

    def test_something():
        ...

    cvstore.main(globals())       # runs every test_* function in order, stops the stores

Expected failures (store bugs written down in /work/briefs/store-bugs.md)
are marked with @cvstore.known_bug("what is wrong"): the test still runs,
its failure prints a clear XFAIL line and does not fail the program; if it
passes, the program fails so that the marker gets removed.
"""
import base64
import datetime
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CV_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BIN = os.environ.get("CV_BIN") or os.path.join(SRC, "build", "test", "src", "cli", "caravel")
REGION = "us-east-1"
AWS = "/usr/bin/aws"

# botocore picks the CRT signers when python3-awscrt is installed; both
# are real clients, keep whichever the machine has. The tests that need
# to sign by hand use botocore's pure-Python signer explicitly.

_stores = []

# The clients talk to this store only: no profile, CA bundle or keys from outside.
for _k in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[_k]
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = "/dev/null"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def require_bin():
    if not os.path.exists(BIN):
        skip("no caravel binary at %s (set CV_BIN or run make test)" % BIN)


def have_boto3():
    try:
        import boto3  # noqa: F401
        return True
    except ImportError:
        return False


def parse_credentials(text):
    """The [default] profile of an AWS shared-credentials text: (akid, secret)."""
    akid = secret = None
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section != "default" or "=" not in line:
            continue
        k, v = (x.strip() for x in line.split("=", 1))
        if k == "aws_access_key_id":
            akid = v
        elif k == "aws_secret_access_key":
            secret = v
    if not akid or not secret:
        raise AssertionError("no [default] credentials in:\n" + text)
    return akid, secret


class Store:
    """One `caravel store serve` process on its own data folder."""

    def __init__(self, name="store", start=True, extra_args=()):
        require_bin()
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="cvstore-%s-" % name)
        self.dir = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "store.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.endpoint = None
        self.port = None
        self.akid = self.secret = None
        self.starts = 0
        _stores.append(self)
        if start:
            self.start()

    # -- lifecycle ----------------------------------------------------
    def start(self, timeout=60):
        """Starts the store and waits until DIR/endpoint names its port."""
        assert self.proc is None, "store already running"
        ep = os.path.join(self.dir, "endpoint")
        if os.path.exists(ep):
            os.unlink(ep)  # left by a killed run: wait for the new one
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(b"=== start %d ===\n" % self.starts)
            log.flush()
            self.proc = subprocess.Popen(
                [BIN, "store", "serve", "--data", self.dir, "--listen", "127.0.0.1:0"]
                + self.extra_args,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise AssertionError("store exited with %d during start-up:\n%s" % (rc, self.log()))
            if os.path.exists(ep):
                with open(ep) as f:
                    text = f.read()
                if text.endswith("\n"):
                    break
            if time.monotonic() > deadline:
                raise AssertionError("store did not write %s within %ds:\n%s" % (ep, timeout, self.log()))
            time.sleep(0.02)
        self.endpoint = text.strip()
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)", self.endpoint)
        assert m, "unexpected endpoint %r" % self.endpoint
        self.port = int(m.group(1))
        with open(os.path.join(self.dir, "root-credentials")) as f:
            self.akid, self.secret = parse_credentials(f.read())
        return self

    def stop(self, timeout=60):
        """SIGTERM, then asserts a clean exit (status 0)."""
        if self.proc is None:
            return
        p, self.proc = self.proc, None
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise AssertionError("store did not stop within %ds of SIGTERM" % timeout)
        if rc != 0:
            raise AssertionError("store exited with status %d after SIGTERM" % rc)

    def kill(self):
        """SIGKILL (a crash); returns once the process is gone."""
        if self.proc is None:
            return
        p, self.proc = self.proc, None
        p.kill()
        p.wait()

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- clients ------------------------------------------------------
    def env(self, akid=None, secret=None):
        """Environment for awscli/other AWS tools with this store's root keys."""
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("AWS_"):
                del e[k]
        e.update({
            "AWS_ACCESS_KEY_ID": akid or self.akid,
            "AWS_SECRET_ACCESS_KEY": secret or self.secret,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        })
        return e

    def client(self, akid=None, secret=None, endpoint=None, addressing="path", signed=True,
               retries=0, region=REGION, **cfg):
        import boto3
        import botocore
        from botocore.config import Config
        kw = {"s3": {"addressing_style": addressing},
              "retries": {"max_attempts": retries + 1, "mode": "standard"},
              "connect_timeout": 10, "read_timeout": 120}
        kw.update(cfg)
        if not signed:
            kw["signature_version"] = botocore.UNSIGNED
        sess = boto3.session.Session(aws_access_key_id=akid or self.akid,
                                     aws_secret_access_key=secret or self.secret,
                                     region_name=region)
        return sess.client("s3", endpoint_url=endpoint or self.endpoint, config=Config(**kw))

    def add_account(self, name):
        """`caravel store accounts add NAME` on the running store: (akid, secret, account id)."""
        out = subprocess.run([BIN, "store", "accounts", "add", name, "--data", self.dir],
                             capture_output=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError("accounts add failed (%d): %s" % (out.returncode, out.stderr.decode()))
        text = out.stdout.decode()
        m = re.search(r"^# account (\d{12}) ", text, re.M)
        assert m, "no account id in: " + text
        return parse_credentials(text) + (m.group(1),)

    def tmp_files(self):
        d = os.path.join(self.dir, "tmp")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def object_files(self):
        out = []
        root = os.path.join(self.dir, "objects")
        for sub in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            out.extend(os.path.join(sub, f) for f in os.listdir(os.path.join(root, sub)))
        return sorted(out)

    # -- raw HTTP -----------------------------------------------------
    def sign(self, method, path, headers=None, body=b"", query="", akid=None, secret=None,
             when=None, payload_hash=None, host=None, region=REGION):
        """SigV4-signs a request with botocore's pure-Python signer; returns the headers
        (Host included).

        @when: a datetime (UTC) to sign at instead of now (clock-skew tests).
        @payload_hash: x-amz-content-sha256 to sign and send (default: the body's real
        hash; any string is used as is, even one that does not match the body; False
        leaves the header out).
        """
        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        host = host or "127.0.0.1:%d" % self.port
        url = "http://%s%s%s" % (host, path, "?" + query if query else "")
        h = {k: v for k, v in (headers or {}).items() if k.lower() != "host"}
        req = AWSRequest(method=method, url=url, data=body, headers=h)
        # SigV4Auth signs the body's hash without sending x-amz-content-sha256 (as curl 7.88 does).
        cls = SigV4Auth if payload_hash is False else S3SigV4Auth
        auth = cls(Credentials(akid or self.akid, secret or self.secret), "s3", region)
        forced = payload_hash or hashlib.sha256(body).hexdigest()
        auth.payload = lambda _request: forced  # botocore would recompute it
        if when is None:
            auth.add_auth(req)
        else:
            with mock.patch("botocore.auth.datetime") as dt:
                dt.datetime.utcnow.return_value = when
                dt.datetime.now.return_value = when
                dt.timezone = datetime.timezone
                dt.timedelta = datetime.timedelta
                auth.add_auth(req)
        out = {"Host": host}
        out.update(req.headers.items())
        assert payload_hash is not False or not any(
            k.lower() == "x-amz-content-sha256" for k in out), "x-amz-content-sha256 was added"
        return out

    def request(self, method, path, headers=None, body=b"", query="", sign=True, **kw):
        """One HTTP request (signed by default): (status, headers dict lower-case, body)."""
        hdrs = self.sign(method, path, headers, body, query, **kw) if sign else dict(headers or {})
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request(method, path + ("?" + query if query else ""), body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def raw(self, data, read=True, timeout=30):
        """Sends raw bytes on a fresh socket; returns what came back until close/timeout."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(data)
            if not read:
                return b""
            return recv_all(s)
        finally:
            s.close()


def recv_all(s, limit=1 << 24):
    out = b""
    while len(out) < limit:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        out += chunk
        if response_complete(out):
            break
    return out


def response_complete(data):
    """True once @data holds a whole HTTP response (Content-Length framing)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if head.startswith(b"HTTP/1.1 100"):
        return response_complete(body)
    if m is None:
        return False
    return len(body) >= int(m.group(1))


# -- small helpers -------------------------------------------------------------

def md5_hex(b):
    return hashlib.md5(b).hexdigest()


def b64(b):
    return base64.b64encode(b).decode()


def etag_of(b):
    return '"%s"' % md5_hex(b)


def error_code(exc):
    """The S3 error code of a botocore ClientError."""
    return exc.response.get("Error", {}).get("Code")


def http_status(exc):
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def expect_error(code, status, fn, *a, **kw):
    """Calls fn and asserts it fails with S3 error @code and HTTP @status; returns the error."""
    from botocore.exceptions import ClientError
    try:
        fn(*a, **kw)
    except ClientError as e:
        got = (error_code(e), http_status(e))
        assert got == (code, status), "expected %s/%s, got %s/%s: %s" % (
            code, status, got[0], got[1], e.response.get("Error"))
        return e
    raise AssertionError("expected %s/%s, the call succeeded" % (code, status))


def eq(got, want, what=""):
    assert got == want, "%s: expected %r, got %r" % (what or "value", want, got)


def xml_text(body, tag):
    m = re.search(rb"<%s>(.*?)</%s>" % (tag.encode(), tag.encode()), body, re.S)
    return m.group(1).decode() if m else None


# -- the runner ----------------------------------------------------------------

def known_bug(msg):
    """Marks a test as an expected failure: a store bug written down in store-bugs.md."""
    def deco(fn):
        fn.known_bug = msg
        return fn
    return deco


def main(ns, stores=None):
    """Runs the test_* functions of @ns in definition order; stops the stores; exits."""
    tests = [(k, v) for k, v in ns.items() if k.startswith("test_") and callable(v)]
    only = os.environ.get("CV_ONLY")
    if only:
        tests = [t for t in tests if re.search(only, t[0])]
    passed = failed = xfailed = 0
    t0 = time.monotonic()
    for name, fn in tests:
        t = time.monotonic()
        bug = getattr(fn, "known_bug", None)
        try:
            fn()
        except Exception:  # noqa: BLE001
            if bug:
                xfailed += 1
                print("XFAIL %s: known store bug (see /work/briefs/store-bugs.md): %s" % (name, bug))
                print("  " + traceback.format_exc().strip().splitlines()[-1])
            else:
                failed += 1
                print("FAIL  %s (%.1fs)" % (name, time.monotonic() - t))
                traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
            continue
        if bug:
            failed += 1
            print("XPASS %s: the known bug is fixed; remove its @known_bug marker (%s)" % (name, bug))
        else:
            passed += 1
            print("ok    %s (%.1fs)" % (name, time.monotonic() - t))
        sys.stdout.flush()
    for st in stores if stores is not None else list(_stores):
        try:
            st.stop()
        except AssertionError as e:
            failed += 1
            print("FAIL  stopping %s: %s" % (st.name, e))
    if failed:
        for st in _stores:
            print("----- log of %s (%s) -----" % (st.name, st.log_path))
            print(st.log()[-60000:])
    else:
        for st in _stores:
            st.cleanup()
    print("%d passed, %d failed, %d expected failures (%.1fs)" % (
        passed, failed, xfailed, time.monotonic() - t0))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
