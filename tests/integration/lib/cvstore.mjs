// Harness for the store's node integration tests (ESM).
//
//   import { Store, check, done } from "./lib/cvstore.mjs";
//   const st = await Store.start();   // fresh temp dir, ephemeral 127.0.0.1 port
//   ... st.endpoint, st.akid, st.secret ...
//   check(cond, "what");              // records ok / FAIL and goes on
//   await done([st]);                 // SIGTERM (clean exit required), summary, exit code
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const src = process.env.CV_SOURCE_DIR || path.resolve(here, "..", "..", "..");
export const BIN = process.env.CV_BIN || path.join(src, "build", "test", "src", "cli", "caravel");

let passed = 0;
let failed = 0;
const t0 = Date.now();

for (const k of Object.keys(process.env)) {
  if (k.startsWith("AWS_")) {
    delete process.env[k]; // no profile, CA bundle or keys from outside
  }
}

export function skip(msg) {
  console.log("SKIP: " + msg);
  process.exit(77);
}

export function check(cond, what, detail) {
  if (cond) {
    passed++;
    console.log("ok    " + what);
  } else {
    failed++;
    console.log("FAIL  " + what + (detail === undefined ? "" : ": " + detail));
  }
  return cond;
}

export function eq(got, want, what) {
  return check(got === want, what, `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

function parseCredentials(text) {
  let section = null;
  let akid = null;
  let secret = null;
  for (let line of text.split("\n")) {
    line = line.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      section = line.slice(1, -1);
      continue;
    }
    const m = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (section === "default" && m) {
      if (m[1] === "aws_access_key_id") akid = m[2];
      if (m[1] === "aws_secret_access_key") secret = m[2];
    }
  }
  if (!akid || !secret) throw new Error("no [default] credentials in " + text);
  return { akid, secret };
}

export class Store {
  static async start() {
    if (!fs.existsSync(BIN)) skip(`no caravel binary at ${BIN} (set CV_BIN or run make test)`);
    const st = new Store();
    st.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cvstore-js-"));
    st.dir = path.join(st.tmp, "data");
    st.logPath = path.join(st.tmp, "store.log");
    const log = fs.openSync(st.logPath, "a");
    st.proc = spawn(BIN, ["store", "serve", "--data", st.dir, "--listen", "127.0.0.1:0"], {
      stdio: ["ignore", log, log],
    });
    st.exit = new Promise((resolve) => st.proc.on("exit", (code, sig) => resolve({ code, sig })));
    const ep = path.join(st.dir, "endpoint");
    const deadline = Date.now() + 60000;
    for (;;) {
      if (st.proc.exitCode !== null) throw new Error("store exited during start-up:\n" + st.log());
      if (fs.existsSync(ep) && fs.readFileSync(ep, "utf8").endsWith("\n")) break;
      if (Date.now() > deadline) throw new Error("no endpoint file after 60 s:\n" + st.log());
      await new Promise((r) => setTimeout(r, 20));
    }
    st.endpoint = fs.readFileSync(ep, "utf8").trim();
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(st.endpoint)) throw new Error("endpoint " + st.endpoint);
    Object.assign(st, parseCredentials(fs.readFileSync(path.join(st.dir, "root-credentials"), "utf8")));
    return st;
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, "utf8");
    } catch {
      return "(no log)";
    }
  }

  tmpFiles() {
    return fs.readdirSync(path.join(this.dir, "tmp"));
  }

  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    p.kill("SIGTERM");
    const timer = setTimeout(() => p.kill("SIGKILL"), 60000);
    const { code, sig } = await this.exit;
    clearTimeout(timer);
    check(code === 0, "store stopped cleanly on SIGTERM", `exit ${code} signal ${sig}`);
  }
}

export async function done(stores) {
  for (const st of stores) await st.stop();
  if (failed) {
    for (const st of stores) {
      console.log(`----- store log (${st.logPath}) -----`);
      console.log(st.log().slice(-60000));
    }
  } else {
    for (const st of stores) fs.rmSync(st.tmp, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  process.exit(failed ? 1 : 0);
}
