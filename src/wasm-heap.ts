/**
 * Pre-size jax-js's wasm heap. Imported by engine.ts before @jax-js/jax, because jax-js makes its
 * WebAssembly.Memory while its module loads (`new WasmBackend()` at the top level), at 0 pages,
 * and grows it one allocation at a time; V8 answers each growth of external memory with a full
 * garbage collection. Asking for the pages up front (virtual memory: untouched pages cost no RSS)
 * removes those collections. `DSSR_WASM_MEMORY_MB` sets the size (default 3584; 0 keeps the
 * library's growth on demand). Only the first memory made is changed, then the constructor is
 * restored.
 */
const mb = Number(process.env.DSSR_WASM_MEMORY_MB ?? 3584);
if (mb > 0) {
  const pages = Math.min(65536, Math.ceil((mb * 2 ** 20) / 65536));
  const Native = WebAssembly.Memory;
  const Presized = function (this: unknown, desc: WebAssembly.MemoryDescriptor) {
    WebAssembly.Memory = Native;
    const initial = desc.maximum !== undefined ? Math.min(pages, desc.maximum) : pages;
    return new Native({ ...desc, initial: Math.max(desc.initial, initial) });
  } as unknown as typeof WebAssembly.Memory;
  Presized.prototype = Native.prototype;
  WebAssembly.Memory = Presized;
}
export {};
