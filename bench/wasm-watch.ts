/**
 * Records the WebAssembly.Memory jax-js makes, so a bench can read the wasm heap's size. Import it
 * first: @jax-js/jax makes its memory while the modules load, before any code of the bench runs.
 */
let memory: WebAssembly.Memory | null = null;
const Native = WebAssembly.Memory;
const Watched = function (this: unknown, desc: WebAssembly.MemoryDescriptor) {
  const m = new Native(desc);
  memory = m;
  return m;
} as unknown as typeof WebAssembly.Memory;
Watched.prototype = Native.prototype;
WebAssembly.Memory = Watched;

/** The wasm heap's size in bytes now, or null when no memory was made after this module loaded. */
export function wasmHeapBytes(): number | null {
  return memory === null ? null : memory.buffer.byteLength;
}
