/**
 * Text widths in the font the figures are drawn in. Vega lays out titles, legends and axis labels
 * from text widths; without a canvas in Node it guesses 0.8 em per character, which for DejaVu
 * Sans (about 0.6 em) leaves wide gaps. This reads the advance widths from the TrueType file
 * (tables head, hhea, hmtx and cmap) and hands Vega a measuring function. Kerning is ignored.
 */
import * as vega from "vega";
import { loadPlotFonts } from "./font.js";

/** Advance widths of one TrueType font: width(text) in em. */
export class FontMetrics {
  private readonly view: DataView;
  private readonly tables = new Map<string, number>();
  private readonly unitsPerEm: number;
  private readonly nHMetrics: number;
  private readonly lookup: (code: number) => number;
  private readonly cache = new Map<number, number>();

  constructor(bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = this.view;
    const n = v.getUint16(4);
    for (let i = 0; i < n; i++) {
      const rec = 12 + 16 * i;
      const tag = String.fromCharCode(v.getUint8(rec), v.getUint8(rec + 1), v.getUint8(rec + 2), v.getUint8(rec + 3));
      this.tables.set(tag, v.getUint32(rec + 8));
    }
    this.unitsPerEm = v.getUint16(this.table("head") + 18);
    this.nHMetrics = v.getUint16(this.table("hhea") + 34);
    this.lookup = this.cmap();
  }

  private table(tag: string): number {
    const at = this.tables.get(tag);
    if (at === undefined) throw new Error(`font has no '${tag}' table`);
    return at;
  }

  /** The Unicode BMP subtable (platform 3, encoding 1, format 4) as a code → glyph function. */
  private cmap(): (code: number) => number {
    const v = this.view;
    const base = this.table("cmap");
    const n = v.getUint16(base + 2);
    let sub = -1;
    for (let i = 0; i < n; i++) {
      const rec = base + 4 + 8 * i;
      const platform = v.getUint16(rec);
      const encoding = v.getUint16(rec + 2);
      const at = base + v.getUint32(rec + 4);
      if (v.getUint16(at) === 4 && (platform === 3 && encoding === 1 || platform === 0 && sub < 0)) sub = at;
    }
    if (sub < 0) return () => 0;
    const segs = v.getUint16(sub + 6) / 2;
    const ends = sub + 14;
    const starts = ends + 2 * segs + 2;
    const deltas = starts + 2 * segs;
    const ranges = deltas + 2 * segs;
    return (code) => {
      for (let i = 0; i < segs; i++) {
        if (v.getUint16(ends + 2 * i) < code) continue;
        const start = v.getUint16(starts + 2 * i);
        if (start > code) return 0;
        const delta = v.getInt16(deltas + 2 * i);
        const range = v.getUint16(ranges + 2 * i);
        if (range === 0) return (code + delta) & 0xffff;
        const g = v.getUint16(ranges + 2 * i + range + 2 * (code - start));
        return g === 0 ? 0 : (g + delta) & 0xffff;
      }
      return 0;
    };
  }

  /** Advance width of one code point, in em. */
  advance(code: number): number {
    let w = this.cache.get(code);
    if (w === undefined) {
      const glyph = code > 0xffff ? 0 : this.lookup(code);
      const hmtx = this.table("hmtx");
      const i = Math.min(glyph, this.nHMetrics - 1);
      w = this.view.getUint16(hmtx + 4 * i) / this.unitsPerEm;
      this.cache.set(code, w);
    }
    return w;
  }

  /** Width of `text` in em. */
  width(text: string): number {
    let w = 0;
    for (const ch of text) w += this.advance(ch.codePointAt(0)!);
    return w;
  }
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

let installed: { regular: FontMetrics; bold: FontMetrics } | undefined;

/** The DejaVu Sans metrics (regular, bold), read once. */
export function plotFontMetrics(): { regular: FontMetrics; bold: FontMetrics } {
  if (!installed) {
    const fonts = loadPlotFonts();
    installed = { regular: new FontMetrics(fonts.regular), bold: new FontMetrics(fonts.bold) };
  }
  return installed;
}

/**
 * Makes Vega measure text with DejaVu Sans's advance widths (it is a setting of the vega module,
 * so it holds for every Vega view in this process; it only changes layout, never data).
 */
export function useFontMetrics(): void {
  const m = plotFontMetrics();
  const tm = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  tm.width = (item: TextItem, text: unknown): number => {
    const size = item.fontSize != null ? +item.fontSize || 0 : 11;
    const s = text == null ? "" : String(text).trim();
    if (size <= 0 || s === "") return 0;
    const weight = item.fontWeight;
    const bold = weight === "bold" || weight === "bolder" || (typeof weight === "number" && weight >= 600) || weight === "600" || weight === "700";
    const w = (bold ? m.bold : m.regular).width(s) * size;
    return item.limit != null && item.limit > 0 ? Math.min(w, item.limit) : w;
  };
}
