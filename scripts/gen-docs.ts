// Regenerates the generated sections of README.md from their single sources: the configuration table
// from src/config/schema.ts, the rules table from src/watchers/RULES.md, and the component READMEs
// (systemd/, image/, ansible/, deploy/, bench/ with its latest results, alerting, channels, agent).
// `bun scripts/gen-docs.ts --check` exits 1 when README.md is out of date (run by the tests).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acceptedValues } from "../src/config/accepted.ts";
import { SCHEMA } from "../src/config/schema.ts";

const root = join(import.meta.dir, "..");
const readmePath = join(root, "README.md");

export function configTable(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = SCHEMA.map((k) => `| \`${k.key}\` | ${cell(acceptedValues(k))}${k.secret ? " (secret)" : ""} | ${k.default === "" ? "—" : `\`${k.default}\``} | ${cell(k.doc)} |`);
  return ["| Key | Accepted values | Default | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}

function rulesTable(): string {
  // RULES.md stands alone with its own title; inside README it sits under "## Rules".
  const text = readFileSync(join(root, "src/watchers/RULES.md"), "utf8").trim();
  return text.replace(/^# .*\n+/, "").replace(/^(#{2,}) /gm, "#$1 ");
}

/**
 * How a component's own Markdown file is shown inside README.md. Headings move down `shift` levels
 * (outside code fences) so they nest under the README section that includes them.
 */
export interface Include {
  path: string;
  shift: number;
  /** Keep the file's own `# ` title (otherwise README's heading above the markers introduces it). */
  title?: boolean;
  /** Only the body of this `## ` section, without its heading (README has its own heading for it). */
  only?: string;
  /** `## ` sections left out here because README shows them under another heading. */
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

/** Sections of README.md copied from other files (`<!-- generated:NAME -->` … `<!-- /generated:NAME -->`). */
export const INCLUDED: Record<string, Include> = {
  alerting: { path: "src/alerting/README.md", shift: 2, title: true },
  channels: { path: "src/channels/README.md", shift: 2, title: true },
  agent: { path: "agent/README.md", shift: 2, title: true },
  // Install / Flash / Provision / Run on K3s / Operate / Upgrade and rollback
  systemd: { path: "systemd/README.md", shift: 1, omit: ["Operate", "Upgrade and rollback"] },
  image: { path: "image/README.md", shift: 1 },
  ansible: { path: "ansible/README.md", shift: 1, omit: ["Upgrade and rollback"] },
  deploy: { path: "deploy/README.md", shift: 1, omit: ["Upgrade and rollback"] },
  "systemd-operate": { path: "systemd/README.md", shift: 0, only: "Operate" },
  "systemd-upgrade": { path: "systemd/README.md", shift: 1, only: "Upgrade and rollback" },
  "ansible-upgrade": { path: "ansible/README.md", shift: 1, only: "Upgrade and rollback" },
  "deploy-upgrade": { path: "deploy/README.md", shift: 1, only: "Upgrade and rollback" },
  // Benchmarks: how to run them, and the latest results table with the machine it was measured on.
  bench: { path: "bench/README.md", shift: 1 },
  "bench-results": { path: "bench/results/latest.md", shift: 1, title: true },
};

export function regenerate(readme: string): string {
  const sections: Record<string, () => string> = { config: configTable, rules: rulesTable };
  for (const [name, inc] of Object.entries(INCLUDED)) sections[name] = () => renderInclude(inc);
  let out = readme;
  for (const [name, make] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`README.md lacks the markers for the generated ${name} section`);
    out = out.replace(re, (_m, a: string, b: string) => `${a}${make()}\n${b}`);
  }
  return out;
}

if (import.meta.main) {
  const current = readFileSync(readmePath, "utf8");
  const next = regenerate(current);
  if (process.argv.includes("--check")) {
    if (next !== current) {
      console.error("README.md is out of date: run `bun scripts/gen-docs.ts`");
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(readmePath, next);
    console.log("README.md regenerated");
  }
}
