// The .npy parser: header versions 1/2/3, float16/32/64 in both byte orders, Fortran order, ints;
// object, string and structured dtypes and truncated or foreign files are one clear error naming
// the file. Bytes come from test/helpers/npy.ts (written by hand) and, as a cross-check, from npyjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dump } from "npyjs";
import { FileError, FormatError } from "../../src/errors.js";
import { parseNpy, parseNpyHeader, readNpy } from "../../src/data/npy.js";
import { npyBytes } from "../helpers/npy.js";

const F = "/data/x.npy";

test("float32 vector, little-endian, format 1.0", () => {
  const a = parseNpy(npyBytes({ descr: "<f4", shape: [4], data: [1.5, -2.25, 0, 3e-3] }), F);
  assert.equal(a.dtype, "float32");
  assert.deepEqual(a.shape, [4]);
  assert.ok(a.data instanceof Float32Array);
  assert.deepEqual([...a.data], [1.5, -2.25, 0, Math.fround(3e-3)]);
});

test("float64 and float32 in big-endian order give the same numbers", () => {
  const values = [0.1, -1e300, 12345.678, -0.5, 7, 2 ** -30];
  const le = parseNpy(npyBytes({ descr: "<f8", shape: [2, 3], data: values }), F);
  const be = parseNpy(npyBytes({ descr: ">f8", shape: [2, 3], data: values }), F);
  assert.deepEqual(le.shape, [2, 3]);
  assert.deepEqual([...le.data], values);
  assert.deepEqual([...be.data], values);
  const be32 = parseNpy(npyBytes({ descr: ">f4", shape: [3], data: [0.1, -3, 1e10] }), F);
  assert.deepEqual([...be32.data], [Math.fround(0.1), -3, Math.fround(1e10)]);
});

test("float16: normal, subnormal, negative zero and ±Inf decode exactly", () => {
  const values = [1, -0.5, 65504, 2 ** -14, 2 ** -24, 0.333251953125, -0, Infinity, -Infinity];
  for (const descr of ["<f2", ">f2"]) {
    const a = parseNpy(npyBytes({ descr, shape: [values.length], data: values }), F);
    assert.equal(a.dtype, "float16");
    assert.deepEqual([...a.data], values, descr);
    assert.ok(Object.is(a.data[6], -0));
  }
});

test("Fortran order is turned into C order", () => {
  // [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6.
  const c = [1, 2, 3, 4, 5, 6];
  const a = parseNpy(npyBytes({ descr: "<f4", shape: [2, 3], data: c, fortran: true }), F);
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], c);
  const b = parseNpy(npyBytes({ descr: ">f8", shape: [3, 2], data: c, fortran: true }), F);
  assert.deepEqual([...b.data], c);
  assert.equal(parseNpyHeader(npyBytes({ descr: "<f4", shape: [2, 3], data: c, fortran: true })).fortranOrder, true);
});

test("format versions 2.0 and 3.0 (4-byte header length) read the same", () => {
  const data = [0.25, 0.5, 0.75];
  for (const version of [1, 2, 3] as const) {
    const bytes = npyBytes({ descr: "<f4", shape: [3], data, version });
    const h = parseNpyHeader(bytes, F);
    assert.deepEqual(h.version, [version, 0]);
    assert.equal(h.dataOffset % 64, 0, "numpy aligns the data to 64 bytes");
    assert.deepEqual([...parseNpy(bytes, F).data], data);
  }
});

test("integer dtypes and a 0-d array", () => {
  assert.deepEqual([...parseNpy(npyBytes({ descr: "<i4", shape: [3], data: [-7, 0, 2 ** 31 - 1] })).data], [-7, 0, 2 ** 31 - 1]);
  assert.deepEqual([...parseNpy(npyBytes({ descr: "|u1", shape: [2], data: [0, 255] })).data], [0, 255]);
  const s = parseNpy(npyBytes({ descr: "<f8", shape: [], data: [4.5] }));
  assert.deepEqual(s.shape, []);
  assert.deepEqual([...s.data], [4.5]);
});

test("agrees with npyjs on the files npyjs writes", () => {
  const f32 = Float32Array.from([1.25, -3.5, 1e-7, 42, 0, -1]);
  const a = parseNpy(new Uint8Array(dump(f32, [2, 3])), F);
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], [...f32]);
  const f64 = Float64Array.from([Math.PI, -Math.E]);
  assert.deepEqual([...parseNpy(new Uint8Array(dump(f64)), F).data], [...f64]);
});

test("trailing bytes after the data are ignored, as np.load ignores them", () => {
  const good = npyBytes({ descr: "<f4", shape: [2], data: [1, 2] });
  const longer = new Uint8Array(good.length + 5);
  longer.set(good);
  assert.deepEqual([...parseNpy(longer, F).data], [1, 2]);
});

/** The error is a FormatError (one CLI line) whose message matches and names the file. */
function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseNpy(bytes, F), (e: unknown) => {
    assert.ok(e instanceof FormatError, String(e));
    assert.match(e.message, pattern);
    assert.ok(e.message.includes(F), e.message);
    assert.equal(e.file, F);
    return true;
  });
}

test("an object array is refused without looking at its (pickled) payload", () => {
  // The payload is a pickle calling os.system: never read, never run.
  const payload = new TextEncoder().encode("\x80\x04cos\nsystem\n(S'echo pwned'\ntR.");
  rejects(npyBytes({ descr: "|O", shape: [1], raw: payload }), /numpy object array \('\|O'\).*never unpickles/);
});

test("string, structured and complex dtypes are refused", () => {
  rejects(npyBytes({ descr: "<U5", shape: [1], raw: new Uint8Array(20) }), /numpy string array \('<U5'\)/);
  const structured = npyBytes({ descr: "<f4", shape: [1], data: [1] });
  const text = new TextDecoder("latin1").decode(structured).replace("'descr': '<f4', ", "'descr': [('a', '<f4')],");
  rejects(Uint8Array.from(text, (c) => c.charCodeAt(0)), /structured \(record\) dtype/);
  rejects(npyBytes({ descr: "<c8", shape: [1], raw: new Uint8Array(8) }), /dtype '<c8', which is not a real-valued numeric dtype/);
});

test("truncated data, truncated header and foreign files", () => {
  const full = npyBytes({ descr: "<f4", shape: [3, 4], data: Array.from({ length: 12 }, (_, i) => i) });
  rejects(full.subarray(0, full.length - 28), /^truncated \.npy file \/data\/x\.npy: shape \(3, 4\) of '<f4' needs 48 data bytes, found 20$/);
  rejects(full.subarray(0, 40), /header should be \d+ bytes but the file ends after 30 \(truncated file\)/);
  rejects(full.subarray(0, 9), /not a valid \.npy file/);
  rejects(new TextEncoder().encode("PK\x03\x04 this is a zip (.npz), not .npy"), /does not start with \\x93NUMPY/);
  const v9 = npyBytes({ descr: "<f4", shape: [1], data: [1] });
  v9[6] = 9;
  rejects(v9, /unknown format version 9\.0/);
});

test("readNpy: a missing file is a FileError naming it", () => {
  assert.throws(() => readNpy("/nonexistent/dssr/u1.npy"), (e: unknown) =>
    e instanceof FileError && /file not found: \/nonexistent\/dssr\/u1\.npy/.test(e.message));
});
