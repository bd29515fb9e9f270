// float64-accurate exp / log / erf / GELU / softmax (src/precise.ts) against float64 references.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine, np, nn, lax, jit, grad, valueAndGrad, type Arr } from "../src/engine.js";
import * as P from "../src/precise.js";

before(async () => {
  await initEngine();
});

const f64 = (xs: number[]): Arr => np.array(new Float64Array(xs));
const f32 = (xs: number[]): Arr => np.array(new Float32Array(xs));
const read = (a: Arr): number[] => Array.from(a.dataSync() as Float64Array);
type Fn = (x: Arr) => Arr;

/**
 * fn on xs three ways: eagerly as given (arrays under 128 elements are evaluated by jax-js in JS,
 * larger ones by wasm kernels), eagerly padded to >= 256 elements, and under jit (padded).
 */
function modes(fn: Fn, xs: number[]): Record<string, number[]> {
  const padded = [...xs];
  while (padded.length < 256) padded.push(...xs);
  return {
    eager: read(fn(f64(xs))),
    wasm: read(fn(f64(padded))).slice(0, xs.length),
    jit: read(jit(fn)(f64(padded))).slice(0, xs.length),
  };
}

/** Largest relative error (absolute where the reference is 0 or below `floor`); equal non-finite values count as 0. */
function maxRel(got: number[], want: number[], floor = 0): { err: number; at: number } {
  let err = 0;
  let at = -1;
  got.forEach((g, i) => {
    const w = want[i];
    const e = Object.is(g, w) || g === w ? 0 : Math.abs(g - w) / Math.max(Math.abs(w), floor);
    if (!(e <= err)) [err, at] = [e, i]; // NaN where a finite value was expected counts as a failure
  });
  return { err, at };
}

function assertClose(name: string, fn: Fn, xs: number[], want: number[], tol: number, floor = 0) {
  for (const [mode, got] of Object.entries(modes(fn, xs))) {
    const { err, at } = maxRel(got, want, floor);
    assert.ok(err <= tol, `${name} (${mode}): error ${err} at x=${xs[at]}: got ${got[at]}, want ${want[at]}`);
  }
}

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

describe("precise exp", () => {
  test("matches Math.exp to 1e-14 over -708…709.78, and exactly-rounded edges", () => {
    const xs = [...linspace(-708, 709.78, 20001), ...linspace(-1, 1, 2001), 1e-300, -1e-20, 0.5, Math.LN2];
    assertClose("exp", P.exp, xs, xs.map(Math.exp), 1e-14);
  });
  test("subnormal, overflow and special values", () => {
    const xs = [...linspace(-745.2, -708, 2001), 709.782712893384, 709.79, 710, 1e6, -746, -1e9, -1e300];
    // Results below 2^-1022 are subnormal: compare absolutely, to one subnormal step (2^-1074).
    const step = Number.MIN_VALUE / 2.2250738585072014e-308;
    assertClose("exp tail", P.exp, xs, xs.map(Math.exp), step, 2.2250738585072014e-308);
    const specials = [0, -0, Infinity, -Infinity, NaN];
    for (const got of Object.values(modes(P.exp, specials))) assert.deepEqual(got, [1, 1, Infinity, 0, NaN]);
  });
});

describe("precise log", () => {
  test("matches Math.log to 1e-14 from the smallest subnormal to the largest float64", () => {
    const xs = [
      ...linspace(-744, 709.7, 20001).map((t, i) => Math.exp(t) * (1 + 0.3 * Math.sin(i))),
      ...linspace(0.5, 2, 4001),
      ...[1e-7, 1e-10, 1e-13, 2 ** -40, 2 ** -52].flatMap((d) => [1 + d, 1 - d]),
      5e-324, 1e-320, 2.2250738585072014e-308, 1.7976931348623157e308, 1, 2, Math.E, 10,
    ];
    assertClose("log", P.log, xs, xs.map(Math.log), 1e-14);
  });
  test("special values like the native op", () => {
    const xs = [0, -0, -1, -Infinity, Infinity, NaN];
    for (const got of Object.values(modes(P.log, xs))) assert.deepEqual(got, [-Infinity, -Infinity, NaN, NaN, Infinity, NaN]);
  });
});

