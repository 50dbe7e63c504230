// Output hygiene: every field printed to a terminal goes through `termText`. Pod messages, event
// messages and retained MQTT payloads are written by whoever can create a Pod or publish to the
// broker; raw, their escape sequences would recolour, retitle or rewrite the operator's terminal
// (or forge lines), and a number or object where a string was expected would crash a table.

// ESC-introduced sequences: CSI (ESC [ … final byte), OSC/DCS/PM/APC/SOS (… up to BEL or ESC \), and
// two-character escapes. Then the C1 equivalents (0x9b CSI, 0x9d OSC, …), then any control left.
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  /\u001b\[[0-?]*[ -/]*[@-~]?|\u001b[\]PX^_][\s\S]*?(?:\u0007|\u001b\\|$)|\u001b[ -~]?|\u009b[0-?]*[ -/]*[@-~]?|[\u0090\u0098\u009d\u009e\u009f][\s\S]*?(?:\u0007|\u009c|$)/g;
// C0 (tab and newline included: one field is one line), DEL, C1, and the Unicode bidirectional
// overrides and isolates that reorder what is displayed ("Trojan Source").
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** Any value as printable single-line text: coerced to a string, escape sequences removed, controls as one space. */
export function termText(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = value;
  else if (value === undefined || value === null) text = "";
  else if (typeof value === "object") {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  } else text = String(value);
  return text.replace(ESCAPE_SEQUENCE, "").replace(CONTROL, " ");
}
