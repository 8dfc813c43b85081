"""Helpers for the analyze integration tests (not a test itself)."""
import json
import os
import subprocess
import sys

BIN = os.environ.get("CV_BIN", "")
SRC = os.environ.get("CV_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.environ.get("CV_SHARED_DIR", "")


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(77)


def run(args, stdin=None):
    return subprocess.run([BIN, "analyze"] + args, input=stdin, capture_output=True)


def validator(defn=None):
    try:
        import jsonschema
    except ImportError:
        skip("python3-jsonschema is not installed (scripts/install-deps installs it)")
    with open(os.path.join(SRC, "docs", "insights.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    if defn:
        schema = dict(schema)
        schema["$ref"] = "#/$defs/" + defn
        for k in ("required", "properties", "additionalProperties", "type"):
            schema.pop(k, None)
    return jsonschema.Draft202012Validator(schema)


def validate_output(doc_bytes, records_path=None):
    """Validates an insights document (and a records file) against the schema."""
    doc = json.loads(doc_bytes)
    validator().validate(doc)
    if records_path:
        rv = validator("record")
        opener = open
        if records_path.endswith(".gz"):
            import gzip
            opener = gzip.open
        with opener(records_path, "rt", encoding="utf-8") as f:
            for line in f:
                rv.validate(json.loads(line))
    return doc
