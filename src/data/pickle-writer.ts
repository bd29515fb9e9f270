/**
 * A minimal pickle writer, protocol 4, for the synthetic dataset and test fixtures. Hand-written
 * because no npm package writes numpy pickles (pickleparser only reads).
 *
 * JS → Python: null → None, boolean → bool, number → float, bigint → int, string → str,
 * Uint8Array → bytes, array → list, `tuple(...)` → tuple, Set → set, Map → dict,
 * Float32Array / Float64Array → a 1-D numpy float32 / float64 array, `ndarray(data, shape)` →
 * an n-D one. Arrays are written exactly as numpy pickles them:
 *   numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')
 *   BUILD (1, shape, dtype('f4', False, True) BUILD (3, '<', None, None, None, -1, -1, 0), False, raw)
 * (`numpy.core` rather than numpy 2's `numpy._core`: both numpy 1 and 2 load it.)
 * Only the numpy globals and dtypes are memoised; nothing else is shared.
 */
import { closeSync, openSync, renameSync, writeSync } from "node:fs";

export class PyTuple {
  constructor(readonly items: PickleIn[]) {}
}
export const tuple = (...items: PickleIn[]): PyTuple => new PyTuple(items);

export class NdArrayIn {
  constructor(readonly data: Float32Array | Float64Array, readonly shape: number[]) {
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`shape (${shape}) does not fit ${data.length} values`);
  }
}
/** An n-D numpy array in C order. */
export const ndarray = (data: Float32Array | Float64Array, shape: number[] = [data.length]): NdArrayIn =>
  new NdArrayIn(data, shape);

export type PickleIn =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleIn[] | PyTuple | Set<PickleIn> | Map<PickleIn, PickleIn>
  | Float32Array | Float64Array | NdArrayIn;

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47,
  SHORT_BINUNICODE: 0x8c, BINUNICODE: 0x58, SHORT_BINBYTES: 0x43, BINBYTES: 0x42,
  EMPTY_LIST: 0x5d, APPENDS: 0x65, EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  EMPTY_DICT: 0x7d, SETITEMS: 0x75, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
  STACK_GLOBAL: 0x93, REDUCE: 0x52, BUILD: 0x62, MEMOIZE: 0x94, BINGET: 0x68, LONG_BINGET: 0x6a,
} as const;

/** Python batches APPENDS/SETITEMS/ADDITEMS by 1000; so do we. */
const BATCH = 1000;

class Out {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(1 << 16);
  private pos = 0;
  private memo = new Map<string, number>();
  private memoSize = 0;
  private readonly utf8 = new TextEncoder();

