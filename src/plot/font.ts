/**
 * The font the figures are drawn in: DejaVu Sans, regular and bold, as TrueType files.
 *
 * The SVG only names the family; the PNG is rendered by resvg in WebAssembly, which sees no
 * system fonts, so the font files are read here and handed to it. They come from the npm package
 * `dejavu-fonts-ttf` (a dependency: `npm ci` installs it, nothing else to install), or, failing
 * that, from Debian's fonts-dejavu-core folder. The same files give the advance widths that lay
 * the text out (text-metrics.ts), so labels are measured in the font they are drawn in.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { FileError } from "../errors.js";

export const PLOT_FONT_FAMILY = "DejaVu Sans";

export interface PlotFonts {
  family: typeof PLOT_FONT_FAMILY;
  regular: Uint8Array;
  bold: Uint8Array;
  /** The folder the files were read from. */
  dir: string;
}

const FILES = { regular: "DejaVuSans.ttf", bold: "DejaVuSans-Bold.ttf" } as const;

/** Folders searched, in order: the npm package's ttf/ folder, then Debian's. */
export function fontDirs(): string[] {
  const dirs: string[] = [];
  try {
    const require = createRequire(import.meta.url);
    dirs.push(join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf"));
  } catch {
    // not installed: fall through to the system folder
  }
  dirs.push("/usr/share/fonts/truetype/dejavu");
  return dirs;
}

let cached: PlotFonts | undefined;

/** Reads DejaVu Sans (regular and bold) once; a FileError says where it looked when it is nowhere. */
export function loadPlotFonts(): PlotFonts {
  if (cached) return cached;
  const dirs = fontDirs();
  const dir = dirs.find((d) => existsSync(join(d, FILES.regular)) && existsSync(join(d, FILES.bold)));
  if (dir === undefined) {
    throw new FileError(
      `no font to draw the figures with: ${FILES.regular} and ${FILES.bold} are in none of ${dirs.join(", ")} ` +
        `(run npm ci, which installs the dejavu-fonts-ttf package, or install Debian's fonts-dejavu-core)`,
      dirs[dirs.length - 1],
    );
  }
  const read = (f: string) => new Uint8Array(readFileSync(join(dir, f)));
  cached = { family: PLOT_FONT_FAMILY, regular: read(FILES.regular), bold: read(FILES.bold), dir };
  return cached;
}
