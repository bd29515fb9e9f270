/**
 * jax-js's wasm heap: pre-sized, and kept track of. Imported by engine.ts before @jax-js/jax,
 * because jax-js makes its WebAssembly.Memory while its module loads (`new WasmBackend()` at the
 * top level), at 0 pages, and grows it one allocation at a time; V8 answers each growth of
 * external memory with a full garbage collection. Asking for the pages up front (virtual memory:
 * untouched pages cost no RSS) removes those collections. `DSSR_WASM_MEMORY_MB` sets the size
 * (default 3584; 0 keeps the library's growth on demand). Only the first memory made is changed
 * (and remembered, for `wasmHeapBytes`), then the constructor is restored.
 */
const mb = Number(process.env.DSSR_WASM_MEMORY_MB ?? 3584);
const pages = mb > 0 ? Math.min(65536, Math.ceil((mb * 2 ** 20) / 65536)) : 0;
const Native = WebAssembly.Memory;
let heap: WebAssembly.Memory | null = null;
const FirstMemory = function (this: unknown, desc: WebAssembly.MemoryDescriptor) {
  WebAssembly.Memory = Native;
  const initial = desc.maximum !== undefined ? Math.min(pages, desc.maximum) : pages;
  heap = new Native({ ...desc, initial: Math.max(desc.initial, initial) });
  return heap;
} as unknown as typeof WebAssembly.Memory;
FirstMemory.prototype = Native.prototype;
WebAssembly.Memory = FirstMemory;

/** The wasm heap's size in bytes now (its reservation when pre-sized), or null before jax-js made it. */
export function wasmHeapBytes(): number | null {
  return heap === null ? null : heap.buffer.byteLength;
}