  private room(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.cur = new Uint8Array(Math.max(1 << 16, n));
    this.pos = 0;
  }
  op(...bytes: number[]): void {
    this.room(bytes.length);
    for (const b of bytes) this.cur[this.pos++] = b;
  }
  raw(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.cur.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  u32(n: number): void {
    this.op(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  str(s: string): void {
    const b = this.utf8.encode(s);
    if (b.length < 256) this.op(OP.SHORT_BINUNICODE, b.length);
    else { this.op(OP.BINUNICODE); this.u32(b.length); }
    this.raw(b);
  }
  bytes(b: Uint8Array): void {
    if (b.length < 256) this.op(OP.SHORT_BINBYTES, b.length);
    else { this.op(OP.BINBYTES); this.u32(b.length); }
    this.raw(b);
  }
  /** Push a memoised object, writing it with `write` (then MEMOIZE) the first time. */
  memoised(key: string, write: () => void): void {
    const idx = this.memo.get(key);
    if (idx === undefined) {
      write();
      this.op(OP.MEMOIZE);
      this.memo.set(key, this.memoSize++);
    } else if (idx < 256) this.op(OP.BINGET, idx);
    else { this.op(OP.LONG_BINGET); this.u32(idx); }
  }
  /** The bytes as written, in pieces (no copy into one buffer). */
  pieces(): Uint8Array[] {
    return [...this.chunks, this.cur.subarray(0, this.pos)];
  }
  done(): Uint8Array {
    this.chunks.push(this.cur.subarray(0, this.pos));
    const total = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    return out;
  }
}

function writeInt(o: Out, n: bigint): void {
  if (n >= 0n && n < 256n) o.op(OP.BININT1, Number(n));
  else if (n >= 0n && n < 65536n) o.op(OP.BININT2, Number(n) & 0xff, Number(n) >> 8);
  else if (n >= -(2n ** 31n) && n < 2n ** 31n) { o.op(OP.BININT); o.u32(Number(BigInt.asUintN(32, n))); }
  else {
    // LONG1: little-endian two's complement, as few bytes as keep the sign.
    const bytes: number[] = [];
    let x = n;
    for (;;) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
      const sign = bytes[bytes.length - 1] & 0x80;
      if ((x === 0n && !sign) || (x === -1n && sign)) break;
    }
    o.op(OP.LONG1, bytes.length, ...bytes);
  }
}

function writeGlobal(o: Out, module: string, name: string): void {
  o.memoised(`global:${module}.${name}`, () => {
    o.str(module);
    o.str(name);
    o.op(OP.STACK_GLOBAL);
  });
}

function writeNdarray(o: Out, data: Float32Array | Float64Array, shape: number[]): void {
  const spec = data instanceof Float32Array ? "f4" : "f8";
  writeGlobal(o, "numpy.core.multiarray", "_reconstruct");
  writeGlobal(o, "numpy", "ndarray");
  o.op(OP.BININT1, 0, OP.TUPLE1);
  o.bytes(Uint8Array.of(0x62)); // b'b'
  o.op(OP.TUPLE3, OP.REDUCE, OP.MARK, OP.BININT1, 1);
  writeValue(o, new PyTuple(shape.map((n) => BigInt(n))));
  o.memoised(`dtype:${spec}`, () => {
    writeGlobal(o, "numpy", "dtype");
    o.str(spec);
    o.op(OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE, OP.MARK, OP.BININT1, 3);
    o.str("<");
    o.op(OP.NONE, OP.NONE, OP.NONE, OP.BININT, 0xff, 0xff, 0xff, 0xff, OP.BININT, 0xff, 0xff, 0xff, 0xff, OP.BININT1, 0);
    o.op(OP.TUPLE, OP.BUILD);
  });
  o.op(OP.NEWFALSE);
  o.bytes(littleEndianBytes(data));
  o.op(OP.TUPLE, OP.BUILD);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The array's bytes in little-endian order, as the '<' dtype says. */
function littleEndianBytes(data: Float32Array | Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  const f32 = data instanceof Float32Array;
  data.forEach((x, i) => (f32 ? view.setFloat32(i * 4, x, true) : view.setFloat64(i * 8, x, true)));
  return out;
}

function writeItems(o: Out, items: Iterable<PickleIn>, op: number): void {
  let batch: PickleIn[] = [];
  const flush = (): void => {
    if (!batch.length) return;
    o.op(OP.MARK);
    for (const x of batch) writeValue(o, x);
    o.op(op);
    batch = [];
  };
  for (const x of items) {
    batch.push(x);
    if (batch.length === BATCH) flush();
  }
  flush();
}

function writeValue(o: Out, v: PickleIn): void {
  if (v === null) return o.op(OP.NONE);
  switch (typeof v) {
    case "boolean":
      return o.op(v ? OP.NEWTRUE : OP.NEWFALSE);
    case "number": {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v, false);
      o.op(OP.BINFLOAT);
      return o.raw(b);
    }
    case "bigint":
      return writeInt(o, v);
    case "string":
      return o.str(v);
  }
  if (v instanceof Float32Array || v instanceof Float64Array) return writeNdarray(o, v, [v.length]);
  if (v instanceof NdArrayIn) return writeNdarray(o, v.data, v.shape);
  if (v instanceof Uint8Array) return o.bytes(v);
  if (v instanceof PyTuple) {
    const n = v.items.length;
    if (n === 0) return o.op(OP.EMPTY_TUPLE);
    if (n > 3) o.op(OP.MARK);
    for (const x of v.items) writeValue(o, x);
    return o.op(n > 3 ? OP.TUPLE : [OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][n - 1]);
  }
  if (Array.isArray(v)) {
    o.op(OP.EMPTY_LIST);
    return writeItems(o, v, OP.APPENDS);
  }
  if (v instanceof Set) {
    o.op(OP.EMPTY_SET);
    return writeItems(o, v, OP.ADDITEMS);
  }
  if (v instanceof Map) {
    o.op(OP.EMPTY_DICT);
    const flat: PickleIn[] = [];
    for (const [k, x] of v) flat.push(k, x);
    // SETITEMS takes key/value pairs: batch by 2 × 1000 items.
    for (let i = 0; i < flat.length; i += 2 * BATCH) {
      o.op(OP.MARK);
      for (const x of flat.slice(i, i + 2 * BATCH)) writeValue(o, x);
      o.op(OP.SETITEMS);
    }
    return;
  }
  throw new Error(`cannot pickle ${Object.prototype.toString.call(v)}`);
}

/** Pickle a value (protocol 4, unframed). */
export function pickle(value: PickleIn): Uint8Array {
  return pickleOut(value).done();
}

function pickleOut(value: PickleIn): Out {
  const o = new Out();
  o.op(OP.PROTO, 4);
  writeValue(o, value);
  o.op(OP.STOP);
  return o;
}

/**
 * Write a pickle atomically: to a temporary name beside `path`, then rename. The pieces go to the
 * file as they are, so a large feature file is held once in memory, not twice.
 */
export function writePickle(path: string, value: PickleIn): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    for (const piece of pickleOut(value).pieces()) {
      for (let at = 0; at < piece.length;) at += writeSync(fd, piece, at, piece.length - at);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
