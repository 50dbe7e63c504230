// `npm run docs`: regenerates the generated parts of the documentation from their single sources — the
// sections between <!-- generated:NAME --> markers in README.md and docs/*.md (the configuration table
// from src/config/schema.ts, the rules from src/watchers/RULES.md, the component READMEs of systemd/,
// image/, ansible/, deploy/, bench/ with its latest results, alerting, channels, agent) and the
// architecture picture (docs/images/architecture.svg from docs/images/architecture.diagram.ts).
// Nothing else writes them (not the bench, not the tests). `bun scripts/gen-docs.ts --check` exits 1
// naming every stale file; test/unit/docs/docs.test.ts runs the same check.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acceptedValues } from "../src/config/accepted.ts";
import { SCHEMA } from "../src/config/schema.ts";
import { ARCHITECTURE } from "../docs/images/architecture.diagram.ts";
import { renderDiagram } from "./diagram.ts";

const root = join(import.meta.dir, "..");

export function configTable(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = SCHEMA.map(
    (k) =>
      `| \`${k.key}\` | ${cell(acceptedValues(k))}${k.secret ? " (secret)" : ""} | ${k.default === "" ? "—" : `\`${k.default}\``} | ${cell(k.doc)} |`,
  );
  return ["| Key | Accepted values | Default | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}

function rulesTable(): string {
  // RULES.md stands alone with its own title; docs/rules.md has its own.
  const text = readFileSync(join(root, "src/watchers/RULES.md"), "utf8").trim();
  return text.replace(/^# .*\n+/, "");
}

/**
 * How a component's own Markdown file is shown inside a docs page. Headings move down `shift` levels
 * (outside code fences) so they nest under the page section that includes them.
 */
export interface Include {
  path: string;
  shift: number;
  /** Keep the file's own `# ` title (otherwise the page's heading above the markers introduces it). */
  title?: boolean;
  /** Only the body of this `## ` section, without its heading (the page has its own heading for it). */
  only?: string;
  /** `## ` sections left out here because the docs show them under another heading. */
  omit?: string[];
}

interface Part {
  heading?: string;
  lines: string[];
}

