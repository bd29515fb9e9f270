/** Runs the real `bin/dssr.js` in a child process, as a user's shell would. */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../helpers/paths.js";

export const BIN = join(REPO, "bin", "dssr.js");

export interface BinRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/dssr.js ...args` in `cwd`; resolves when it exits (no timeout of its own). */
export function runBin(args: readonly string[], cwd: string): Promise<BinRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dssr-test-${prefix}-`));
}

/** Every file under `dir`, relative, sorted (hidden temporaries included). */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** The synthetic feature folders, as `dssr train` flags. */
export const SYNTH_FLAGS = [
  "--audio-feature", "synth-audio", "--text-feature", "synth-text", "--video-feature", "synth-video",
] as const;

export interface KilledRun {
  /** The signal that ended the child (SIGKILL when the pattern was seen), or null. */
  signal: NodeJS.Signals | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node bin/dssr.js ...args`, killed with SIGKILL (no handler, no clean-up: a crash) as soon as
 * its stdout matches `pattern`.
 */
export function runBinUntil(args: readonly string[], cwd: string, pattern: RegExp): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      if (pattern.test(stdout)) child.kill("SIGKILL");
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ signal, code, stdout, stderr }));
  });
}
