/** Reading Vega's SVG back in the plot tests: the marks of a named layer, their labels and geometry. */

/** The inside of `<g class="mark-<type> role-mark <name>_marks" …>…</g>` (its first level of items). */
export function markGroup(svg: string, name: string): string {
  const open = new RegExp(`<g class="mark-[a-z]+ role-mark ${name}_marks"[^>]*>`, "g");
  const m = open.exec(svg);
  if (!m) throw new Error(`no mark group ${name}_marks in the SVG`);
  // Mark items are leaf elements (path, line, text): the group ends at its first </g>.
  const start = m.index + m[0].length;
  return svg.slice(start, svg.indexOf("</g>", start));
}

/** Every mark group of that name (a line mark has one group per series). */
export function markGroups(svg: string, name: string): string[] {
  const out: string[] = [];
  const open = new RegExp(`<g class="mark-[a-z]+ role-mark ${name}_marks"[^>]*>`, "g");
  for (let m = open.exec(svg); m; m = open.exec(svg)) {
    const start = m.index + m[0].length;
    out.push(svg.slice(start, svg.indexOf("</g>", start)));
  }
  return out;
}

/** The items (leaf elements) of a mark group, with their aria-label parsed into fields. */
export function items(group: string): { label: Record<string, string>; tag: string }[] {
  return [...group.matchAll(/<(path|line|text)\b[^>]*>/g)].map((m) => {
    const aria = /aria-label="([^"]*)"/.exec(m[0]);
    const label: Record<string, string> = {};
    for (const part of (aria?.[1] ?? "").split("; ")) {
      const i = part.indexOf(": ");
      if (i > 0) label[unescape(part.slice(0, i))] = unescape(part.slice(i + 2));
    }
    return { label, tag: m[0] };
  });
}

/** An attribute of an element's tag. */
export function attr(tag: string, name: string): string | undefined {
  return new RegExp(` ${name}="([^"]*)"`).exec(tag)?.[1];
}

/** translate(x,y) of an element's transform. */
export function translate(tag: string): [number, number] {
  const m = /transform="translate\(([-\d.e]+),([-\d.e]+)\)"/.exec(tag);
  if (!m) throw new Error(`no translate in ${tag.slice(0, 120)}`);
  return [Number(m[1]), Number(m[2])];
}

function unescape(s: string): string {
  return s.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}

/** Width and height of the root <svg>. */
export function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (!m) throw new Error("no svg size");
  return { width: Number(m[1]), height: Number(m[2]) };
}
