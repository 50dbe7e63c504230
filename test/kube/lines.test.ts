// Watch-stream framing: chunk boundaries anywhere, several lines per chunk, malformed lines.
import { describe, expect, test } from "bun:test";
import { LineSplitter, parseWatchLine } from "../../src/kube/lines.ts";
import { backoffDelay } from "../../src/kube/informer.ts";

const ev = (type: string, name: string) => JSON.stringify({ type, object: { metadata: { name, resourceVersion: "1" } } });

describe("LineSplitter", () => {
  test("a line split over chunks comes out once, whole", () => {
    const s = new LineSplitter();
    const line = ev("ADDED", "a");
    expect(s.push(line.slice(0, 5))).toEqual([]);
    expect(s.push(line.slice(5, 20))).toEqual([]);
    expect(s.push(line.slice(20) + "\n")).toEqual([line]);
    expect(s.pending).toBe(0);
  });

  test("several lines in one chunk, a partial tail kept for the next", () => {
    const s = new LineSplitter();
    const [a, b, c] = [ev("ADDED", "a"), ev("MODIFIED", "b"), ev("DELETED", "c")];
    expect(s.push(`${a}\n${b}\r\n\n${c.slice(0, 7)}`)).toEqual([a, b]);
    expect(s.push(`${c.slice(7)}\n`)).toEqual([c]);
  });

  test("every possible split point of a three-line stream gives the same lines", () => {
    const lines = [ev("ADDED", "a"), ev("MODIFIED", "ünïcödé"), ev("BOOKMARK", "b")];
    const text = lines.join("\n") + "\n";
    for (let i = 0; i <= text.length; i++) {
      const s = new LineSplitter();
      expect([...s.push(text.slice(0, i)), ...s.push(text.slice(i)), ...s.end()]).toEqual(lines);
    }
  });

  test("UTF-8 split inside a character decodes correctly with a streaming TextDecoder", () => {
    const line = ev("ADDED", "é€😀");
    const bytes = new TextEncoder().encode(line + "\n");
    const dec = new TextDecoder();
    const s = new LineSplitter();
    const out: string[] = [];
    for (const b of bytes) out.push(...s.push(dec.decode(new Uint8Array([b]), { stream: true })));
    expect(out).toEqual([line]);
  });

  test("an unterminated tail is returned by end()", () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}')).toEqual([]);
    expect(s.end()).toEqual(['{"a":1}']);
    expect(s.end()).toEqual([]);
  });
});

describe("parseWatchLine", () => {
  test("valid events", () => {
    expect(parseWatchLine(ev("ADDED", "a"))?.object.metadata.name).toBe("a");
    expect(parseWatchLine('{"type":"ERROR","object":{"kind":"Status","code":410}}')?.type).toBe("ERROR");
  });
  test("malformed lines give null, never throw", () => {
    for (const bad of [
      "{",
      "null",
      "42",
      '"x"',
      "[]",
      '{"type":"ADDED"}',
      '{"type":"NOPE","object":{"metadata":{}}}',
      '{"type":"ADDED","object":{}}',
      '{"type":"ADDED","object":"x"}',
    ]) {
      expect(parseWatchLine(bad)).toBeNull();
    }
  });
});

describe("backoffDelay", () => {
  test("doubles from 250 ms to a 30 s cap, with jitter in [base/2, base]", () => {
    expect(backoffDelay(0, {}, () => 1)).toBe(250);
    expect(backoffDelay(0, {}, () => 0)).toBe(125);
    expect(backoffDelay(3, {}, () => 1)).toBe(2000);
    expect(backoffDelay(10, {}, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, {}, () => 0)).toBe(15_000);
  });
});
