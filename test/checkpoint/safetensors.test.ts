/**
 * The hand-written safetensors reader and writer: bit-exact round trips (F32 and F64, -0, NaN,
 * ±Inf, subnormals, 0-d and empty tensors), the byte layout the reference implementation writes
 * (header length, space padding to 8, dtype-then-name order, offsets that tile the data), and a
 * CheckpointError naming the file for every kind of corruption.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  decodeSafetensors, encodeSafetensors, readSafetensors, tensor, writeSafetensors, type Tensor,
} from "../../src/checkpoint/safetensors.js";
import { CheckpointError, FileError } from "../../src/errors.js";

const bits = (t: Tensor) => Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));

function sample(): Map<string, Tensor> {
  const f32 = new Float32Array([0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, Math.fround(0.1), 7, 8]);
  const f64 = new Float64Array([0, -0, Math.PI, -1e-310, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 0.1]);
  return new Map<string, Tensor>([
    ["enc.blocks.0.q.weight", tensor(f32, [3, 4])],
    ["head.bias", tensor(f64, [2, 5])],
    ["scalar", tensor(new Float32Array([-0]), [])],
    ["empty", tensor(new Float64Array(0), [0, 3])],
  ]);
}

function corrupt(what: () => unknown, pattern: RegExp): void {
  assert.throws(what, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe("safetensors", () => {
  const dir = mkdtempSync(join(tmpdir(), "dssr-test-safetensors-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips F32 and F64 bit for bit, with shapes and metadata", async () => {
    const path = join(dir, "a.safetensors");
    const meta = { format: "pt", note: "ünïcode ✓" };
    await writeSafetensors(path, sample(), meta);
    const back = readSafetensors(path);
    assert.deepEqual(back.metadata, meta);
    const want = sample();
    assert.deepEqual([...back.tensors.keys()].sort(), [...want.keys()].sort());
    for (const [name, t] of want) {
      const got = back.tensors.get(name)!;
      assert.equal(got.dtype, t.dtype, name);
      assert.deepEqual(got.shape, t.shape, name);
      assert.equal(got.data.constructor, t.data.constructor, name);
      assert.deepEqual(bits(got), bits(t), name);
    }
    // -0 and NaN come back as themselves, not as 0 or a different NaN.
    const q = back.tensors.get("enc.blocks.0.q.weight")!.data;
    assert.ok(Object.is(q[1], -0) && Number.isNaN(q[4]));
    assert.ok(Object.is(back.tensors.get("scalar")!.data[0], -0));
  });

  it("lays bytes out as the reference writer does", () => {
    const bytes = encodeSafetensors(sample(), { format: "pt" });
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    assert.equal(n % 8, 0, "header padded to a multiple of 8");
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    assert.match(text, /^\{.*\} *$/);
    const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    // F64 tensors first, then F32; by name within a dtype; offsets tile the data section.
    const names = Object.keys(header).filter((k) => k !== "__metadata__");
    assert.deepEqual(names, ["empty", "head.bias", "enc.blocks.0.q.weight", "scalar"]);
    let end = 0;
    for (const k of names) {
      assert.equal(header[k].data_offsets[0], end);
      end = header[k].data_offsets[1];
    }
    assert.equal(8 + n + end, bytes.length);
    // The data are plain little-endian values: π at head.bias[2].
    const at = 8 + n + header["head.bias"].data_offsets[0] + 2 * 8;
    assert.equal(view.getFloat64(at, true), Math.PI);
  });

  it("a header without tensors or metadata is valid", () => {
    const back = decodeSafetensors(encodeSafetensors([]));
    assert.equal(back.tensors.size, 0);
    assert.deepEqual(back.metadata, {});
  });

  it("refuses to write what it could not read back", () => {
    assert.throws(() => encodeSafetensors([["x", { dtype: "F32", shape: [2, 2], data: new Float32Array(3) }]]), RangeError);
    assert.throws(() => encodeSafetensors([["x", { dtype: "F64", shape: [1], data: new Float32Array(1) }]]), RangeError);
    assert.throws(() => encodeSafetensors([["__metadata__", tensor(new Float32Array(1))]]), RangeError);
  });

  it("truncation anywhere is a CheckpointError naming the file", () => {
    const good = encodeSafetensors(sample());
    const path = join(dir, "t.safetensors");
    for (const cut of [0, 5, 8, 20, good.length - 1, good.length - 8]) {
      writeFileSync(path, good.subarray(0, cut));
      corrupt(() => readSafetensors(path), new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not a valid safetensors file: .*(truncated|shorter)`));
    }
  });

  it("a bad header is a CheckpointError that says what is wrong", () => {
    const good = encodeSafetensors(sample());
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    const withHeader = (text: string, data = good.subarray(8 + n)) => {
      const json = new TextEncoder().encode(text);
      const out = new Uint8Array(8 + json.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(data, 8 + json.length);
      return out;
    };
    corrupt(() => decodeSafetensors(withHeader('{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]'), "f.st"), /^f\.st is not a valid safetensors file: the header is not valid UTF-8 JSON/);
    corrupt(() => decodeSafetensors(withHeader("[1, 2]"), "f.st"), /does not start with '\{'/);
    corrupt(() => decodeSafetensors(withHeader('{"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}', new Uint8Array(4))), /tensor 'x' has dtype "BF16"/);
    corrupt(() => decodeSafetensors(withHeader('{"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', new Uint8Array(8))), /tensor 'x' .* needs 12 bytes/);
    corrupt(() => decodeSafetensors(withHeader('{"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', new Uint8Array(8))), /a gap before tensor 'x'/);
    corrupt(() => decodeSafetensors(withHeader('{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', new Uint8Array(8))), /trailing bytes/);
    corrupt(
      () => decodeSafetensors(withHeader('{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "y": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', new Uint8Array(8))),
      /tensor 'y' overlaps/,
    );
    corrupt(() => decodeSafetensors(withHeader('{"__metadata__": {"a": 1}}', new Uint8Array(0))), /__metadata__\['a'\] is not a string/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    corrupt(() => decodeSafetensors(huge), /header length field says/);
  });

  it("a missing file is a FileError", () => {
    assert.throws(() => readSafetensors(join(dir, "nope.safetensors")), (e: unknown) => e instanceof FileError && /ENOENT/.test(e.message));
  });

  it("the file on disk is exactly the encoded bytes", async () => {
    const path = join(dir, "b.safetensors");
    await writeSafetensors(path, sample());
    assert.deepEqual(new Uint8Array(readFileSync(path)), encodeSafetensors(sample()));
  });
});
