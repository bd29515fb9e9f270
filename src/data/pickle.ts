/**
 * A safe unpickler for the GCNet/DSSR data files (spec §1.1), built on `pickleparser`.
 *
 * Nothing is ever imported or executed: a global (GLOBAL / STACK_GLOBAL opcode) resolves only
 * through the allow-list below, to a small pure function of ours that builds data. Anything else
 * is a PickleError naming `module.name` and the file. Allowed:
 *   numpy arrays   `numpy.core.multiarray._reconstruct` (+ `numpy._core`), `numpy.ndarray`,
 *                  `numpy.dtype`; protocol 5's `numpy.core.numeric._frombuffer` (+ `numpy._core`)
 *   numpy scalars  `numpy.core.multiarray.scalar` (+ `numpy._core`)
 *   containers     `builtins.set`/`frozenset` and Python 2's `__builtin__.set`/`frozenset`
 *                  (protocol 2/3 sets); `_codecs.encode(str, 'latin1')` (how Python 3 writes
 *                  `bytes` — e.g. numpy's raw data — at protocol 2), latin1 only.
 *
 * Result: a `PyValue` tree. dict → Map (always, never plain objects: keys keep their Python
 * type and a key named `__proto__` is just a key); list, tuple, set, frozenset → array;
 * str → string; Python 2 `str` → string decoded as latin1 (spec §1.1); bytes → Uint8Array;
 * int/float → number; numpy array → NdArray; numpy scalar → number (bool/str for those dtypes).
 *
 * What pickleparser 0.2.1 cannot do, and is written here by hand (through its public
 * `Parser.read(reader)` hook and `NameRegistry`, without patching the package):
 *  - BINSTRING/SHORT_BINSTRING (Python 2 `str`) go through `TextDecoder('ascii')`, which the
 *    WHATWG Encoding Standard (browsers) defines as windows-1252, not latin1: bytes 0x80–0x9F
 *    would be remapped and a py2 numpy array's raw data corrupted. Some Node releases (20.18.3+,
 *    nodejs/node#60888) happen to decode it as latin1, others do not. `Latin1Reader.string`
 *    decodes true latin1 itself, so the result does not depend on the runtime.
 *  - Protocol 0 STRING/UNICODE arguments are pushed with their escapes undecoded; we decode them.
 *  - LONG1/LONG4 are read as unsigned; a negative LONG1 (< -2^31) or any LONG4 is refused
 *    rather than silently mis-read.
 *  - With Map dicts, the protocol 0/1 DICT opcode assigns properties on the Map instead of
 *    calling set(); `finish` moves them into the Map.
 *  - Errors are plain `Error`s without a position; the reader tracks the current opcode's byte
 *    offset so every PickleError carries it.
 */
import pickleparser from "pickleparser";
import { PickleError } from "../errors.js";
import {
  decodeElements, decodeScalar, fortranToC, latin1, NdArray, parseDtype, rawBytes,
  type Dtype, type NdData,
} from "./numpy.js";
import { readInputFile } from "../files.js";

const { Parser, NameRegistry, BufferReader } = pickleparser;

export { NdArray } from "./numpy.js";

/** A decoded pickle. See the module comment for the mapping from Python types. */
export type PyValue = null | boolean | number | string | Uint8Array | PyValue[] | PyDict | NdArray;
export interface PyDict extends Map<PyValue, PyValue> {}

// ---------------------------------------------------------------------------------------------
// numpy objects while the pickle is being read (BUILD fills them in)

class PendingDtype {
  dtype: Dtype | null = null;
  constructor(readonly spec: string) {}
  /** BUILD state: (version, endian, subarray, names, fields, elsize, alignment, flags[, meta]). */
  __setstate__(state: unknown): void {
    if (!Array.isArray(state) || state.length < 6 || typeof state[1] !== "string") {
      throw new Error(`numpy dtype '${this.spec}' has a malformed state`);
    }
    if (state[2] != null || state[3] != null || state[4] != null) {
      throw new Error(`structured numpy dtype '${this.spec}' is not supported`);
    }
    this.dtype = parseDtype(this.spec, state[1]);
  }
  resolve(): Dtype {
    return this.dtype ?? parseDtype(this.spec, "=");
  }
}

