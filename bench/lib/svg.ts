// A small SVG line chart written as a plain string (no dependencies): one panel per figure, side by
// side, sharing the x axis (pods). Used for the cost curve in docs/images/.
export interface Panel {
  title: string;
  unit: string;
  points: { x: number; y: number }[];
  /** Horizontal reference lines (goals, budgets). */
  refs?: { y: number; label: string }[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const nice = (v: number) => {
  const p = 10 ** Math.floor(Math.log10(Math.max(v, 1e-9)));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * p).find((c) => c >= v) ?? v;
};
const fmt = (v: number) => (v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : `${+v.toFixed(v < 10 ? 2 : 1)}`);

export function lineCharts(title: string, xLabel: string, panels: Panel[]): string {
  const W = 300;
  const H = 220;
  const m = { l: 48, r: 12, t: 34, b: 40 };
  const out: string[] = [];
  const width = W * panels.length;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 28}" viewBox="0 0 ${width} ${H + 28}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
  );
  panels.forEach((p, i) => {
    const ox = i * W;
    const xs = p.points.map((q) => q.x);
    const xMax = nice(Math.max(...xs, 1));
    const yMax = nice(Math.max(...p.points.map((q) => q.y), ...(p.refs ?? []).map((r) => r.y), 1) * 1.1);
    const px = (x: number) => ox + m.l + (x / xMax) * (W - m.l - m.r);
    const py = (y: number) => 28 + m.t + (1 - y / yMax) * (H - m.t - m.b);
    out.push(`<text x="${ox + W / 2}" y="${28 + 14}" text-anchor="middle" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`);
    for (let k = 0; k <= 4; k++) {
      const y = (yMax * k) / 4;
      out.push(
        `<line x1="${px(0)}" x2="${px(xMax)}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`,
        `<text x="${px(0) - 4}" y="${py(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
      );
      const x = (xMax * k) / 4;
      out.push(`<text x="${px(x)}" y="${py(0) + 14}" text-anchor="middle">${fmt(x)}</text>`);
    }
    out.push(`<text x="${ox + W / 2}" y="${py(0) + 30}" text-anchor="middle">${esc(xLabel)}</text>`);
    for (const r of p.refs ?? [])
      out.push(
        `<line x1="${px(0)}" x2="${px(xMax)}" y1="${py(r.y)}" y2="${py(r.y)}" stroke="#c33" stroke-dasharray="4 3"/>`,
        `<text x="${px(xMax)}" y="${py(r.y) - 3}" text-anchor="end" fill="#c33">${esc(r.label)}</text>`,
      );
    const pts = p.points.filter((q) => Number.isFinite(q.y));
    out.push(
      `<polyline fill="none" stroke="#1f6fb2" stroke-width="2" points="${pts.map((q) => `${px(q.x).toFixed(1)},${py(q.y).toFixed(1)}`).join(" ")}"/>`,
    );
    for (const q of pts)
      out.push(
        `<circle cx="${px(q.x).toFixed(1)}" cy="${py(q.y).toFixed(1)}" r="3" fill="#1f6fb2"/>`,
        `<text x="${px(q.x).toFixed(1)}" y="${(py(q.y) - 6).toFixed(1)}" text-anchor="middle">${fmt(q.y)}</text>`,
      );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