/** Splits a Markdown file into its `# ` title, the text before the first `## `, and its `## ` sections. */
function parts(text: string): { title?: string; parts: Part[] } {
  let fenced = false;
  let title: string | undefined;
  const out: Part[] = [{ lines: [] }];
  for (const line of text.trim().split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    if (!fenced && title === undefined && out.length === 1 && out[0]!.lines.every((l) => l.trim() === "") && /^# /.test(line)) {
      title = line;
      continue;
    }
    if (!fenced && /^## /.test(line)) out.push({ heading: line.slice(3).trim(), lines: [line] });
    else out[out.length - 1]!.lines.push(line);
  }
  return { title, parts: out };
}

function shiftHeadings(lines: string[], shift: number): string[] {
  let fenced = false;
  return lines.map((line) => {
    if (line.startsWith("```")) fenced = !fenced;
    if (fenced || !/^#{1,6} /.test(line)) return line;
    const level = line.indexOf(" ") + shift;
    if (level > 6) throw new Error(`heading nested deeper than level 6: ${line}`);
    return `${"#".repeat(level)}${line.slice(line.indexOf(" "))}`;
  });
}

const trimBlank = (lines: string[]) => lines.join("\n").trim();

export function renderInclude(inc: Include, text = readFileSync(join(root, inc.path), "utf8")): string {
  const { title, parts: ps } = parts(text);
  const names = ps.filter((p) => p.heading).map((p) => p.heading!);
  for (const name of [...(inc.only ? [inc.only] : []), ...(inc.omit ?? [])]) {
    if (!names.includes(name)) throw new Error(`${inc.path} has no "## ${name}" section (it has: ${names.join(", ")})`);
  }
  let lines: string[];
  if (inc.only) lines = ps.find((p) => p.heading === inc.only)!.lines.slice(1);
  else {
    lines = inc.title && title ? [title] : [];
    for (const p of ps) if (!p.heading || !inc.omit?.includes(p.heading)) lines.push(...p.lines);
  }
  return trimBlank(shiftHeadings(lines, inc.shift));
}

/** Sections of the docs pages copied from other files (`<!-- generated:NAME -->` … `<!-- /generated:NAME -->`). */
export const INCLUDED: Record<string, Include> = {
  alerting: { path: "src/alerting/README.md", shift: 1, title: true },
  channels: { path: "src/channels/README.md", shift: 1, title: true },
  agent: { path: "agent/README.md", shift: 1, title: true },
  // Install / Flash / Provision / Run on K3s / Operate / Upgrade and rollback
  systemd: { path: "systemd/README.md", shift: 0, omit: ["Operate", "Upgrade and rollback"] },
  image: { path: "image/README.md", shift: 1 },
  ansible: { path: "ansible/README.md", shift: 0, omit: ["Upgrade and rollback"] },
  deploy: { path: "deploy/README.md", shift: 0, omit: ["Upgrade and rollback"] },
  "systemd-operate": { path: "systemd/README.md", shift: 0, only: "Operate" },
  "systemd-upgrade": { path: "systemd/README.md", shift: 1, only: "Upgrade and rollback" },
  "ansible-upgrade": { path: "ansible/README.md", shift: 1, only: "Upgrade and rollback" },
  "deploy-upgrade": { path: "deploy/README.md", shift: 1, only: "Upgrade and rollback" },
  // Benchmarks: how to run them, and the latest results table with the machine it was measured on.
  bench: { path: "bench/README.md", shift: 0 },
  "bench-results": { path: "bench/results/latest.md", shift: 1, title: true },
};

function sections(): Record<string, () => string> {
  const out: Record<string, () => string> = { config: configTable, rules: rulesTable };
  for (const [name, inc] of Object.entries(INCLUDED)) out[name] = () => renderInclude(inc);
  return out;
}

const MARKED = /(<!-- generated:([a-z-]+) -->\n)[\s\S]*?(<!-- \/generated:\2 -->)/g;

/** Names of the generated sections `text` has markers for, in order. */
export function sectionsIn(text: string): string[] {
  return [...text.matchAll(MARKED)].map((m) => m[2]!);
}

/** `text` with every generated section it has markers for rewritten from its source. */
export function regenerate(text: string): string {
  const known = sections();
  return text.replace(MARKED, (_m, open: string, name: string, close: string) => {
    const make = known[name];
    if (!make) throw new Error(`unknown generated section "${name}" (known: ${Object.keys(known).join(", ")})`);
    return `${open}${make()}\n${close}`;
  });
}

/** Every Markdown file that may hold generated sections, relative to the repository root. */
export function docPaths(): string[] {
  return [
    "README.md",
    ...readdirSync(join(root, "docs"))
      .filter((f) => f.endsWith(".md"))
      .sort()
      .map((f) => `docs/${f}`),
  ];
}

export const DIAGRAM_PATH = "docs/images/architecture.svg";

/** Every generated file with its current and regenerated text. */
export function generated(): { path: string; current: string; next: string }[] {
  const read = (p: string) => {
    try {
      return readFileSync(join(root, p), "utf8");
    } catch {
      return "";
    }
  };
  const docs = docPaths().map((path) => ({ path, current: read(path), next: regenerate(read(path)) }));
  return [...docs, { path: DIAGRAM_PATH, current: read(DIAGRAM_PATH), next: renderDiagram(ARCHITECTURE) }];
}

/** Each known section must be placed exactly once across README.md and docs/ (none lost in a move). */
export function placementProblems(): string[] {
  const where = new Map<string, string[]>();
  for (const path of docPaths())
    for (const name of sectionsIn(readFileSync(join(root, path), "utf8"))) where.set(name, [...(where.get(name) ?? []), path]);
  return Object.keys(sections()).flatMap((name) => {
    const at = where.get(name) ?? [];
    return at.length === 1 ? [] : [`section "${name}" is placed ${at.length} times${at.length ? ` (${at.join(", ")})` : ""}`];
  });
}

if (import.meta.main) {
  const problems = placementProblems();
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  const stale = generated().filter((f) => f.next !== f.current);
  if (process.argv.includes("--check")) {
    if (stale.length) {
      console.error(`out of date: ${stale.map((f) => f.path).join(", ")} — run \`npm run docs\``);
      process.exit(1);
    }
  } else {
    for (const f of stale) {
      writeFileSync(join(root, f.path), f.next);
      console.log(`${f.path} regenerated`);
    }
  }
}
