/**
 * The DSSR parameter tree (spec §2), typed block by block. Linear weights keep PyTorch's
 * [out, in] layout, and `stateDictNames` maps every leaf to the released model's state_dict
 * name (the golden fixtures' names), so loading the reference is a rename, never a transpose.
 *
 * Freezing is structural (spec §2.3): everything stage 2 freezes — the sha projections, the
 * general encoder E_g, the cross-modal fusion and head_sha — lives in `salient`; stage 2
 * differentiates and updates only `heads` and `subtle`.
 */
import { np, random, type Arr, type DType } from "../engine.js";
import { MODALITIES, type Modality, type PerModality } from "../data/types.js";

export type Linear = { w: Arr; b: Arr };

/** One attention layer (spec §2.1): q, k, v projections and the MLP fc1 → GELU → fc2. */
export type AttentionLayer = { q: Linear; k: Linear; v: Linear; fc1: Linear; fc2: Linear };

export type SalientParams = {
  /** Linear_m^sha (stage 1) = GM_sha (stage 2): input dim → D. */
  proj: PerModality<Linear>;
  /** E_g: 4 layers shared by the three modalities. */
  generalEncoder: AttentionLayer[];
  /** Cross-modal fusion: 4 layers over the 3S tokens. */
  fusion: AttentionLayer[];
  /** head_sha on the fused feature f. */
  headSha: Linear;
};

/** MHDW_k's reconstruction MLP: (D/h + D) → (D/h + D) → D; one per head (spec §2.3). */
export type ReconstructionMlp = { fc1: Linear; fc2: Linear };

export type SubtleParams = {
  /** GM_spe: input dim → D per modality. */
  generation: PerModality<Linear>;
  /** E_s^m: one 4-layer attention stack per modality. */
  specificEncoders: PerModality<AttentionLayer[]>;
  /** MHDW Linear_m (D × D) per modality. */
  mhdwProj: PerModality<Linear>;
  /** MHDW MLP_k, one per head, shared by the modalities and layers. */
  mhdwRec: ReconstructionMlp[];
  router: { fc1: Linear; fc2: Linear };
  /** hidden = r + ReLU(proj(r)) on r of width 4D. */
  proj: Linear;
  head: Linear;
};

export type DssrParams = {
  salient: SalientParams;
  /** head_m: unimodal heads, trained in both stages (stage 1 on Z^m, stage 2 on E^m). */
  heads: PerModality<Linear>;
  subtle: SubtleParams;
};

export interface ModelShape {
  dims: PerModality<number>;
  /** D, the hidden size (release flag --D_e). */
  hidden: number;
  heads: number;
  /** 1 for regression, C for classification. */
  nClasses: number;
  /** Layers per stack (4 everywhere in the paper). */
  depth: number;
}

/** Every leaf with its PyTorch state_dict name, in the released model's order. */
export function stateDictEntries(p: DssrParams): [string, Arr][] {
  const out: [string, Arr][] = [];
  const lin = (name: string, l: Linear) => {
    out.push([`${name}.weight`, l.w], [`${name}.bias`, l.b]);
  };
  const attn = (prefix: string, l: AttentionLayer) => {
    lin(`${prefix}.q`, l.q);
    lin(`${prefix}.k`, l.k);
    lin(`${prefix}.v`, l.v);
    lin(`${prefix}.mlp.fc1`, l.fc1);
    lin(`${prefix}.mlp.fc2`, l.fc2);
  };
  for (const m of MODALITIES) lin(`${m}2${m}_sha.0`, p.salient.proj[m]);
  for (const m of MODALITIES) lin(`${m}2${m}_spe.0`, p.subtle.generation[m]);
  p.salient.generalEncoder.forEach((l, i) => attn(`enc_sha.blocks.${i}`, l));
  p.salient.fusion.forEach((l, i) => attn(`cross_attn.${i}`, l));
  const depth = p.subtle.specificEncoders.a.length;
  for (let i = 0; i < depth; i++) {
    for (const m of MODALITIES) attn(`enc_spe.blocks.${i}.Transformer_${m}`, p.subtle.specificEncoders[m][i]);
  }
  for (const m of MODALITIES) lin(`enc_spe.proj_in.${m}`, p.subtle.mhdwProj[m]);
  p.subtle.mhdwRec.forEach((r, k) => {
    lin(`enc_spe.recs.${k}.fc1`, r.fc1);
    lin(`enc_spe.recs.${k}.fc2`, r.fc2);
  });
  for (const m of MODALITIES) lin(`head_1_${m}`, p.heads[m]);
  lin("head_sha", p.salient.headSha);
  lin("router_spe.fc1", p.subtle.router.fc1);
  lin("router_spe.fc2", p.subtle.router.fc2);
  lin("proj", p.subtle.proj);
  lin("head", p.subtle.head);
  return out;
}

