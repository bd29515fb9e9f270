/**
 * saveModel / loadModel on a tiny model (hidden 16, depth 1): a bit-exact round trip of every
 * parameter and of the normalisation stats; state_dict names in the weights file; and a
 * CheckpointError naming the file for a truncated or garbled weights file, a missing tensor, a
 * tensor of the wrong shape, a replaced weights file, and a model.json of another format.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  loadModel, MODEL_FORMAT, MODEL_JSON, releasedUnusedEntries, saveModel, WEIGHTS_FILE, type ModelJson,
} from "../../src/checkpoint/model-file.js";
import { decodeSafetensors, encodeSafetensors, readSafetensors, type Tensor } from "../../src/checkpoint/safetensors.js";
import { initEngine, np, tree, type Arr } from "../../src/engine.js";
import { CheckpointError, FileError } from "../../src/errors.js";
import { initParams, linearShapes, stateDictEntries, type DssrParams } from "../../src/model/params.js";
import { FIXTURES } from "../helpers/paths.js";
import { tinyConfig, tinyNorm, tinyShape } from "./helpers.js";

const bytesOf = (a: Arr) => {
  const d = a.ref.dataSync() as Float32Array | Float64Array;
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
};

function assertSameParams(a: DssrParams, b: DssrParams): void {
  const ea = stateDictEntries(a);
  const eb = new Map(stateDictEntries(b));
  assert.equal(ea.length, eb.size);
  for (const [name, x] of ea) {
    const y = eb.get(name)!;
    assert.ok(y, name);
    assert.deepEqual(y.shape, x.shape, name);
    assert.equal(y.dtype, x.dtype, name);
    assert.deepEqual(bytesOf(y), bytesOf(x), name);
  }
}

async function expectCheckpointError(dir: string, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadModel(dir), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${String(e)}`);
    assert.ok(e.message.includes(join(dir, file)), `message names ${file}: ${e.message}`);
    assert.equal(e.file, join(dir, file));
    assert.match(e.message, pattern);
    return true;
  });
}

describe("saveModel / loadModel", () => {
  let root: string;
  let params: DssrParams;
  let saved: string;
  const shape = tinyShape();

  before(async () => {
    await initEngine();
    root = mkdtempSync(join(tmpdir(), "dssr-test-model-file-"));
    params = initParams(shape, 11);
    saved = join(root, "model");
    await saveModel(saved, { params, shape, config: tinyConfig(), normalization: tinyNorm(), fold: 3 });
  });
  after(() => {
    tree.dispose(params as never);
    rmSync(root, { recursive: true, force: true });
  });

  it("writes exactly model.safetensors and model.json, no temporaries", () => {
    assert.deepEqual(readdirSync(saved).sort(), [MODEL_JSON, WEIGHTS_FILE]);
  });

  it("round-trips every parameter bit for bit, and the stats, config and condition", async () => {
    const m = await loadModel(saved);
    assertSameParams(m.params, params);
    assert.deepEqual(m.shape, shape);
    assert.deepEqual(m.normalization, tinyNorm());
    assert.deepEqual(m.config, tinyConfig());
    assert.equal(m.condition, "atv");
    assert.equal(m.task, "regression");
    assert.equal(m.stage, 2);
    assert.equal(m.info.epoch, 1);
    assert.equal(m.info.fold, 3);
    assert.equal(m.info.format, MODEL_FORMAT);
    tree.dispose(m.params as never);
  });

  it("float64 parameters stay float64", async () => {
    const p64 = initParams(shape, 12, np.float64);
    const dir = join(root, "f64");
    await saveModel(dir, { params: p64, shape, config: tinyConfig(), normalization: { method: "none" } });
    const m = await loadModel(dir);
    assertSameParams(m.params, p64);
    assert.equal(readSafetensors(join(dir, WEIGHTS_FILE)).tensors.get("head.weight")!.dtype, "F64");
    tree.dispose([p64, m.params] as never);
  });

  it("names tensors as the released PyTorch model's state_dict", () => {
    const { tensors, metadata } = readSafetensors(join(saved, WEIGHTS_FILE));
    assert.equal(metadata.format, "pt");
    for (const name of ["a2a_sha.0.weight", "enc_sha.blocks.0.q.bias", "cross_attn.0.mlp.fc2.weight",
      "enc_spe.blocks.0.Transformer_v.k.weight", "enc_spe.proj_in.t.weight", "enc_spe.recs.3.fc1.weight",
      "head_1_a.weight", "head_sha.bias", "router_spe.fc2.weight", "proj.weight", "head.bias"]) {
      assert.ok(tensors.has(name), name);
    }
    assert.deepEqual(tensors.get("a2a_sha.0.weight")!.shape, [16, 5]);
    assert.deepEqual(tensors.get("enc_spe.recs.0.fc1.weight")!.shape, [20, 20]);
    // Plus the released model's unused parameters, as zeros: PyTorch's strict load_state_dict needs every key.
    const unused = releasedUnusedEntries(shape);
    assert.equal(tensors.size, stateDictEntries(params).length + unused.length);
    assert.deepEqual(tensors.get("a2t_spe.conv.weight")!.shape, [16, 5, 1]);
    assert.deepEqual(tensors.get("gate_v_sha.fc2.weight")!.shape, [1, 16]);
    for (const [name] of unused) assert.ok(tensors.get(name)!.data.every((x) => x === 0), name);
  });

  it("holds exactly the released model's state_dict keys and shapes (the golden fixtures' params and unused_params)", { skip: !existsSync(join(FIXTURES, "classification.json")) && "no golden fixtures" }, () => {
    for (const name of ["regression", "classification"] as const) {
      const g = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as {
        config: { n_classes: number; D_e: number; n_heads: number; input_dims: { a: number; t: number; v: number } };
        params: { name: string; shape: number[] }[];
        unused_params: { name: string; shape: number[] }[];
      };
      const s = { dims: g.config.input_dims, hidden: g.config.D_e, heads: g.config.n_heads, nClasses: g.config.n_classes, depth: 4 };
      const ours = [...(stateDictEntries(linearShapes(s)) as unknown as [string, number[]][]), ...releasedUnusedEntries(s)];
      const theirs = [...g.params, ...g.unused_params].map((p) => [p.name, p.shape] as [string, number[]]);
      const key = (e: [string, number[]]) => `${e[0]} [${e[1].join(", ")}]`;
      assert.deepEqual(ours.map(key).sort(), theirs.map(key).sort(), name);
    }
  });

  it("a stage-1-only run is recorded as stage 1", async () => {
    const dir = join(root, "s1");
    await saveModel(dir, { params, shape, config: tinyConfig({ epochs: 3, stageEpoch: 3, condition: "at" }), normalization: tinyNorm() });
    const info = JSON.parse(readFileSync(join(dir, MODEL_JSON), "utf8")) as ModelJson;
    assert.equal(info.stage, 1);
    assert.equal(info.condition, "at");
  });

  // ---- corruption ----

  /** A copy of the saved model whose weights file is `bytes` (model.json's hash updated when `rehash`). */
  function variant(name: string, bytes: Uint8Array, rehash = true): string {
    const dir = join(root, name);
    rmSync(dir, { recursive: true, force: true });
    const info = JSON.parse(readFileSync(join(saved, MODEL_JSON), "utf8")) as ModelJson;
    if (rehash) {
      // Keep the hash check out of the way so the structural check under test is the one that fires.
      info.weights.sha256 = createHash("sha256").update(bytes).digest("hex");
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, MODEL_JSON), JSON.stringify(info));
    writeFileSync(join(dir, WEIGHTS_FILE), bytes);
    return dir;
  }

  const good = () => new Uint8Array(readFileSync(join(saved, WEIGHTS_FILE)));
  const tensorsOf = () => decodeSafetensors(good()).tensors;

  it("a truncated weights file", async () => {
    const b = good();
    await expectCheckpointError(variant("trunc", b.subarray(0, b.length - 100)), WEIGHTS_FILE, /truncated/);
    await expectCheckpointError(variant("trunc-header", b.subarray(0, 40)), WEIGHTS_FILE, /truncated/);
  });

  it("a weights file whose header is not JSON", async () => {
    const b = good();
    b[20] = 0x00; // inside the JSON header
    await expectCheckpointError(variant("badjson", b), WEIGHTS_FILE, /header is not valid UTF-8 JSON/);
  });

  it("a missing tensor", async () => {
    const t = tensorsOf();
    t.delete("enc_spe.recs.2.fc2.bias");
    await expectCheckpointError(variant("missing", encodeSafetensors(t, { format: "pt" })), WEIGHTS_FILE, /lacks tensor 'enc_spe\.recs\.2\.fc2\.bias' \(shape \[16\]\)/);
  });

  it("a tensor whose shape disagrees with model.json's shape: named, with expected and got", async () => {
    const t = tensorsOf();
    const w = t.get("router_spe.fc2.weight")!; // [3, 48]
    t.set("router_spe.fc2.weight", { ...w, shape: [6, 24] } as Tensor);
    await expectCheckpointError(
      variant("shape", encodeSafetensors(t, { format: "pt" })),
      WEIGHTS_FILE,
      /tensor 'router_spe\.fc2\.weight' in .* has shape \[6, 24\], but .*model\.json's model shape \(.*hidden 16.*\) expects \[3, 48\]/,
    );
  });

  it("a weights file of another model shape (hidden 8)", async () => {
    const p8 = initParams({ ...shape, hidden: 8 }, 1);
    const t = new Map<string, Tensor>(stateDictEntries(p8).map(([n, a]) => [n, { dtype: "F32", shape: a.shape, data: (a.ref.dataSync() as Float32Array).slice() }]));
    tree.dispose(p8 as never);
    await expectCheckpointError(variant("hidden8", encodeSafetensors(t)), WEIGHTS_FILE, /tensor 'a2a_sha\.0\.weight' .* has shape \[8, 5\], .* expects \[16, 5\]/);
  });

  it("an unused (PyTorch-only) tensor of the wrong shape", async () => {
    const t = tensorsOf();
    t.set("a2v_sha.conv.weight", { dtype: "F32", shape: [16, 6, 1], data: new Float32Array(96) });
    await expectCheckpointError(variant("unused-shape", encodeSafetensors(t)), WEIGHTS_FILE, /tensor 'a2v_sha\.conv\.weight' .* has shape \[16, 6, 1\], .* expects \[16, 5, 1\]/);
  });

  it("an extra tensor", async () => {
    const t = tensorsOf();
    t.set("bogus.weight", { dtype: "F32", shape: [1], data: new Float32Array(1) });
    await expectCheckpointError(variant("extra", encodeSafetensors(t)), WEIGHTS_FILE, /has no place for: 'bogus\.weight'/);
  });

  it("weights replaced after saving (hash mismatch)", async () => {
    const t = tensorsOf();
    const h = t.get("head.bias")!;
    t.set("head.bias", { ...h, data: Float32Array.from(h.data, (x) => x + 1) } as Tensor);
    await expectCheckpointError(variant("replaced", encodeSafetensors(t, { format: "pt" }), false), WEIGHTS_FILE, /SHA-256/);
  });

  it("a model.json of another format, or not JSON", async () => {
    const dir = variant("format", good());
    writeFileSync(join(dir, MODEL_JSON), JSON.stringify({ format: "dssr-results/1" }));
    await expectCheckpointError(dir, MODEL_JSON, /has format "dssr-results\/1", expected "dssr-model\/1"/);
    writeFileSync(join(dir, MODEL_JSON), "{ not json");
    await expectCheckpointError(dir, MODEL_JSON, /is not valid JSON/);
    const info = JSON.parse(readFileSync(join(saved, MODEL_JSON), "utf8")) as ModelJson;
    (info.shape as { hidden: unknown }).hidden = 18;
    writeFileSync(join(dir, MODEL_JSON), JSON.stringify(info));
    await expectCheckpointError(dir, MODEL_JSON, /shape\.hidden \(18\) is not a multiple of shape\.heads \(4\)/);
  });

  it("a folder without a model is a FileError", async () => {
    await assert.rejects(loadModel(join(root, "nothing")), (e: unknown) => e instanceof FileError && /ENOENT/.test(e.message));
    assert.ok(!existsSync(join(root, "nothing")));
  });
});

