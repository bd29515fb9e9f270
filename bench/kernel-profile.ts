/**
 * Kernel time of one call, from jax-js's profiler (`profiler.startTrace`, which reports each
 * dispatched kernel as a performance `measure` entry): the wall time, the number of kernels, their
 * summed time, and the kernels grouped by name and shape, most expensive first. Used by
 * `npm run bench -- --profile`.
 */
import { profiler } from "@jax-js/jax";
import { PerformanceObserver } from "node:perf_hooks";

interface Kernel { name: string; ms: number; key: string; expression: string }

type DevtoolsDetail = { devtools?: { properties?: [string, unknown][] } } | undefined;

export async function profileKernels(label: string, call: () => void, top = 25): Promise<void> {
  const kernels: Kernel[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const p = Object.fromEntries((e as PerformanceEntry & { detail?: DevtoolsDetail }).detail?.devtools?.properties ?? []);
      const shape = String(p.size ?? p.outputShapes ?? "");
      kernels.push({ name: e.name, ms: e.duration, key: `${e.name} reduction=${String(p.reduction ?? "")} size=${shape}`, expression: String(p.exp ?? p.inputShapes ?? "") });
    }
  });
  observer.observe({ entryTypes: ["measure"] });
  profiler.startTrace();
  const t0 = performance.now();
  call();
  const wall = performance.now() - t0;
  profiler.stopTrace();
  await new Promise((r) => setTimeout(r, 100)); // observers are called asynchronously
  observer.disconnect();
  const total = kernels.reduce((a, k) => a + k.ms, 0);
  console.log(`${label}: wall ${wall.toFixed(0)} ms, ${kernels.length} kernels, kernel time ${total.toFixed(0)} ms`);
  const groups = new Map<string, { n: number; ms: number; expression: string }>();
  for (const k of kernels) {
    const g = groups.get(k.key) ?? { n: 0, ms: 0, expression: k.expression.slice(0, 200) };
    g.n++;
    g.ms += k.ms;
    groups.set(k.key, g);
  }
  for (const [key, g] of [...groups].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`${g.ms.toFixed(0).padStart(7)} ms  ×${String(g.n).padStart(4)}  ${key}\n           ${g.expression}`);
  }
}
