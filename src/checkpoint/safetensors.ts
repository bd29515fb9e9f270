/**
 * The safetensors format, written and read by hand (no npm package does it; the jax-js companion
 * loader only reads, and fetches over the network). A file is:
 *
 *   8 bytes        N, the header's length, unsigned 64-bit little-endian
 *   N bytes        a UTF-8 JSON object: per tensor name {"dtype", "shape", "data_offsets": [begin,
 *                  end]} with offsets relative to the start of the data section, plus an optional
 *                  "__metadata__" map of string → string; it may be padded at the end with spaces
 *   the rest       the data section: every tensor's raw little-endian, row-major bytes
 *
 * What the reference implementation (and so Python's `safetensors.torch.load_file`) insists on,
 * and what `decodeSafetensors` therefore checks: the header starts with `{`; the tensors' byte
 * ranges cover the data section exactly, without holes or overlaps; each range's length is the
 * element count times the dtype's size. We write as the reference writer does: tensors sorted by
 * dtype size (largest first) then name, the header padded with spaces to a multiple of 8 so every
 * tensor is aligned. Only F32 and F64 are written and read (DSSR's parameters); another dtype in a
 * file is a CheckpointError that names it.
 *
 * Values are copied byte for byte: NaN payloads, -0 and subnormals come back bit-identical.
 */
import { randomUUID } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CheckpointError, FileError } from "../errors.js";

export type SafetensorsDtype = "F32" | "F64";

export interface Tensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array;
}

export interface Safetensors {
  /** In the file's data order. */
  tensors: Map<string, Tensor>;
  /** The header's "__metadata__" (empty when absent). */
  metadata: Record<string, string>;
}

const ITEM_SIZE: Record<SafetensorsDtype, number> = { F32: 4, F64: 8 };
/** The reference reader refuses headers over 100 MB; so do we (a corrupt length is usually huge). */
export const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A tensor from a typed array: F32 for Float32Array, F64 for Float64Array. */
export function tensor(data: Float32Array | Float64Array, shape: number[] = [data.length]): Tensor {
  const dtype: SafetensorsDtype = data instanceof Float64Array ? "F64" : "F32";
  if (elementCount(shape) !== data.length) {
    throw new RangeError(`tensor: shape [${shape.join(", ")}] holds ${elementCount(shape)} values, data has ${data.length}`);
  }
  return { dtype, shape: [...shape], data };
}

/** Serialise tensors (and string metadata) to the bytes of a safetensors file. */
export function encodeSafetensors(
  tensors: Iterable<[string, Tensor]> | Map<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = [...tensors];
  const seen = new Set<string>();
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new RangeError(`encodeSafetensors: '__metadata__' is not a tensor name`);
    if (seen.has(name)) throw new RangeError(`encodeSafetensors: tensor '${name}' given twice`);
    seen.add(name);
    if (ITEM_SIZE[t.dtype] === undefined) throw new RangeError(`encodeSafetensors: tensor '${name}': unsupported dtype ${String(t.dtype)}`);
    const wantArray = t.dtype === "F64" ? Float64Array : Float32Array;
    if (!(t.data instanceof wantArray)) throw new RangeError(`encodeSafetensors: tensor '${name}' is ${t.dtype} but its data is a ${t.data.constructor.name}`);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || elementCount(t.shape) !== t.data.length) {
      throw new RangeError(`encodeSafetensors: tensor '${name}' has shape [${t.shape.join(", ")}] but ${t.data.length} values`);
    }
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new RangeError(`encodeSafetensors: metadata '${k}' must be a string`);
  }
  // The reference writer's order: larger dtypes first, then by name (keeps every tensor aligned).
  entries.sort(([na, a], [nb, b]) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || (na < nb ? -1 : na > nb ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.data.length * ITEM_SIZE[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const [, t] of entries) {
    const size = ITEM_SIZE[t.dtype];
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * size), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) {
        if (size === 8) view.setFloat64(pos + 8 * i, t.data[i], true);
        else view.setFloat32(pos + 4 * i, t.data[i], true);
      }
    }
    pos += t.data.length * size;
  }
  return out;
}

/**
 * Parse the bytes of a safetensors file. Every problem — truncation, a header that is not JSON or
 * not the format's shape, ranges that do not tile the data section, an unsupported dtype — is a
 * CheckpointError that names `file` (and the tensor, where one is at fault).
 */
