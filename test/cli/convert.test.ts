/**
 * `dssr convert` through the real binary: a .npy folder → a feature pickle equal to what the
 * folder reads as; bad input is one `dssr: …` line, exit 1 and no file left behind. And `dssr
 * train` reading a .npy folder directly stops on a missing utterance with the same kind of line.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readFeatureFile } from "../../src/data/features.js";
import { readNpyFeatureFolder } from "../../src/data/npy-folder.js";
import { npyBytes, writeNpy, writeSentimentLabels } from "../helpers/npy.js";
import { listFiles, runBin, tempDir } from "./helpers.js";

let root: string;
let labelFile: string;
const UTTS = { v1: ["v1_1", "v1_2"], v2: ["v2_1"], v3: ["v3_1", "v3_2"] };

/** `<root>/features/<name>/` with one .npy per utterance of UTTS (minus `without`). */
function npyFolder(name: string, without: string[] = []): string {
  const dir = join(root, "features", name);
  let i = 0;
  for (const u of Object.values(UTTS).flat()) {
    i++;
    if (without.includes(u)) continue;
    // a 2 × 3 float64 matrix (mean-pooled) for odd i, a float32 vector for even i
    if (i % 2) writeNpy(join(dir, `${u}.npy`), { descr: "<f8", shape: [2, 3], data: [i, -i, 0.5, i + 1, i, 1.5] });
    else writeNpy(join(dir, `${u}.npy`), { descr: "<f4", shape: [3], data: [i / 4, -i, 2] });
  }
  return dir;
}

function oneLine(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], /^dssr: /);
  assert.doesNotMatch(lines[0], /\bat .*\.ts:\d+/, "no stack frame");
  assert.match(lines[0], pattern);
}

describe("dssr convert", () => {
  before(() => {
    root = tempDir("convert");
    labelFile = join(root, "CMUMOSI_features_raw_2way.pkl");
    writeSentimentLabels(labelFile, UTTS);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("writes the pickle layout, equal to the folder read directly (labels from --dataset + --data-dir)", async () => {
    const from = npyFolder("npy-audio");
    mkdirSync(join(root, "features", "pkl-audio"));
    const to = join(root, "features", "pkl-audio", "audio.pkl");
    const r = await runBin(["convert", "--from", from, "--to", to, "--dataset", "CMUMOSI", "--data_dir", root], root);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, `converted 5 utterances, dim 3 (utterances of ${labelFile}): ${from} → ${to}\n`);
    const back = readFeatureFile(to);
    assert.equal(back.dim, 3);
    assert.deepEqual(
      new Map([...back.host].map(([k, v]) => [k, [...v]])),
      new Map([
        ["v1_1", [1.5, 0, 1]], ["v1_2", [0.5, -2, 2]], ["v2_1", [3.5, 0, 1]], ["v3_1", [1, -4, 2]], ["v3_2", [5.5, 0, 1]],
      ]),
    );
    assert.deepEqual(back.host, readNpyFeatureFolder(from).host);
    assert.deepEqual(listFiles(join(root, "features", "pkl-audio")), ["audio.pkl"], "no temporary left");
  });

  it("a truncated .npy: one line naming the file, exit 1, no pickle written", async () => {
    const from = npyFolder("npy-cut");
    const b = npyBytes({ descr: "<f4", shape: [3], data: [1, 2, 3] });
    writeFileSync(join(from, "v2_1.npy"), b.subarray(0, b.length - 4));
    const to = join(root, "cut.pkl");
    const r = await runBin(["convert", "--from", from, "--to", to, "--label-file", labelFile], root);
    oneLine(r, new RegExp(`^dssr: truncated \\.npy file ${join(from, "v2_1.npy")}: shape \\(3,\\) of '<f4' needs 12 data bytes, found 8$`));
    assert.equal(r.stdout, "");
    assert.equal(existsSync(to), false);
    assert.deepEqual(listFiles(root).filter((f) => f.includes("cut.pkl")), []);
  });

  it("--to is required; IEMOCAP needs its label file", async () => {
    oneLine(await runBin(["convert", "--from", join(root, "features", "npy-audio")], root), /^dssr: --to is required/);
    oneLine(
      await runBin(["convert", "--from", join(root, "features", "npy-audio"), "--to", join(root, "x.pkl"), "--dataset", "IEMOCAPFour"], root),
      /^dssr: IEMOCAPFour needs its label file to convert a \.npy folder/,
    );
  });

  it("dssr train reads a .npy folder directly and names a missing utterance and the folder", async () => {
    npyFolder("npy-text");
    const video = npyFolder("npy-video", ["v3_1"]);
    const r = await runBin([
      "train", "--dataset", "CMUMOSI", "--data-dir", root,
      "--audio-feature", "npy-audio", "--text-feature", "npy-text", "--video-feature", "npy-video", "--epochs", "1",
    ], root);
    oneLine(r, new RegExp(`^dssr: feature folder ${video} lacks utterance 'v3_1' \\(neither v3_1\\.npy nor a folder v3_1/ is there; video 'v3', named by label file ${labelFile}\\)$`));
  });
});
