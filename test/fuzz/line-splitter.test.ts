// Fuzz target: the watch stream framing. Any text, cut into chunks anywhere, gives the same lines as
// splitting it whole; nothing longer than the maximum is ever buffered or returned.
import { expect, test } from "bun:test";
import { LineSplitter, LineTooLongError } from "../../src/kube/lines.ts";
import { fc, fuzz } from "./support.ts";

const MAX = 64;
const piece = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("\n", "\r\n", " ", "{}", "\n\n"),
  fc.string({ unit: "grapheme", maxLength: 10 }),
);
const stream = fc.record({ pieces: fc.array(piece, { maxLength: 30 }), cuts: fc.array(fc.nat(), { maxLength: 10 }) });

/** The reference: split the whole text, as LineSplitter promises (trimmed, blank lines dropped). */
function reference(text: string): { lines: string[]; overflow: boolean } {
  const parts = text.split("\n");
  const overflow = parts.some((p) => p.length > MAX);
  return { lines: parts.map((p) => p.trim()).filter(Boolean), overflow };
}

test("line-splitter: chunking never changes the lines; over-long lines throw, never buffer", () => {
  fuzz("line-splitter", 0x11e5, stream, ({ pieces, cuts }) => {
    const text = pieces.join("");
    const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
    const chunks: string[] = [];
    let at = 0;
    for (const p of [...points, text.length]) {
      chunks.push(text.slice(at, p));
      at = p;
    }
    const s = new LineSplitter(MAX);
    const out: string[] = [];
    let threw = false;
    try {
      for (const c of chunks) {
        out.push(...s.push(c));
        expect(s.pending).toBeLessThanOrEqual(MAX);
      }
      out.push(...s.end());
    } catch (e) {
      expect(e).toBeInstanceOf(LineTooLongError);
      expect(s.pending).toBe(0);
      threw = true;
    }
    const ref = reference(text);
    expect(threw).toBe(ref.overflow);
    for (const line of out) expect(line.length).toBeLessThanOrEqual(MAX);
    if (!threw) expect(out).toEqual(ref.lines);
  });
}, 60_000);