class PendingArray {
  result: NdArray | null = null;
  /** BUILD state: (version, shape, dtype, is_fortran, data) or the older 4-tuple without version. */
  __setstate__(state: unknown): void {
    if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4)) {
      throw new Error("numpy array has a malformed state (expected a 4- or 5-tuple)");
    }
    const [shape, dtype, fortran, data] = state.length === 5 ? state.slice(1) : state;
    this.result = buildArray(dtype, shape, fortran === true || fortran === 1, data);
  }
}

function buildArray(dtypeObj: unknown, shape: unknown, fortran: boolean, data: unknown): NdArray {
  if (!(dtypeObj instanceof PendingDtype)) throw new Error("numpy array state lacks a dtype");
  if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error("numpy array state has a malformed shape");
  }
  const dims = shape as number[];
  const dtype = dtypeObj.resolve();
  const count = dims.reduce((a, b) => a * b, 1);
  let elems: NdData;
  if (Array.isArray(data)) {
    // Object arrays (and some old `<U` pickles) carry their elements as a list.
    if (data.length !== count) throw new Error(`numpy array list has ${data.length} items, shape needs ${count}`);
    elems = data.slice();
  } else {
    elems = decodeElements(dtype, rawBytes(data), count);
  }
  if (fortran) elems = fortranToC(elems, dims);
  return new NdArray(dtype.name, dims, elems);
}

// ---------------------------------------------------------------------------------------------
// The allow-list. Arrow functions: REDUCE calls them; NEWOBJ/OBJ/INST cannot construct them.

class RefusedGlobal extends Error {
  constructor(readonly qualified: string) {
    super(`pickle names a global outside the allow-list: ${qualified}`);
  }
}

const ndarrayMarker = (): never => {
  throw new Error("numpy.ndarray called directly");
};

class AllowList extends NameRegistry {
  constructor() {
    super();
    for (const core of ["numpy.core", "numpy._core"]) {
      this.register(`${core}.multiarray`, "_reconstruct", (cls: unknown, _shape: unknown, _code: unknown) => {
        if (cls !== ndarrayMarker) throw new Error("_reconstruct of a class other than numpy.ndarray");
        return new PendingArray();
      });
      this.register(`${core}.multiarray`, "scalar", (dtype: unknown, raw: unknown) => {
        if (!(dtype instanceof PendingDtype)) throw new Error("numpy scalar without a dtype");
        return decodeScalar(dtype.resolve(), raw);
      });
      // Protocol 5: _frombuffer(buffer, dtype, shape, order).
      this.register(`${core}.numeric`, "_frombuffer", (buf: unknown, dtype: unknown, shape: unknown, order: unknown) =>
        buildArray(dtype, shape, order === "F", buf),
      );
    }
    this.register("numpy", "ndarray", ndarrayMarker);
    this.register("numpy", "dtype", (spec: unknown) => {
      if (typeof spec !== "string") throw new Error("numpy.dtype of a non-string spec");
      return new PendingDtype(spec);
    });
    for (const mod of ["builtins", "__builtin__"]) {
      for (const name of ["set", "frozenset"]) {
        this.register(mod, name, (items: unknown = []) => {
          if (!Array.isArray(items)) throw new Error(`${mod}.${name} of a non-list`);
          return items.slice();
        });
      }
    }
    this.register("_codecs", "encode", (text: unknown, encoding: unknown) => {
      if (typeof text !== "string" || !["latin1", "latin-1", "iso-8859-1"].includes(String(encoding).toLowerCase())) {
        throw new Error(`_codecs.encode is allowed for latin1 text only`);
      }
      return rawBytes(text);
    });
  }
  override onMissingName(module: string, name: string): never {
    throw new RefusedGlobal(`${module}.${name}`);
  }
}

