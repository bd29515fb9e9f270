/**
 * Loads the golden fixtures of ../shared/fixtures/dssr-golden (see its README): given data is
 * {shape, q} with value q/1024, computed data is {shape, values} in float64, both row-major.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES } from "./paths.js";

export type Encoded = { shape: number[]; q?: number[]; values?: number[] };

export interface Golden {
  name: "regression" | "classification";
  config: { n_classes: number; D_e: number; n_heads: number; input_dims: { a: number; t: number; v: number } };
  params: { name: string; shape: number[]; q: number[] }[];
  batch: Record<string, unknown> & { B: number; S: number; lengths: number[] };
  stage1: Record<string, unknown>;
  dcl: { classes: Encoded; cases: DclCase[] } & Record<string, unknown>;
  stage2: Record<string, Record<string, unknown>>;
  grad_stage1: GradCase;
  grad_stage2: GradCase;
}

export interface DclCase {
  name: string;
  state_before: { batch_count: number; centres: Record<"A" | "T" | "V", Encoded> | null };
  momentum: number | null;
  batch_centres: Record<"A" | "T" | "V", Encoded>;
  state_after: { batch_count: number; centres: Record<"A" | "T" | "V", Encoded> };
  loss: number;
  loss_per_modality: Record<"A" | "T" | "V", number>;
  labels?: Encoded;
  classes?: Encoded;
}

export interface GradCase {
  condition: string;
  loss: Record<string, number | null>;
  grads: Record<string, Encoded | null>;
  params_after_adam_step: Record<string, Encoded>;
  frozen_excluded_from_optimizer: string[];
}

const cache = new Map<string, Golden>();

export function loadGolden(name: "regression" | "classification"): Golden {
  if (!cache.has(name)) cache.set(name, JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")));
  return cache.get(name)!;
}

/** Decode either encoding to float64. */
export function decode(e: Encoded): Float64Array {
  if (e.q) return Float64Array.from(e.q, (q) => q / 1024);
  return Float64Array.from(e.values!);
}

/**
 * max |actual − expected| over the positions where `valid` (per leading [B, S] index) holds,
 * divided by max |expected| there (the README's "relative of the tensor's largest magnitude").
 */
export function relError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  valid?: ArrayLike<number>,
): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ ${expected.length}`);
  const per = valid ? actual.length / valid.length : 1;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < actual.length; i++) {
    if (valid && !(valid[Math.floor(i / per)] > 0)) continue;
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates as a failure
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}
