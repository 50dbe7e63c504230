// The documentation: generated parts match their single sources (only `npm run docs` writes them), no
// generated section is lost or duplicated, every relative link resolves, and the README stays a landing page.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { docPaths, generated, placementProblems, regenerate } from "../../../scripts/gen-docs.ts";
import { COMMANDS } from "../../../src/cli/registry.ts";
import { SCHEMA } from "../../../src/config/schema.ts";

const root = join(import.meta.dir, "../../..");
const read = (p: string) => readFileSync(join(root, p), "utf8");

/** Pages other branches of the same release add (docs index links them); drop an entry once its file exists. */

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*]/g, "")
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (m) out.add(anchorOf(m[1]!));
  }
  return out;
}

function brokenLinks(path: string): string[] {
  const text = read(path).replace(/```[\s\S]*?```/g, "");
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target)) continue;
    const [file, hash] = target.split("#") as [string, string | undefined];
    const abs = file ? resolve(dirname(join(root, path)), file) : join(root, path);
    const _rel = abs.slice(root.length + 1);
    if (!existsSync(abs)) {
      out.push(`${path}: ${target} (no such file)`);
      continue;
    }
    if (hash && abs.endsWith(".md") && !anchors(readFileSync(abs, "utf8")).has(hash)) out.push(`${path}: ${target} (no such heading)`);
  }
  return out;
}

describe("documentation", () => {
  test("generated sections and the architecture picture are current (run `npm run docs`)", () => {
    const stale = generated()
      .filter((f) => f.next !== f.current)
      .map((f) => f.path);
    expect(stale).toEqual([]);
  });

  test("the check has teeth: a stale section is regenerated, an unknown one is refused", () => {
    const page = read("docs/configuration.md");
    const tampered = page.replace(/(<!-- generated:config -->\n)[\s\S]*?(<!-- \/generated:config -->)/, "$1stale\n$2");
    expect(tampered).not.toBe(page);
    expect(regenerate(tampered)).toBe(page);
    expect(() => regenerate("<!-- generated:nonsense -->\nx\n<!-- /generated:nonsense -->")).toThrow(/unknown generated section/);
  });

  test("every generated section is placed exactly once across README.md and docs/", () => {
    expect(placementProblems()).toEqual([]);
  });

  test("every relative link and heading anchor in README.md and docs/ resolves", () => {
    expect(anchorOf("Trace bridge (eBPF agent)")).toBe("trace-bridge-ebpf-agent");
    expect(anchorOf("`cleaned_events.log`")).toBe("cleaned_eventslog");
    expect(docPaths().flatMap(brokenLinks)).toEqual([]);
  });

  test("docs document every config key and every command; README is a landing page with the two quick-start commands", () => {
    const config = read("docs/configuration.md");
    for (const k of SCHEMA) expect(config).toContain(`\`${k.key}\``);
    const commands = read("docs/commands.md");
    for (const c of COMMANDS) expect(commands).toContain(`\`${c.name}`);
    const readme = read("README.md");
    expect(readme).toContain("npm install && npm start");
    expect(readme).toContain("npm test");
    expect(readme).toContain("docs/images/architecture.svg");
    expect(readme.split("\n").length).toBeLessThanOrEqual(300);
  });
});
