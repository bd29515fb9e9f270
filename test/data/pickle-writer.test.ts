// The pickle writer: round trip through our reader, and (where python3 + numpy exist) through CPython.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NdArray, unpickle, type PyDict, type PyValue } from "../../src/data/pickle.js";
import { ndarray, pickle, tuple, writePickle, type PickleIn } from "../../src/data/pickle-writer.js";

const INTS = [0n, 1n, 255n, 256n, 65535n, 65536n, -1n, -(2n ** 31n), 2n ** 31n - 1n, 2n ** 31n, 2n ** 40n];

const sample = (): PickleIn =>
  tuple(
    new Map<PickleIn, PickleIn>([
      ["vec32", Float32Array.of(1.5, -2, 3.25)],
      ["vec64", Float64Array.of(0.1, -1e300)],
      ["mat", ndarray(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3])],
      ["slots", new Map([["F", Float32Array.of(1)], ["M", Float32Array.of(2)]])],
    ]),
    INTS,
    [1.25, -0.0, 2.4, true, false, null],
    ["", "é漢", "x".repeat(300)],
    Uint8Array.of(0, 128, 255),
    new Set(["a", "b"]),
    tuple(),
    tuple(7n),
    Array.from({ length: 2500 }, (_, i) => BigInt(i)),
    new Map(Array.from({ length: 1500 }, (_, i) => [`k${i}`, i] as [PickleIn, PickleIn])),
  );

test("round trip through the reader: ints, floats, strings, bytes, containers, numpy arrays", () => {
  const v = unpickle(pickle(sample())) as PyValue[];
  const d = v[0] as PyDict;
  const vec32 = d.get("vec32") as NdArray;
  assert.equal(vec32.dtype, "float32");
  assert.deepEqual(Array.from(vec32.data as Float32Array), [1.5, -2, 3.25]);
  assert.equal((d.get("vec64") as NdArray).dtype, "float64");
  assert.deepEqual(Array.from((d.get("vec64") as NdArray).data as Float64Array), [0.1, -1e300]);
  const mat = d.get("mat") as NdArray;
  assert.deepEqual(mat.shape, [2, 3]);
  assert.deepEqual(Array.from(mat.data as Float32Array), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(((d.get("slots") as PyDict).get("M") as NdArray).data as Float32Array), [2]);
  assert.deepEqual(v[1], INTS.map(Number));
  assert.deepEqual(v[2], [1.25, -0, 2.4, true, false, null]);
  assert.ok(Object.is((v[2] as number[])[1], -0));
  assert.deepEqual(v[3], ["", "é漢", "x".repeat(300)]);
  assert.deepEqual(Array.from(v[4] as Uint8Array), [0, 128, 255]);
  assert.deepEqual(v[5], ["a", "b"]);
  assert.deepEqual(v[6], []);
  assert.deepEqual(v[7], [7]);
  assert.deepEqual(v[8], Array.from({ length: 2500 }, (_, i) => i));
  assert.equal((v[9] as PyDict).size, 1500);
  assert.equal((v[9] as PyDict).get("k1499"), 1499);
});

const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { stdio: "ignore" }).status === 0;

test("CPython + numpy read what we write", { skip: hasNumpy ? false : "python3 with numpy not available" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "dssr-writer-"));
  try {
    const file = join(dir, "sample.pkl");
    writePickle(file, tuple(sample(), -(2n ** 40n), -(2n ** 31n) - 1n));
    const script = `
import pickle, json, sys
(d, ints, floats, strs, b, s, t0, t1, big, m), neg40, neg31 = pickle.load(open(sys.argv[1], 'rb'))
print(json.dumps({
  'vec32': [str(d['vec32'].dtype), d['vec32'].tolist()],
  'vec64': [str(d['vec64'].dtype), d['vec64'].tolist()],
  'mat': [list(d['mat'].shape), d['mat'].tolist()],
  'M': d['slots']['M'].tolist(),
  'ints': ints, 'floats': [repr(x) for x in floats], 'strs': strs, 'bytes': list(b),
  'set': sorted(s), 'tuples': [type(t0).__name__, list(t1)], 'big': [len(big), big[-1]], 'm': [len(m), m['k1499']],
  'neg': [neg40, neg31],
}))`;
    const r = spawnSync("python3", ["-c", script, file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      vec32: ["float32", [1.5, -2, 3.25]],
      vec64: ["float64", [0.1, -1e300]],
      mat: [[2, 3], [[1, 2, 3], [4, 5, 6]]],
      M: [2],
      ints: INTS.map(Number),
      floats: ["1.25", "-0.0", "2.4", "True", "False", "None"],
      strs: ["", "é漢", "x".repeat(300)],
      bytes: [0, 128, 255],
      set: ["a", "b"],
      tuples: ["tuple", [7]],
      big: [2500, 2499],
      m: [1500, 1499],
      neg: [-(2 ** 40), -(2 ** 31) - 1],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
