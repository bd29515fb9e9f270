/**
 * A `.npy` reader (numpy's format, versions 1.0, 2.0 and 3.0) for the GCNet/MoMKE feature
 * folders (spec §1.1). Numeric arrays only, any byte order, C or Fortran order; the result is an
 * NdArray in C order, decoded by numpy.ts (the same dtype decoding the pickle reader uses).
 *
 * Nothing is ever executed: an object array (`|O`, whose payload is a pickle) is refused before
 * its bytes are looked at, and so are string, structured, complex and datetime dtypes.
 *
 * Why not npyjs (1.2.0, a dev dependency: test/data/npy.test.ts cross-checks against the files it
 * writes), which we checked against the cases this reader needs:
 *  - a big-endian descr (`>f4`, `>f8`) is rejected as "Unsupported dtype", and `=f4` too;
 *  - the data length is never checked against the shape: a file truncated by a whole number of
 *    elements comes back silently short, otherwise the typed-array constructor throws a
 *    RangeError that names no file; a truncated header reads past the buffer the same way;
 *  - `fortran_order` is reported but the data is left in Fortran order;
 *  - `|O` fails with "Unsupported dtype: |O", which says nothing about why.
 * Everything it would still do for us (check the magic, regex the header dict, view the bytes as
 * a typed array) is a few lines here, so the whole format is parsed by hand below and only the
 * element decoding is shared, with numpy.ts.
 */
import { FormatError } from "../errors.js";
import { decodeElements, fortranToC, latin1, NdArray, parseDtype, type Dtype, type NumericNdArray } from "./numpy.js";
import { readInputFile } from "../files.js";

/** `\x93NUMPY`. */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** What the header says. */
export interface NpyHeader {
  version: [number, number];
  /** The `descr` string, e.g. `<f4`. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
}

/** Parse a `.npy` file's bytes to a numeric array in C order. `file` is for messages. */
export function parseNpy(bytes: Uint8Array, file = "<memory>"): NumericNdArray {
  const header = parseNpyHeader(bytes, file);
  const dtype = numericDtype(header.descr, file);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const need = count * dtype.itemsize;
  const have = bytes.length - header.dataOffset;
  if (have < need) {
    throw new FormatError(
      `truncated .npy file ${file}: shape ${showShape(header.shape)} of '${header.descr}' needs ${need} data bytes, found ${have}`,
      file,
    );
  }
  // numpy's np.load reads exactly `count` elements and ignores bytes after them; so do we.
  const raw = bytes.subarray(header.dataOffset, header.dataOffset + need);
  let data: NumericNdArray["data"];
  try {
    data = decodeElements(dtype, raw, count) as NumericNdArray["data"];
  } catch (e) {
    // int64 beyond 2^53: numpy.ts refuses what a JS number cannot hold exactly.
    throw new FormatError(`${(e as Error).message} in .npy file ${file}`, file);
  }
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return new NdArray(dtype.name, header.shape, data) as NumericNdArray;
}

/** Read and parse a `.npy` file; a missing or unreadable file is a FileError. */
export function readNpy(path: string): NumericNdArray {
  return parseNpy(readInputFile(path), path);
}

/** The magic, version, header length and header dict of a `.npy` file. */
export function parseNpyHeader(bytes: Uint8Array, file = "<memory>"): NpyHeader {
  const bad = (why: string): FormatError => new FormatError(`not a valid .npy file: ${why} in ${file}`, file);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw bad(bytes.length < 6 ? `only ${bytes.length} bytes` : "it does not start with \\x93NUMPY");
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) throw bad(`unknown format version ${major}.${minor} (1.0, 2.0 and 3.0 are read)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw bad("the header length is cut off (truncated file)");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  const dataOffset = start + headerLen;
  if (bytes.length < dataOffset) {
    throw bad(`the header should be ${headerLen} bytes but the file ends after ${bytes.length - start} (truncated file)`);
  }
  const headerBytes = bytes.subarray(start, dataOffset);
  // Version 1 and 2 headers are latin1, version 3 UTF-8; the dict itself is ASCII either way.
  const text = major === 3 ? new TextDecoder("utf-8").decode(headerBytes) : latin1(headerBytes);
  const dict = text.trim();
  if (!dict.startsWith("{") || !dict.endsWith("}")) throw bad(`the header is not a Python dict: ${JSON.stringify(clip(dict))}`);

  if (/['"]descr['"]\s*:\s*\[/.test(dict)) {
    throw bad("it holds a structured (record) dtype, not a numeric array");
  }
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(dict)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)\b/.exec(dict)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    const missing = [descr === undefined && "descr", fortran === undefined && "fortran_order", shapeText === undefined && "shape"]
      .filter(Boolean).join(", ");
    throw bad(`the header dict lacks ${missing}: ${JSON.stringify(clip(dict))}`);
  }
  const parts = shapeText.split(",").map((s) => s.trim());
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop(); // `(3,)`
  if (parts.some((s) => !/^\d+L?$/.test(s))) throw bad(`the shape (${shapeText}) is not a tuple of integers`);
  const shape = parts.map((s) => Number.parseInt(s, 10));
  return { version: [major, minor], descr, fortranOrder: fortran === "True", shape, dataOffset };
}

/** A numeric dtype from a descr; anything else is a FormatError that says what it is. */
function numericDtype(descr: string, file: string): Dtype {
  let dtype: Dtype;
  try {
    dtype = parseDtype(descr, "=");
  } catch {
    throw new FormatError(`${file} holds a numpy array of dtype '${descr}', which is not a real-valued numeric dtype`, file);
  }
  if (dtype.name === "object") {
    throw new FormatError(
      `${file} holds a numpy object array ('${descr}'): its items are pickled Python objects, which dssr never ` +
        "unpickles; save the features as a float array (np.save(path, x.astype(np.float32)))",
      file,
    );
  }
  if (dtype.name === "str" || dtype.name === "bytes") {
    throw new FormatError(`${file} holds a numpy string array ('${descr}'), not numeric features`, file);
  }
  return dtype;
}

/** `(3, 4)`, `(3,)`, `()` as Python prints a shape. */
export function showShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

function clip(s: string): string {
  return s.length > 120 ? s.slice(0, 117) + "..." : s;
}
