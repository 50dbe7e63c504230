// Output hygiene (issue 10 item 9): one function, termText, for everything printed to a terminal.
import { describe, expect, test } from "bun:test";
import { termText } from "../../../src/boundary/terminal.ts";
import { alertLines, incidentLine } from "../../../src/channels/alert-lines.ts";
import type { AlertGroupData } from "../../../src/channels/types.ts";
import { renderTable } from "../../../src/cli/table.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("termText", () => {
  test.each([
    ["\u001b[31mred\u001b[0m", "red"],
    ["title\u001b]0;pwned\u0007after", "titleafter"],
    ["\u001b]8;;http://evil.example\u001b\\link\u001b]8;;\u001b\\", "link"],
    ["clear\u001b[2J\u001b[Hscreen", "clearscreen"],
    ["c1 csi \u009b31m", "c1 csi "],
    ["a\nb\r\tc", "a b c"],
    ["bidi \u202eevil", "bidi  evil"],
    ["\u001bc", ""],
    ["é😀 ok", "é😀 ok"],
  ])("%j → %j", (input, out) => {
    expect(termText(input)).toBe(out);
  });

  test("any value becomes a string", () => {
    expect(termText(5)).toBe("5");
    expect(termText(null)).toBe("");
    expect(termText(undefined)).toBe("");
    expect(termText(false)).toBe("false");
    expect(termText({ a: "\u001b[1m" })).toBe('{"a":"\\u001b[1m"}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(termText(cyclic)).toBe("[object Object]");
  });
});

describe("every printer uses it", () => {
  test("renderTable: numbers, objects and null in cells print; escapes removed", () => {
    const out = renderTable(
      ["A", "B", "C"],
      [
        [5, { x: 1 }, null],
        ["\u001b[31mred", "ok", "tail\u001b]0;t\u0007"],
      ],
    );
    expect(out.split("\n")).toEqual(["A    B        C", '5    {"x":1}  ', "red  ok       tail"]);
  });

  test("alertLines / incidentLine: a hostile retained payload (escapes, numbers, missing arrays) prints safely", () => {
    const g = {
      incidentId: "inc\u001b[2J",
      clusterId: 7,
      level: "strict",
      status: "firing",
      title: "t\u001b]0;pwned\u0007",
      alertCount: "3",
      alerts: [
        { time: 1, severity: 9, kind: "Pod", namespace: "ns", name: { o: 1 }, node: 5, reason: "R\u009b1m", message: "m\u001b[31m\nFORGED" },
        null,
      ],
      nodeList: "not-a-list",
    } as unknown as AlertGroupData;
    for (const colour of [false, true]) {
      const lines = [...alertLines(g, colour), incidentLine(g, colour)];
      for (const l of lines) {
        // With colour on, only our own SGR sequences remain.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: removing our own ESC sequences is the point
        expect(l.replace(/\u001b\[\d+m/g, "")).not.toMatch(CONTROL);
        expect(l).not.toContain("pwned");
      }
      if (!colour) expect(lines[0]).toBe('1 FIRING   [strict] 9        Pod ns/{"o":1} @5 R: m FORGED (incident inc, cluster 7)');
    }
    expect(alertLines({ ...g, alerts: undefined } as unknown as AlertGroupData, false)).toHaveLength(1);
  });
});