export function decodeSafetensors(bytes: Uint8Array, file = "<memory>"): Safetensors {
  const fail = (what: string): never => {
    throw new CheckpointError(`${file} is not a valid safetensors file: ${what}`, file);
  };
  if (bytes.length < 8) fail(`it is ${bytes.length} bytes long, shorter than the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`the header length field says ${n64} bytes (more than ${MAX_HEADER_BYTES}; corrupt?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`the header length field says ${n} bytes but only ${bytes.length - 8} follow (truncated)`);
  if (n < 2 || bytes[8] !== 0x7b) fail("the header does not start with '{'");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("the header is not a JSON object");
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const ranges: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__['${k}'] is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const at = `tensor '${name}'`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail(`${at} is not an object`);
    const e = entry as Record<string, unknown>;
    if (e.dtype !== "F32" && e.dtype !== "F64") {
      fail(`${at} has dtype ${JSON.stringify(e.dtype)}; only F32 and F64 are supported`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${at} has shape ${JSON.stringify(shape)}, expected an array of non-negative integers`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      fail(`${at} has data_offsets ${JSON.stringify(offs)}, expected [begin, end] with 0 ≤ begin ≤ end`);
    }
    const dtype = e.dtype as SafetensorsDtype;
    const [begin, end] = offs as number[];
    const want = elementCount(shape as number[]) * ITEM_SIZE[dtype];
    if (end - begin !== want) {
      fail(`${at} (${dtype}, shape [${(shape as number[]).join(", ")}]) needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    ranges.push({ name, dtype, shape: shape as number[], begin, end });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const r of ranges) {
    if (r.begin !== expected) {
      fail(r.begin < expected ? `tensor '${r.name}' overlaps the tensor before it` : `a gap before tensor '${r.name}' (bytes ${expected}–${r.begin} belong to no tensor)`);
    }
    if (r.end > dataLength) {
      fail(`tensor '${r.name}' ends at data byte ${r.end} but the data section has ${dataLength} bytes (truncated)`);
    }
    expected = r.end;
  }
  if (expected !== dataLength) {
    fail(`the tensors cover ${expected} bytes of data but the data section has ${dataLength} (trailing bytes)`);
  }
  const tensors = new Map<string, Tensor>();
  for (const r of ranges) {
    const count = elementCount(r.shape);
    const start = dataStart + r.begin;
    // Copy into fresh, aligned storage: the file's offsets need not be aligned.
    // (Not bytes.slice: on a Node Buffer that is a view, not a copy.)
    const raw = new Uint8Array(count * ITEM_SIZE[r.dtype]);
    raw.set(bytes.subarray(start, start + raw.length));
    let data: Float32Array | Float64Array;
    if (LITTLE_ENDIAN) {
      data = r.dtype === "F64" ? new Float64Array(raw.buffer, 0, count) : new Float32Array(raw.buffer, 0, count);
    } else {
      const dv = new DataView(raw.buffer);
      data = r.dtype === "F64"
        ? Float64Array.from({ length: count }, (_, i) => dv.getFloat64(8 * i, true))
        : Float32Array.from({ length: count }, (_, i) => dv.getFloat32(4 * i, true));
    }
    tensors.set(r.name, { dtype: r.dtype, shape: [...r.shape], data });
  }
  return { tensors, metadata };
}

/** Read a safetensors file; a missing or unreadable file is a FileError. */
export function readSafetensors(path: string): Safetensors {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new FileError(`cannot read safetensors file ${path}: ${code}`, path);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Write bytes to a temporary file beside `path`, flush, then rename over `path`: a reader sees
 * the old file or the whole new one. On failure the temporary file is removed and a FileError
 * names `path`.
 */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  try {
    await writeBytesSynced(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (e instanceof FileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(`cannot write ${path}: ${code ?? (e as Error).message}`, path);
  }
}

/** Write and fsync a new file (fails if it exists). */
export async function writeBytesSynced(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "wx");
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `encodeSafetensors` written atomically to `path`. */
export async function writeSafetensors(
  path: string,
  tensors: Iterable<[string, Tensor]> | Map<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeBytesAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * writeBytesAtomic, synchronously: for the training loop's per-epoch checkpoints, which run inside
 * a synchronous stretch of work where an async write would not happen until the loop ends.
 */
export function writeBytesAtomicSync(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx");
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the original error is the one to report
      }
    }
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(`cannot write ${path}: ${code ?? (e as Error).message}`, path);
  }
}