const PARSER_OPTIONS = {
  nameResolver: new AllowList(),
  unpicklingTypeOfSet: "array" as const,
  unpicklingTypeOfDictionary: "Map" as const,
  persistentResolver: {
    resolve: (): never => {
      throw new Error("persistent ids are not allowed");
    },
  },
  extensionResolver: {
    resolve: (): never => {
      throw new Error("extension-registry codes are not allowed");
    },
  },
};

// ---------------------------------------------------------------------------------------------
// The reader: latin1 for Python 2 strings, escapes for protocol 0, opcode offsets for errors.

const OP_STRING = 0x53;
const OP_UNICODE = 0x56;
const OP_LONG1 = 0x8a;
const OP_LONG4 = 0x8b;

class Latin1Reader extends BufferReader {
  opcode = -1;
  opcodeOffset = 0;
  private atOpcode = false;
  private readonly utf8 = new TextDecoder("utf-8");

  // Parser.read's loop is `while (reader.hasNext()) { const opcode = reader.byte(); ... }`.
  override hasNext(): boolean {
    this.atOpcode = true;
    return super.hasNext();
  }
  override byte(): number {
    const at = this.position;
    const b = super.byte();
    if (this.atOpcode) {
      this.atOpcode = false;
      this.opcode = b;
      this.opcodeOffset = at;
    }
    return b;
  }
  override bytes(length: number): Uint8Array {
    const b = super.bytes(length) as Uint8Array;
    if (this.opcode === OP_LONG4) throw new Error("LONG4 integers are not supported");
    if (this.opcode === OP_LONG1 && length > 0 && b[length - 1] & 0x80) {
      throw new Error("negative LONG1 integers are not supported");
    }
    return b;
  }
  override string(size: number, encoding: "ascii" | "utf-8"): string {
    const data = this.bytes(size);
    return encoding === "utf-8" ? this.utf8.decode(data) : latin1(data);
  }
  override line(): string {
    const s = super.line();
    if (this.opcode === OP_STRING) return unescapePy2(s);
    if (this.opcode === OP_UNICODE) {
      return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4?: string, u8?: string) =>
        String.fromCodePoint(parseInt(u4 ?? u8 ?? "0", 16)),
      );
    }
    return s;
  }
}

/** Python's `escape_decode`, for protocol 0 STRING arguments (`'a\\x00b'`). */
function unescapePy2(s: string): string {
  const simple: Record<string, string> = {
    "\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", a: "\x07", b: "\b", f: "\f", v: "\v", "\n": "",
  };
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[\s\S])/g, (m, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return simple[e] ?? m;
  });
}

// ---------------------------------------------------------------------------------------------

/** Unpickle bytes. `file` names the source in error messages. */
export function unpickle(bytes: Uint8Array, file = "<memory>"): PyValue {
  // A plain view: a Node Buffer's subarray/slice semantics differ, and we copy payloads anyway.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Latin1Reader(view);
  let raw: unknown;
  try {
    raw = new Parser(PARSER_OPTIONS).read(reader);
  } catch (e) {
    const at = reader.opcodeOffset;
    const op = `opcode 0x${reader.opcode.toString(16).padStart(2, "0")} at byte ${at}`;
    if (e instanceof RefusedGlobal) throw new PickleError(`${e.message} (${op}) in ${file}`, file, at);
    const why = e instanceof Error ? e.message : String(e);
    throw new PickleError(`truncated or malformed pickle: ${why} (${op}) in ${file}`, file, at);
  }
  try {
    return finish(raw);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new PickleError(`malformed pickle: ${why} in ${file}`, file);
  }
}

/** Read and unpickle a file; a missing or unreadable file is a FileError. */
export function readPickle(path: string): PyValue {
  return unpickle(readInputFile(path), path);
}

