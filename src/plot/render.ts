/**
 * A Vega-Lite spec → an SVG string (Vega, headless: no browser, no canvas) → a PNG (resvg in
 * WebAssembly, with DejaVu Sans loaded from font.ts). Both are returned in memory;
 * `writeFigure` writes them side by side, atomically.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { writeBytesAtomic } from "../checkpoint/safetensors.js";
import { FileError } from "../errors.js";
import { writeTextAtomic } from "../report/results.js";
import { loadPlotFonts, PLOT_FONT_FAMILY } from "./font.js";
import { useFontMetrics } from "./text-metrics.js";

export interface Figure {
  svg: string;
  png: Uint8Array;
  /** Size of the SVG in CSS pixels; the PNG is `scale` times larger. */
  width: number;
  height: number;
  scale: number;
  /** The Vega-Lite spec drawn (data inline), e.g. to open it in the Vega editor. */
  spec: TopLevelSpec;
}

export interface RenderOptions {
  /** PNG pixels per SVG pixel (default 2). */
  scale?: number;
}

/** The look every figure shares: the font, a white background, quiet grids. */
export const BASE_CONFIG = {
  font: PLOT_FONT_FAMILY,
  background: "white",
  padding: 12,
  title: { fontSize: 15, subtitleFontSize: 11.5, subtitleColor: "#444", anchor: "start", offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#e6e6e6" },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11.5, titleFontWeight: "normal" },
  view: { stroke: "#bbb" },
} as const;

let wasm: Promise<void> | undefined;

function initResvg(): Promise<void> {
  if (!wasm) {
    const require = createRequire(import.meta.url);
    wasm = initWasm(readFileSync(require.resolve("@resvg/resvg-wasm/index_bg.wasm")));
  }
  return wasm;
}

/** Compile and draw a Vega-Lite spec. */
export async function renderVegaLite(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<Figure> {
  const scale = opts.scale ?? 2;
  if (!(scale > 0 && scale <= 8)) throw new RangeError(`scale must be in (0, 8], got ${scale}`);
  const fonts = loadPlotFonts();
  useFontMetrics();
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const m = /^<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (!m) throw new Error("vega returned an SVG without width and height");
  const width = Number(m[1]);
  const height = Number(m[2]);
  await initResvg();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: {
      fontBuffers: [fonts.regular, fonts.bold],
      defaultFontFamily: PLOT_FONT_FAMILY,
      sansSerifFamily: PLOT_FONT_FAMILY,
    },
  });
  let png: Uint8Array;
  try {
    const image = resvg.render();
    png = image.asPng();
    image.free();
  } finally {
    resvg.free();
  }
  return { svg, png, width, height, scale, spec };
}

/** Width and height from a PNG's IHDR chunk; throws if `png` does not start like a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) throw new Error("not a PNG: bad signature");
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const type = String.fromCharCode(png[12], png[13], png[14], png[15]);
  if (type !== "IHDR") throw new Error(`not a PNG: first chunk is '${type}', not IHDR`);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

/**
 * Where `--out` puts a figure: `<stem>.svg` and `<stem>.png`. A path ending in .svg or .png is a
 * stem with that extension; an existing folder, or a path ending in '/', gets `<folder>/<name>`.
 */
export function figurePaths(out: string, name: string, isDir: boolean): { svg: string; png: string } {
  let stem = out;
  if (isDir || /[/\\]$/.test(out)) stem = out.replace(/[/\\]+$/, "") + "/" + name;
  else stem = out.replace(/\.(svg|png)$/i, "");
  return { svg: stem + ".svg", png: stem + ".png" };
}

/** Write the figure's SVG and PNG (each atomically), creating the folder if needed. */
export async function writeFigure(paths: { svg: string; png: string }, figure: Figure): Promise<void> {
  const dir = dirname(paths.svg);
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new FileError(`cannot create folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, dir);
  }
  await writeTextAtomic(paths.svg, figure.svg);
  await writeBytesAtomic(paths.png, figure.png);
}
