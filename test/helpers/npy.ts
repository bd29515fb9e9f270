/**
 * `.npy` bytes written by hand for the tests (independently of src/data/npy.ts): numpy's format
 * 1.0/2.0/3.0 header, the dict padded with spaces to a multiple of 64 bytes and ended by '\n',
 * then the data in C or Fortran order, in the descr's byte order. float16 through
 * @petamoriken/float16's setFloat16.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setFloat16 } from "@petamoriken/float16";
import { tuple, writePickle, type PickleIn } from "../../src/data/pickle-writer.js";

export interface NpySpec {
  /** numpy descr: `<f4`, `>f8`, `<f2`, `<i4`, `|u1`, … (`|O` writes `raw` as the payload). */
  descr: string;
  shape: number[];
  /** Values in C (row-major) order; written in Fortran order when `fortran`. */
  data?: ArrayLike<number>;
  fortran?: boolean;
  version?: 1 | 2 | 3;
  /** Payload bytes as is, instead of encoding `data`. */
  raw?: Uint8Array;
}

export function npyBytes(spec: NpySpec): Uint8Array {
  const version = spec.version ?? 1;
  const shape = spec.shape.length === 1 ? `(${spec.shape[0]},)` : `(${spec.shape.join(", ")})`;
  let dict = `{'descr': '${spec.descr}', 'fortran_order': ${spec.fortran ? "True" : "False"}, 'shape': ${shape}, }`;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - pre - 1, " ") + "\n";
  const payload = spec.raw ?? encode(spec);
  const out = new Uint8Array(pre + dict.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  out.set(payload, pre + dict.length);
  return out;
}

export function writeNpy(path: string, spec: NpySpec): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, npyBytes(spec));
}

function encode(spec: NpySpec): Uint8Array {
  const m = /^([<>|=])([fiu])(\d)$/.exec(spec.descr);
  if (!m) throw new Error(`test helper: cannot encode descr ${spec.descr}`);
  const le = m[1] !== ">";
  const kind = m[2];
  const size = Number(m[3]);
  const values = Array.from(spec.data ?? []);
  const order = spec.fortran ? fortranOrder(values, spec.shape) : values;
  const out = new Uint8Array(order.length * size);
  const view = new DataView(out.buffer);
  order.forEach((x, i) => {
    const at = i * size;
    if (kind === "f" && size === 2) setFloat16(view, at, x, le);
    else if (kind === "f" && size === 4) view.setFloat32(at, x, le);
    else if (kind === "f" && size === 8) view.setFloat64(at, x, le);
    else if (kind === "i" && size === 4) view.setInt32(at, x, le);
    else if (kind === "u" && size === 1) view.setUint8(at, x);
    else throw new Error(`test helper: cannot encode descr ${spec.descr}`);
  });
  return out;
}

/** C-order values of a 2-D array → Fortran (column-major) order. */
function fortranOrder(values: number[], shape: number[]): number[] {
  if (shape.length !== 2) throw new Error("test helper: Fortran order for 2-D arrays only");
  const [rows, cols] = shape;
  const out: number[] = [];
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out.push(values[r * cols + c]);
  return out;
}

/**
 * A temporary folder for many small files: in /dev/shm (memory) where there is one, since
 * creating the ~20 000 files of an IEMOCAP-sized .npy folder on a disk-backed /tmp took 20 s on
 * the development machine (0.5 s in memory); else in the system temporary folder.
 */
export function manyFilesTempDir(prefix: string): string {
  let base = tmpdir();
  try {
    accessSync("/dev/shm", constants.W_OK);
    base = "/dev/shm";
  } catch {
    // no /dev/shm (macOS, Windows): the system temporary folder
  }
  return mkdtempSync(join(base, `dssr-test-${prefix}-`));
}

/** A MOSI-style (7-item) label file with every label 0.5 and the first video as train. */
export function writeSentimentLabels(path: string, videos: Record<string, string[]>): void {
  const entries = Object.entries(videos);
  const per = (f: (us: string[]) => PickleIn) => new Map<PickleIn, PickleIn>(entries.map(([v, us]) => [v, f(us)]));
  writePickle(path, tuple(
    per((us) => us), per((us) => us.map(() => 0.5)), per((us) => us.map(() => "")), per((us) => us.map((u) => `sentence ${u}`)),
    new Set<PickleIn>([entries[0][0]]), new Set<PickleIn>(), new Set<PickleIn>(entries.slice(1).map(([v]) => v)),
  ));
}

/** An IEMOCAP-style (6-item) label file; speakers given per utterance. */
export function writeEmotionLabels(path: string, videos: Record<string, [string, "F" | "M"][]>): void {
  const entries = Object.entries(videos);
  const per = (f: (us: [string, "F" | "M"][]) => PickleIn) => new Map<PickleIn, PickleIn>(entries.map(([v, us]) => [v, f(us)]));
  writePickle(path, [
    per((us) => us.map(([u]) => u)), per((us) => us.map((_, i) => BigInt(i % 2))), per((us) => us.map(([, s]) => s)),
    per((us) => us.map(([u]) => `sentence ${u}`)), new Set<PickleIn>(entries.map(([v]) => v)), new Set<PickleIn>(),
  ]);
}