// python3 -c "import math; print([math.erf(x) for x in XS])"  (XS = ERF_X below)
const ERF_X = [
  0.0, 1e-300, 1e-8, 0.01, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.4999999, 1.5, 1.5000001, 1.75, 2.0, 2.5,
  3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 5.9, 6.0, 7.0, 10.0, 27.0, -0.3, -1.2, -1.6, -2.2, -4.4,
];
const ERF_REF = [
  0.0, 1.1283791670955126e-300, 1.1283791670955126e-8, 0.011283415555849616, 0.1124629160182849,
  0.2763263901682369, 0.5204998778130465, 0.7111556336535151, 0.8427007929497149, 0.9229001282564582,
  0.96610513458228, 0.9661051464753108, 0.9661051583683379, 0.9866716712191824, 0.9953222650189527,
  0.999593047982555, 0.9999779095030014, 0.9999992569016276, 0.9999999845827421, 0.9999999998033839,
  0.9999999999984626, 0.9999999999999927, 0.9999999999999999, 1.0, 1.0, 1.0, 1.0, -0.3286267594591274,
  -0.9103139782296353, -0.976348383344644, -0.9981371537020182, -0.999999999510829,
];

describe("precise erf", () => {
  test("matches Python's math.erf to 1e-13", () => {
    assertClose("erf", P.erf, ERF_X, ERF_REF, 1e-13);
  });
  test("odd, bounded, special values", () => {
    const xs = linspace(0, 8, 1601);
    const pos = modes(P.erf, xs);
    const neg = modes(P.erf, xs.map((x) => -x));
    for (const mode of Object.keys(pos)) {
      xs.forEach((_, i) => {
        assert.equal(neg[mode][i], -pos[mode][i]);
        assert.ok(pos[mode][i] <= 1 && (i === 0 || pos[mode][i] >= pos[mode][i - 1]), `monotone at ${xs[i]}`);
      });
    }
    for (const got of Object.values(modes(P.erf, [Infinity, -Infinity, NaN, -0]))) assert.deepEqual(got, [1, -1, NaN, -0]);
  });
});

// python3 -c "import math; xs=GELU_X; print([0.5*x*(1+math.erf(x*math.sqrt(0.5))) for x in xs]);
//   print([0.5*(1+math.erf(x*math.sqrt(0.5)))+x*math.exp(-x*x/2)/math.sqrt(2*math.pi) for x in xs])"
const GELU_X = [-30, -8, -5, -3, -2, -1, -0.5, -0.1, 0, 0.1, 0.5, 1, 2, 3, 5, 8];
const GELU_REF = [
  -0.0, -4.884981308350689e-15, -1.4332578593401202e-6, -0.00404969409489031, -0.04550026389635842,
  -0.15865525393145702, -0.15426876936299344, -0.0460172162722971, 0.0, 0.053982783727702904,
  0.34573123063700656, 0.841344746068543, 1.9544997361036416, 2.99595030590511, 4.999998566742141,
  7.999999999999995,
];
const GELU_GRAD_REF = [
  -4.420938404635643e-195, -3.9807546004751306e-14, -7.146946001803465e-6, -0.011945647204183918,
  -0.08523180107819692, -0.08331547058768635, 0.13250487534383712, 0.4204769079752698, 0.5,
  0.5795230920247302, 0.8674951246561629, 1.0833154705876864, 1.085231801078197, 1.011945647204184,
  1.000007146946002, 1.0000000000000397,
];

describe("precise geluExact", () => {
  test("matches 0.5·x·(1 + erf(x/√2)) in float64", () => {
    // 1 + erf(x/√2) cancels for x < -3 (in PyTorch too): there only |x|·ulp(1) absolute accuracy.
    assertClose("gelu", P.geluExact, GELU_X, GELU_REF, 1e-13, 1e-2);
  });
});

/** softmax / log-softmax over the last axis of a row-major [rows, n] array, in JS doubles. */
function refSoftmax(rows: number[][], logOut: boolean): number[] {
  return rows.flatMap((r) => {
    const m = Math.max(...r);
    const s = r.reduce((acc, v) => acc + Math.exp(v - m), 0);
    return r.map((v) => (logOut ? v - m - Math.log(s) : Math.exp(v - m) / s));
  });
}