/** The shape [out, in] of every Linear, by the same walk as stateDictEntries. */
export function linearShapes(s: ModelShape): DssrParams {
  // Built with placeholder "arrays" that only carry shapes; see initParams / paramsFromArrays.
  const D = s.hidden;
  const dh = D / s.heads;
  const L = (o: number, i: number) => ({ w: [o, i], b: [o] }) as unknown as Linear;
  const attn = () => ({ q: L(D, D), k: L(D, D), v: L(D, D), fc1: L(D, D), fc2: L(D, D) });
  const stack = () => Array.from({ length: s.depth }, attn);
  const per = <T>(f: (m: Modality) => T): PerModality<T> => ({ a: f("a"), t: f("t"), v: f("v") });
  return {
    salient: {
      proj: per((m) => L(D, s.dims[m])),
      generalEncoder: stack(),
      fusion: stack(),
      headSha: L(s.nClasses, D),
    },
    heads: per(() => L(s.nClasses, D)),
    subtle: {
      generation: per((m) => L(D, s.dims[m])),
      specificEncoders: per(() => stack()),
      mhdwProj: per(() => L(D, D)),
      mhdwRec: Array.from({ length: s.heads }, () => ({ fc1: L(dh + D, dh + D), fc2: L(D, dh + D) })),
      router: { fc1: L(3 * D, 3 * D), fc2: L(3, 3 * D) },
      proj: L(4 * D, 4 * D),
      head: L(s.nClasses, 4 * D),
    },
  };
}

/** Build a parameter tree from a name → (shape, data) lookup (fixtures, checkpoints). */
export function paramsFromStateDict(
  s: ModelShape,
  lookup: (name: string, shape: number[]) => Float64Array | Float32Array,
  dtype: DType,
): DssrParams {
  return mapLinears(linearShapes(s), (name, shape) => {
    const data = lookup(name, shape);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`parameter ${name}: expected ${size} values, got ${data.length}`);
    const typed = dtype === np.float64 ? Float64Array.from(data) : Float32Array.from(data);
    return np.array(typed, { dtype }).reshape(shape);
  });
}

/** Walk a shape tree, replacing every leaf with f(state_dict name, shape, fan-in of its Linear). */
function mapLinears(
  shapes: DssrParams,
  f: (name: string, shape: number[], fanIn: number) => Arr,
): DssrParams {
  const names = new Map<unknown, string>();
  for (const [name, leaf] of stateDictEntries(shapes)) names.set(leaf, name);
  const walk = (node: unknown): unknown => {
    const lin = node as { w?: unknown; b?: unknown };
    if (lin && typeof lin === "object" && Array.isArray(lin.w) && Array.isArray(lin.b)) {
      const w = lin.w as number[];
      return { w: f(names.get(lin.w)!, w, w[1]), b: f(names.get(lin.b)!, lin.b as number[], w[1]) };
    }
    if (Array.isArray(node)) return node.map(walk);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as object)) out[k] = walk(v);
    return out;
  };
  return walk(shapes) as DssrParams;
}

/**
 * PyTorch's default Linear initialisation: weight and bias ~ U(−1/√in, 1/√in)
 * (kaiming_uniform with a = √5 gives the same bound for the weight).
 */
export function initParams(s: ModelShape, seed: number, dtype: DType = np.float32): DssrParams {
  let key = random.key(seed);
  return mapLinears(linearShapes(s), (_name, shape, fanIn) => {
    const bound = 1 / Math.sqrt(fanIn);
    const [next, sub] = random.split(key, 2);
    key = next;
    return random.uniform(sub, shape, { minval: -bound, maxval: bound }).astype(dtype);
  });
}

/** Number of scalars in a tree of arrays. */
export function countParams(tree: unknown): number {
  if (tree && typeof tree === "object" && "shape" in (tree as object) && "dtype" in (tree as object)) {
    return (tree as Arr).size;
  }
  if (Array.isArray(tree)) return tree.reduce((n: number, x) => n + countParams(x), 0);
  if (tree && typeof tree === "object") return Object.values(tree).reduce((n: number, x) => n + countParams(x), 0);
  return 0;
}
