/**
 * The only module that sets up the tensor engine (@jax-js/jax 0.1.25, pinned).
 *
 * - Node 20 lacks the global `Float16Array` that jax-js tests with `instanceof`:
 *   the maintained polyfill @petamoriken/float16 provides it before any array exists.
 * - `init('wasm')`: a bare `init()` probes `navigator` and fails in Node.
 * - Everything else imports `np`, `jit`, … from here, never from the package directly,
 *   so engine quirks stay in one place (see ../shared/notes/engine.md).
 * - `patches/@jax-js+jax+0.1.25.patch` (applied by patch-package at `npm ci`) makes a jitted
 *   program run its kernels as it schedules them instead of when its result is first read. As
 *   released, every buffer of a whole training step stays referenced until then, so a step's
 *   peak heap is the sum of all its intermediates (measured on a MOSI stage-2 step: peak RSS 4.4
 *   GiB unpatched, 2.1 GiB patched; first step 146 s → 19 s, mostly heap growth and GC). It also
 *   reuses each kernel's WebAssembly.Instance instead of instantiating it per call.
 *   `checkEnginePatch` warns once if an install skipped it (e.g. `npm ci --ignore-scripts`).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Float16Array as Float16ArrayPolyfill } from "@petamoriken/float16";

const g = globalThis as unknown as { Float16Array?: unknown };
if (typeof g.Float16Array === "undefined") g.Float16Array = Float16ArrayPolyfill;

import "./wasm-heap.js"; // before @jax-js/jax, which makes its wasm heap as it loads
import * as jax from "@jax-js/jax";

// jax-js reads the global only when an array is made, after this module body has run.
export { numpy as np, nn, lax, random, tree, jit, valueAndGrad, grad } from "@jax-js/jax";
export type Arr = jax.Array;

/** True for a materialised array, false for a tracer (inside jit, grad or vmap). */
export function isConcrete(x: unknown): boolean {
  return x instanceof jax.Array;
}
export type DType = jax.DType;

/** True when the jax-js build in use carries patches/@jax-js+jax+0.1.25.patch (see the header). */
export function enginePatched(): boolean {
  try {
    const file = fileURLToPath(import.meta.resolve("@jax-js/jax"));
    return readFileSync(file, "utf8").includes("execute(inputs, eager = false)");
  } catch {
    return false;
  }
}

function checkEnginePatch(): void {
  if (enginePatched()) return;
  process.stderr.write(
    "dssr: warning: @jax-js/jax is not patched (run `npx patch-package` in the package folder): " +
      "each jitted step then keeps all its intermediate buffers alive, about twice the memory\n",
  );
}

let ready: Promise<void> | undefined;

/** Initialise the wasm backend once; every entry point awaits this before making arrays. */
export function initEngine(): Promise<void> {
  if (ready) return ready;
  checkEnginePatch();
  ready = jax.init("wasm").then((devices) => {
    if (!devices.includes("wasm")) throw new Error("@jax-js/jax: the wasm backend did not start");
    jax.defaultDevice("wasm");
  });
  return ready;
}