/** Check the parser's output and turn numpy placeholders into NdArrays (in place, memo-aware). */
function finish(root: unknown): PyValue {
  const done = new Map<object, PyValue>();
  const conv = (v: unknown): PyValue => {
    switch (typeof v) {
      case "string":
      case "boolean":
      case "number":
        return v;
      case "undefined":
        throw new Error("a reference to an empty memo slot or stack");
      case "function":
        throw new Error("a bare global used as a value");
      case "bigint":
        throw new Error("an integer too large for a JS number");
    }
    if (v === null) return null;
    const obj = v as object;
    const hit = done.get(obj);
    if (hit !== undefined) return hit;
    if (obj instanceof Uint8Array) {
      const copy = new Uint8Array(obj);
      done.set(obj, copy);
      return copy;
    }
    if (Array.isArray(obj)) {
      if (Object.getPrototypeOf(obj) !== Array.prototype || Object.keys(obj).length !== obj.length) {
        throw new Error("a list with attributes (BUILD on a list)");
      }
      done.set(obj, obj as PyValue[]);
      for (let i = 0; i < obj.length; i++) obj[i] = conv(obj[i]);
      return obj as PyValue[];
    }
    if (obj instanceof Map) {
      if (Object.getPrototypeOf(obj) !== Map.prototype) throw new Error("a dict with a replaced prototype");
      const own = Object.keys(obj);
      if (own.length) {
        // pickleparser's DICT opcode assigns properties instead of calling set(); DICT items come first.
        const later = [...obj];
        obj.clear();
        for (const k of own) {
          obj.set(k, (obj as unknown as Record<string, unknown>)[k]);
          delete (obj as unknown as Record<string, unknown>)[k];
        }
        for (const [k, val] of later) obj.set(k, val);
      }
      const dict = obj as PyDict;
      done.set(obj, dict);
      for (const [k, val] of dict) {
        if (k !== null && typeof k === "object" && !Array.isArray(k) && !(k instanceof Uint8Array)) {
          throw new Error("a dict key that is not hashable in Python");
        }
        if (Array.isArray(k)) conv(k);
        dict.set(k, conv(val));
      }
      return dict;
    }
    if (obj instanceof PendingArray) {
      if (!obj.result) throw new Error("a numpy array without its state (no BUILD)");
      done.set(obj, obj.result);
      convertObjectElements(obj.result, conv);
      return obj.result;
    }
    if (obj instanceof NdArray) {
      done.set(obj, obj);
      convertObjectElements(obj, conv);
      return obj;
    }
    if (obj instanceof PendingDtype) throw new Error("a bare numpy dtype used as a value");
    throw new Error(`an unexpected object (${Object.prototype.toString.call(obj)})`);
  };
  return conv(root);
}

function convertObjectElements(a: NdArray, conv: (v: unknown) => PyValue): void {
  if (Array.isArray(a.data)) {
    const d = a.data as unknown[];
    for (let i = 0; i < d.length; i++) d[i] = conv(d[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for readers of the tree.

export function isDict(v: PyValue): v is PyDict {
  return v instanceof Map;
}

/** How a value looks, for error messages: "a dict of 93 items", "a numpy float32 array of shape (73,)". */
export function describe(v: PyValue | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "None";
  if (typeof v === "boolean") return `a bool (${v ? "True" : "False"})`;
  if (typeof v === "number") return `a number (${v})`;
  if (typeof v === "string") return `a str (${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)})`;
  if (v instanceof Uint8Array) return `bytes of length ${v.length}`;
  if (Array.isArray(v)) return `a list/tuple/set of ${v.length} items`;
  if (v instanceof Map) return `a dict of ${v.size} items`;
  return `a numpy ${v.dtype} array of shape (${v.shape.join(", ")}${v.shape.length === 1 ? "," : ""})`;
}
