// The safe unpickler: real Python 2 and 3 pickles, numpy variants, the allow-list, bad input.
// Expected values were read with CPython's pickle + numpy 2.4 (pickle.load(..., encoding='latin1')).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DATA, REPO } from "../helpers/paths.js";
import { FileError, PickleError } from "../../src/errors.js";
import { NdArray, readPickle, unpickle, type PyDict, type PyValue } from "../../src/data/pickle.js";

const FIX = join(REPO, "test", "fixtures");
const PY2 = join(DATA, "raw", "bc-LSTM-MOSI", "dataset", "mosi", "raw", "audio_2way.pickle");
const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));

function throwsPickle(f: () => unknown, pattern: RegExp, file: string): PickleError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PickleError, `expected PickleError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.ok(caught.message.includes(file), `message names the file: ${caught.message}`);
  assert.equal(caught.file, file);
  return caught;
}

test("Python 2 protocol-2 numpy pickle (bc-LSTM audio_2way.pickle) decodes with latin1 raw data", () => {
  const v = readPickle(PY2) as PyValue[];
  assert.equal(v.length, 7);
  const [train, trainLabel, testX, testLabel, maxlen, trainLengths, testLengths] = v as [
    NdArray, NdArray, NdArray, NdArray, number, number[], number[],
  ];
  assert.deepEqual(train.shape, [62, 63, 73]);
  assert.deepEqual(trainLabel.shape, [62, 63]);
  assert.deepEqual(testX.shape, [31, 63, 73]);
  assert.deepEqual(testLabel.shape, [31, 63]);
  assert.equal(train.dtype, "float64");
  assert.ok(train.data instanceof Float64Array);
  assert.equal(maxlen, 63);
  // Values as CPython reads them.
  assert.deepEqual(Array.from(train.data.slice(0, 5) as Float64Array), [212.83, 0.74144, 0.13383, 0.38764, 7.0357]);
  assert.equal(train.data[(5 * 63 + 10) * 73 + 72], 0.12515);
  assert.equal(train.data[(0 * 63 + 35) * 73 + 0], 0); // padding after the first video's 35 utterances
  assert.deepEqual(Array.from(testX.data.slice(30 * 63 * 73, 30 * 63 * 73 + 3) as Float64Array), [188.28, 0.72811, 0.12393]);
  assert.deepEqual(Array.from(trainLabel.data.slice(0, 5) as Float64Array), [0, 1, 0, 0, 0]);
  const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, x) => s + x, 0);
  assert.equal(sum(trainLabel.data as Float64Array), 709);
  assert.equal(sum(testLabel.data as Float64Array), 467);
  assert.deepEqual(trainLengths.slice(0, 5), [35, 30, 30, 30, 14]);
  assert.deepEqual(testLengths.slice(0, 3), [20, 30, 18]);
  assert.equal(sum(trainLengths) + sum(testLengths), 2199);
  // Cross-check with the GCNet-format audio feature file (same openSMILE features, float32 there):
  // the first training row is utterance zhpQhgha_KU_1 = [212.8300018310547, 0.7414399981498718, ...].
  assert.equal(Math.fround(train.data[0] as number), 212.8300018310547);
  assert.equal(Math.fround(train.data[1] as number), 0.7414399981498718);
});

test("Python 2 str (SHORT_BINSTRING) is latin1, not windows-1252, also as numpy raw data", () => {
  // U\x04 <80 9f e9 61>: a WHATWG windows-1252 decoder (what TextDecoder('ascii') is in browsers) gives "€Ÿéa".
  assert.equal(unpickle(bytes([0x80, 2, 0x55, 4, 0x80, 0x9f, 0xe9, 0x61, 0x2e])), "\u0080\u009f\u00e9a");
  // A py2-style float64 array whose 8 raw bytes include 0x80..0x9f.
  const raw = [0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x9f, 0x40];
  const p = bytes(
    [0x80, 2], "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK", [0, 0x85], "U", [1], "b", [0x87, 0x52],
    "(K", [1], "K", [1, 0x85], "cnumpy\ndtype\nU", [2], "f8K", [0], "K", [1, 0x87, 0x52],
    "(K", [3], "U", [1], "<NNNJ", [0xff, 0xff, 0xff, 0xff], "J", [0xff, 0xff, 0xff, 0xff], "K", [0], "tb",
    "K", [0], "U", [8], raw, "tb.",
  );
  const a = unpickle(p) as NdArray;
  assert.ok(a instanceof NdArray);
  assert.deepEqual(a.shape, [1]);
  assert.equal(a.data[0], new DataView(Uint8Array.from(raw).buffer).getFloat64(0, true));
});

test("numpy variants written by CPython at protocols 0, 2 and 5 decode the same", () => {
  for (const p of [0, 2, 5]) {
    const v = readPickle(join(FIX, `numpy-variants-p${p}.pkl`)) as PyDict;
    const arr = (k: string): NdArray => v.get(k) as NdArray;
    const vals = (k: string): unknown[] => Array.from(arr(k).data as ArrayLike<unknown>);
    assert.deepEqual(vals("f8_big"), [1.5, -2.25, 1e-300], `p${p} big-endian f8`);
    assert.deepEqual(arr("f4_fortran").shape, [2, 3]);
    assert.deepEqual(vals("f4_fortran"), [0, 1, 2, 3, 4, 5], `p${p} Fortran order → C order`);
    assert.ok(arr("f4_fortran").data instanceof Float32Array);
    assert.deepEqual(vals("i8"), [-3, 2 ** 40, 7]);
    assert.deepEqual(vals("i4_big"), [-1, 65536]);
    assert.deepEqual(vals("u1"), [0, 200, 255]);
    assert.equal(arr("bool").dtype, "bool");
    assert.deepEqual(vals("bool"), [1, 0, 1]);
    assert.deepEqual(vals("f2"), [0.5, -1, 65504]);
    assert.equal(arr("U").dtype, "str");
    assert.deepEqual(vals("U"), ["héllo", "", "naïve €"], `p${p} <U (UTF-32)`);
    assert.deepEqual(vals("obj"), [null, "x", 3]);
    assert.equal(v.get("scalar_f8"), 2.4);
    assert.equal(v.get("scalar_i8"), -7);
    assert.equal(v.get("text"), "back\\slash\nnew line ü 漢", `p${p} str escapes`);
    assert.deepEqual(v.get("set"), ["only"]);
  }
});

test("gcnet-split label file: numpy float64 scalars → numbers, <U sentence array → strings", () => {
  const v = readPickle(join(DATA, "CMUMOSI", "CMUMOSI_features_raw_2way.gcnet-split.pkl")) as PyValue[];
  const labels = (v[1] as PyDict).get("03bSnISJMiM") as number[];
  assert.deepEqual(labels.slice(0, 4), [2.4, -0.8, -1, -1.75]);
  const sentences = (v[3] as PyDict).get("03bSnISJMiM") as NdArray;
  assert.deepEqual(sentences.shape, [13]);
  assert.equal(sentences.data[0], "ANYHOW IT WAS REALLY GOOD");
  assert.deepEqual(v.slice(4).map((s) => (s as string[]).length), [52, 10, 31]); // sets → arrays
});

test("a global outside the allow-list is refused before anything runs, naming module.name and file", () => {
  const file = join(FIX, "evil-os-system.pkl");
  const e = throwsPickle(() => readPickle(file), /outside the allow-list: os\.system/, file);
  assert.equal(e.offset, 2);
  for (const [mod, name] of [["builtins", "eval"], ["numpy", "load"], ["copy_reg", "_reconstructor"], ["posix", "system"]]) {
    const p = bytes([0x80, 4, 0x8c, mod.length], mod, [0x8c, name.length], name, [0x93, 0x2e]);
    throwsPickle(() => unpickle(p, "mem.pkl"), new RegExp(`allow-list: ${mod}\\.${name}`), "mem.pkl");
  }
  // An allowed function used as a class (NEWOBJ) is refused too: set() is not constructible.
  const newobj = bytes([0x80, 4, 0x8c, 8], "builtins", [0x8c, 3], "set", [0x93, 0x29, 0x81, 0x2e]);
  throwsPickle(() => unpickle(newobj, "mem.pkl"), /malformed pickle/, "mem.pkl");
});

test("truncated and malformed pickles raise PickleError with the file and byte offset", () => {
  const file = join(FIX, "truncated.pkl");
  const e = throwsPickle(() => readPickle(file), /truncated or malformed pickle: Unexpected end of file/, file);
  assert.equal(e.offset, 122);
  // A real feature file cut after 1000 bytes.
  const cut = readFileSync(join(DATA, "CMUMOSI", "features", "bclstm-opensmile-UTT", "audio.pkl")).subarray(0, 1000);
  const e2 = throwsPickle(() => unpickle(cut, "audio-cut.pkl"), /truncated or malformed/, "audio-cut.pkl");
  assert.equal(e2.offset, 843); // the BINBYTES opcode whose 292-byte payload crosses the cut (pickletools agrees)
  throwsPickle(() => unpickle(new Uint8Array(0), "empty.pkl"), /Unexpected end of file/, "empty.pkl");
  // GET of a memo slot never PUT.
  throwsPickle(() => unpickle(bytes([0x80, 2, 0x68, 5, 0x2e]), "m.pkl"), /empty memo slot/, "m.pkl");
  // Negative LONG1 is refused rather than read as unsigned.
  throwsPickle(() => unpickle(bytes([0x80, 2, 0x8a, 1, 0xff, 0x2e]), "l.pkl"), /negative LONG1/, "l.pkl");
  // BUILD on a list setting __proto__ (a prototype swap) is refused.
  const proto = bytes([0x80, 4, 0x5d, 0x7d, 0x28, 0x8c, 9], "__proto__", [0x7d, 0x75, 0x62, 0x2e]);
  throwsPickle(() => unpickle(proto, "p.pkl"), /BUILD on a list|unexpected object/, "p.pkl");
  // A numpy array whose raw data is too short for its shape.
  const short = bytes(
    [0x80, 2], "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK", [0, 0x85], "U", [1], "b", [0x87, 0x52],
    "(K", [1], "K", [2, 0x85], "cnumpy\ndtype\nU", [2], "f8K", [0], "K", [1, 0x87, 0x52],
    "(K", [3], "U", [1], "<NNNJ", [0xff, 0xff, 0xff, 0xff], "J", [0xff, 0xff, 0xff, 0xff], "K", [0], "tb",
    "K", [0], "U", [8], [0, 0, 0, 0, 0, 0, 0, 0], "tb.",
  );
  throwsPickle(() => unpickle(short, "s.pkl"), /8 bytes, expected 16/, "s.pkl");
});

test("protocol 0 DICT items land in the Map; dicts are always Maps", () => {
  const v = unpickle(bytes("(S'a'\nI1\nS'b\\x80'\nI2\nd(S'c'\nI3\nu.")) as PyDict;
  assert.ok(v instanceof Map);
  assert.deepEqual([...v], [["a", 1], ["b\u0080", 2], ["c", 3]]);
});

test("a missing file is a FileError naming it", () => {
  const path = join(FIX, "no-such-file.pkl");
  assert.throws(() => readPickle(path), (e: unknown) => e instanceof FileError && e.message.includes(path));
});
