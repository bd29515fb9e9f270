/**
 * The only module that sets up the tensor engine (@jax-js/jax 0.1.25, pinned).
 *
 * - Node 20 lacks the global `Float16Array` that jax-js tests with `instanceof`:
 *   the maintained polyfill @petamoriken/float16 provides it before any array exists.
 * - `init('wasm')`: a bare `init()` probes `navigator` and fails in Node.
 * - Everything else imports `np`, `jit`, … from here, never from the package directly,
 *   so engine quirks stay in one place (see ../shared/notes/engine.md).
 */
import { Float16Array as Float16ArrayPolyfill } from "@petamoriken/float16";

const g = globalThis as unknown as { Float16Array?: unknown };
if (typeof g.Float16Array === "undefined") g.Float16Array = Float16ArrayPolyfill;

import * as jax from "@jax-js/jax";

export const { numpy: np, nn, lax, random, tree, jit, valueAndGrad, grad, init } = jax;
export type Arr = jax.Array;
export type DType = jax.DType;

let ready: Promise<void> | undefined;

/** Initialise the wasm backend once; every entry point awaits this before making arrays. */
export function initEngine(): Promise<void> {
  ready ??= jax.init("wasm").then((devices) => {
    if (!devices.includes("wasm")) throw new Error("@jax-js/jax: the wasm backend did not start");
    jax.defaultDevice("wasm");
  });
  return ready;
}