describe("precise softmax / logSoftmax", () => {
  const rows = Array.from({ length: 40 }, (_, i) =>
    Array.from({ length: 9 }, (_, j) => (j === 7 && i % 3 === 0 ? -1e9 : j === 8 && i % 4 === 0 ? -Infinity : 12 * Math.sin(i * 9 + j))),
  );
  const flat = rows.flat();
  const run = (fn: Fn) => ({ eager: read(fn(f64(flat).reshape([40, 9]))), jit: read(jit(fn)(f64(flat).reshape([40, 9]))) });
  test("softmax over the last axis matches a float64 reference, masks included", () => {
    const want = refSoftmax(rows, false);
    for (const [mode, got] of Object.entries(run((x) => P.softmax(x, -1)))) {
      const { err, at } = maxRel(got, want, 1e-300);
      assert.ok(err <= 1e-14, `softmax ${mode}: ${err} at ${at}`);
    }
  });
  test("logSoftmax over the last axis and softmax over axis 0", () => {
    const want = refSoftmax(rows, true);
    for (const [mode, got] of Object.entries(run((x) => P.logSoftmax(x, -1)))) {
      const { err, at } = maxRel(got, want);
      assert.ok(err <= 1e-14, `logSoftmax ${mode}: ${err} at ${at}`);
    }
    const cols = Array.from({ length: 9 }, (_, j) => rows.map((r) => r[j]));
    const t = refSoftmax(cols, false); // [9, 40] → compare transposed
    const got = read(P.softmax(f64(flat).reshape([40, 9]), 0));
    const want0 = rows.flatMap((_, i) => cols.map((_, j) => t[j * 40 + i]));
    const { err } = maxRel(got, want0.map((v) => v), 1e-300);
    assert.ok(err <= 1e-14, `softmax axis 0: ${err}`);
  });
  test("a fully masked row gives NaN, like the native op", () => {
    const got = read(P.softmax(f64([-Infinity, -Infinity, 1, 2]).reshape([2, 2])));
    assert.ok(Number.isNaN(got[0]) && Number.isNaN(got[1]));
  });
});

describe("precise gradients", () => {
  const gradOf = (fn: Fn, xs: number[]) => {
    const g = grad((x: Arr) => fn(x).sum());
    return { eager: read(g(f64(xs))), jit: read(jit(g)(f64(xs))) };
  };
  const check = (name: string, fn: Fn, xs: number[], want: number[], tol: number, floor = 0) => {
    for (const [mode, got] of Object.entries(gradOf(fn, xs))) {
      const { err, at } = maxRel(got, want, floor);
      assert.ok(err <= tol, `d${name} (${mode}): error ${err} at x=${xs[at]}: got ${got[at]}, want ${want[at]}`);
    }
  };
  test("d/dx exp = exp, also where the result underflows", () => {
    const xs = [...linspace(-700, 700, 2001), -1e9, -Infinity];
    check("exp", P.exp, xs, xs.map(Math.exp), 1e-14);
  });
  test("d/dx log = 1/x", () => {
    const xs = [...linspace(-300, 300, 2001).map((t) => 10 ** t), ...linspace(0.5, 2, 1001)];
    check("log", P.log, xs, xs.map((x) => 1 / x), 1e-14);
  });
  test("d/dx erf = 2/√π·exp(-x²)", () => {
    const xs = [...linspace(-6, 6, 2401), 10, -20, 26];
    // Math.exp(-x*x) itself carries x²·2^-53 relative error from rounding x*x.
    check("erf", P.erf, xs, xs.map((x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x)), 1e-13);
  });
  test("d/dx geluExact against the closed form", () => {
    check("gelu", P.geluExact, GELU_X, GELU_GRAD_REF, 1e-13, 1e-2);
  });
  test("logSoftmax gradient = w - softmax·Σw (valueAndGrad)", () => {
    const x = [0.3, -2, 5, 1e-3, -1e9, 4.5];
    const w = [1, -2, 0.5, 3, 1, -1];
    const f = (a: Arr) => P.logSoftmax(a).mul(f64(w)).sum();
    const [v, g] = valueAndGrad(f)(f64(x));
    const sm = refSoftmax([x], false);
    const ls = refSoftmax([x], true);
    const sw = w.reduce((a, b) => a + b, 0);
    const { err } = maxRel(read(g), w.map((wi, i) => wi - sm[i] * sw));
    assert.ok(err <= 1e-14, `dlogSoftmax ${err}`);
    const want = ls.reduce((a, l, i) => a + l * w[i], 0);
    assert.ok(Math.abs(read(v)[0] - want) <= 1e-14 * Math.abs(want));
  });
  test("no NaN from masked scores or a clamped branch", () => {
    const g = grad((x: Arr) => P.softmax(x).mul(f64([1, 2, 3, 4])).sum())(f64([-1e9, -Infinity, 0.5, 2]));
    const got = read(g);
    assert.ok(got.every(Number.isFinite), `${got}`);
    assert.deepEqual(got.slice(0, 2), [0, 0]);
    const ge = read(grad((x: Arr) => P.erf(x).sum())(f64([Infinity, -Infinity, 1e300, 0])));
    assert.deepEqual(ge, [0, 0, 0, 2 / Math.sqrt(Math.PI)]);
  });
});

