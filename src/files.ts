/** Small file-system helpers shared by the readers: what a path is, and reading a file a user named. */
import { readFileSync, statSync } from "node:fs";
import { FileError } from "./errors.js";

/** Whether `p` is a directory (following links); false when it does not exist or cannot be read. */
export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `p` is a regular file (following links); false when it does not exist or cannot be read. */
export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A file's bytes; a missing or unreadable file is a FileError naming it. */
export function readInputFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "file not found" : `cannot read file (${code ?? String(e)})`;
    throw new FileError(`${what}: ${path}`, path);
  }
}
