/**
 * numpy arrays and scalars as plain JS values, decoded from the pieces a pickle carries:
 * a dtype (`numpy.dtype(spec, align, copy)` plus its BUILD state, which holds the byte order),
 * a shape, a Fortran flag and the raw buffer (bytes, or a latin1 string from a Python 2 pickle,
 * or a list for object arrays). No numpy semantics beyond that: no views, no strides.
 */

/** The dtypes we decode. int64/uint32/uint64 become JS numbers (exact up to 2^53, else an error). */
export type DtypeName =
  | "float16" | "float32" | "float64"
  | "int8" | "int16" | "int32" | "int64"
  | "uint8" | "uint16" | "uint32" | "uint64"
  | "bool" | "str" | "bytes" | "object";

/** A resolved numpy dtype. `itemsize` in bytes (0 for object). */
export interface Dtype {
  name: DtypeName;
  /** The spec string numpy pickled, e.g. `f4`, `U12`. */
  spec: string;
  itemsize: number;
  littleEndian: boolean;
}

/** Decoded array payload: typed arrays for numbers, `string[]` for `<U`/`S`, values for object. */
export type NdData =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array
  | Uint8Array | Uint16Array
  | string[]
  | unknown[];

/** A decoded numpy array in C (row-major) order. */
export class NdArray<D extends NdData = NdData> {
  constructor(
    readonly dtype: DtypeName,
    readonly shape: readonly number[],
    readonly data: D,
  ) {}
  get size(): number {
    return this.data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
}

export type NumericNdArray = NdArray<Exclude<NdData, string[] | unknown[]>>;

export function isNumericArray(a: NdArray): a is NumericNdArray {
  return a.dtype !== "str" && a.dtype !== "bytes" && a.dtype !== "object";
}

const SIMPLE: Record<string, DtypeName> = {
  f2: "float16", f4: "float32", f8: "float64",
  i1: "int8", i2: "int16", i4: "int32", i8: "int64",
  u1: "uint8", u2: "uint16", u4: "uint32", u8: "uint64",
  b1: "bool",
};

/**
 * Resolve the first argument of `numpy.dtype(...)` (e.g. `f4`, `<f8`, `U12`, `O8`) and the byte
 * order from its BUILD state. Throws a plain Error with a reason for anything else
 * (structured, datetime, complex): the caller turns it into a PickleError naming the file.
 */
export function parseDtype(spec: string, endian: string): Dtype {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(spec);
  if (!m) throw new Error(`unsupported numpy dtype '${spec}'`);
  const order = m[1] || endian;
  const littleEndian = order !== ">";
  const kind = m[2];
  const n = m[3] === "" ? NaN : Number(m[3]);
  const simple = SIMPLE[kind + m[3]];
  if (simple) return { name: simple, spec, itemsize: n, littleEndian };
  if (kind === "U" && n >= 0) return { name: "str", spec, itemsize: 4 * n, littleEndian };
  if (kind === "S" && n >= 0) return { name: "bytes", spec, itemsize: n, littleEndian: true };
  if (kind === "O") return { name: "object", spec, itemsize: 0, littleEndian: true };
  throw new Error(`unsupported numpy dtype '${spec}'`);
}

/** Bytes from a `bytes` value, or from a Python 2 `str` that the unpickler decoded as latin1. */
export function rawBytes(raw: unknown): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === "string") {
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c > 255) throw new Error("array data is a text string with characters above U+00FF, not latin1 bytes");
      out[i] = c;
    }
    return out;
  }
  throw new Error(`array data is ${describeJs(raw)}, expected bytes`);
}