describe("precise: float32 inputs use the native ops unchanged", () => {
  const xs = linspace(-9, 9, 1000);
  const pos = xs.map((x) => Math.abs(x) + 1e-3);
  const same = (a: Arr, b: Arr) => assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  test("exp, log, erf, gelu, softmax, logSoftmax", () => {
    same(P.exp(f32(xs)), np.exp(f32(xs)));
    same(P.log(f32(pos)), np.log(f32(pos)));
    same(P.erf(f32(xs)), lax.erf(f32(xs)));
    same(P.geluExact(f32(xs)), nn.gelu(f32(xs), { approximate: false }));
    same(P.softmax(f32(xs).reshape([10, 100])), nn.softmax(f32(xs).reshape([10, 100])));
    same(P.logSoftmax(f32(xs).reshape([10, 100]), 0), nn.logSoftmax(f32(xs).reshape([10, 100]), 0));
  });
});

describe("precise: ownership and cost", () => {
  test("each function consumes its argument exactly once", () => {
    const fns: Record<string, Fn> = { exp: P.exp, log: P.log, erf: P.erf, gelu: P.geluExact, softmax: P.softmax, logSoftmax: P.logSoftmax };
    for (const [name, fn] of Object.entries(fns)) {
      const x = f64(linspace(0.1, 3, 300));
      fn(x.ref).dispose();
      assert.equal(x.refCount, 1, name);
      x.dispose();
    }
  });
  test("timing: float64 exp on 1e5 elements under jit (printed, not asserted)", async () => {
    const n = 100_000;
    const data = new Float64Array(linspace(-50, 50, n));
    const time = async (fn: Fn, x: () => Arr) => {
      const f = jit(fn);
      await f(x()).blockUntilReady().then((a) => a.dispose()); // compile
      const ms: number[] = [];
      for (let i = 0; i < 7; i++) {
        const xi = x();
        await xi.blockUntilReady();
        const t0 = performance.now();
        const y = await f(xi).blockUntilReady();
        ms.push(performance.now() - t0);
        y.dispose();
      }
      return ms.sort((a, b) => a - b)[3].toFixed(2);
    };
    const rows = {
      "precise exp f64": await time(P.exp, () => np.array(data)),
      "native exp f64 (float32 accuracy)": await time((x) => np.exp(x), () => np.array(data)),
      "native exp f32": await time((x) => np.exp(x), () => np.array(new Float32Array(data))),
      "precise log f64": await time(P.log, () => np.array(data.map(Math.abs))),
      "precise erf f64": await time(P.erf, () => np.array(data.map((v) => v / 10))),
      "precise gelu f64": await time(P.geluExact, () => np.array(data.map((v) => v / 10))),
    };
    console.log(`median ms for ${n} elements under jit:`, rows);
  });
});