/** Decode `count` elements of `dtype` from `bytes` (row order as stored). */
export function decodeElements(dtype: Dtype, bytes: Uint8Array, count: number): NdData {
  if (dtype.name === "object") throw new Error("object arrays carry a list, not bytes");
  const need = count * dtype.itemsize;
  if (bytes.length !== need) {
    throw new Error(`array data has ${bytes.length} bytes, expected ${need} (${count} × ${dtype.spec})`);
  }
  // Copy into a fresh, aligned buffer: pickle payloads sit at arbitrary offsets in the file.
  const copy = new Uint8Array(bytes); // a copy, even when handed a Node Buffer (whose slice() is a view)
  const view = new DataView(copy.buffer);
  const le = dtype.littleEndian;
  const sz = dtype.itemsize;
  switch (dtype.name) {
    case "float32":
      return le ? new Float32Array(copy.buffer) : mapView(new Float32Array(count), (i) => view.getFloat32(i * sz, false));
    case "float64":
      return le ? new Float64Array(copy.buffer) : mapView(new Float64Array(count), (i) => view.getFloat64(i * sz, false));
    case "float16":
      return mapView(new Float32Array(count), (i) => half(view.getUint16(i * sz, le)));
    case "int8":
      return new Int8Array(copy.buffer);
    case "uint8":
    case "bool":
      return copy;
    case "int16":
      return mapView(new Int16Array(count), (i) => view.getInt16(i * sz, le));
    case "uint16":
      return mapView(new Uint16Array(count), (i) => view.getUint16(i * sz, le));
    case "int32":
      return mapView(new Int32Array(count), (i) => view.getInt32(i * sz, le));
    case "uint32":
      return mapView(new Float64Array(count), (i) => view.getUint32(i * sz, le));
    case "int64":
    case "uint64":
      return mapView(new Float64Array(count), (i) => {
        const v = dtype.name === "int64" ? view.getBigInt64(i * sz, le) : view.getBigUint64(i * sz, le);
        const n = Number(v);
        if (!Number.isSafeInteger(n)) throw new Error(`${dtype.name} value ${v} does not fit a JS number exactly`);
        return n;
      });
    case "str": {
      // UTF-32 code units, NUL-padded to the item size; numpy strips trailing NULs.
      const out: string[] = new Array(count);
      const chars = sz / 4;
      for (let i = 0; i < count; i++) {
        let s = "";
        let end = chars;
        while (end > 0 && view.getUint32(i * sz + 4 * (end - 1), le) === 0) end--;
        for (let j = 0; j < end; j++) s += String.fromCodePoint(view.getUint32(i * sz + 4 * j, le));
        out[i] = s;
      }
      return out;
    }
    case "bytes": {
      const out: string[] = new Array(count);
      for (let i = 0; i < count; i++) {
        let end = sz;
        while (end > 0 && copy[i * sz + end - 1] === 0) end--;
        out[i] = latin1(copy.subarray(i * sz, i * sz + end));
      }
      return out;
    }
  }
}

/** Reorder Fortran-ordered data (first index fastest) into C order. */
export function fortranToC<D extends NdData>(data: D, shape: readonly number[]): D {
  if (shape.length < 2) return data;
  const n = data.length;
  const out = (Array.isArray(data) ? new Array(n) : new (data.constructor as new (n: number) => D)(n)) as D;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  // Walk C order; keep the Fortran offset of the same multi-index.
  const fStride = new Array<number>(nd);
  fStride[0] = 1;
  for (let k = 1; k < nd; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k] * fStride[k];
    (out as { [i: number]: unknown })[c] = (data as { [i: number]: unknown })[f];
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Decode a numpy scalar, `scalar(dtype, bytes)`, to a JS value. */
export function decodeScalar(dtype: Dtype, raw: unknown): number | boolean | string | unknown {
  if (dtype.name === "object") return raw;
  const data = decodeElements(dtype, rawBytes(raw), 1);
  if (dtype.name === "bool") return data[0] !== 0;
  return data[0];
}

/** Bytes → string, one code point per byte (ISO-8859-1). TextDecoder('latin1') is windows-1252. */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

function mapView<T extends { [i: number]: number; length: number }>(out: T, f: (i: number) => number): T {
  for (let i = 0; i < out.length; i++) out[i] = f(i);
  return out;
}

/** IEEE 754 half → number. */
function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function describeJs(v: unknown): string {
  if (v === null) return "None";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v;
}
