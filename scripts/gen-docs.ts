// Regenerates the generated sections of README.md from their single sources:
// the configuration table from src/config/schema.ts and the rules table from src/watchers/RULES.md.
// `bun scripts/gen-docs.ts --check` exits 1 when README.md is out of date (run by the tests).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SCHEMA } from "../src/config/schema.ts";

const root = join(import.meta.dir, "..");
const readmePath = join(root, "README.md");

export function configTable(): string {
  const rows = SCHEMA.map((k) => `| \`${k.key}\` | ${k.type}${k.secret ? " (secret)" : ""} | ${k.default === "" ? "—" : `\`${k.default}\``} | ${k.doc.replace(/\|/g, "\\|")} |`);
  return ["| Key | Type | Default | Meaning |", "|---|---|---|---|", ...rows].join("\n");
}

function rulesTable(): string {
  // RULES.md stands alone with its own title; inside README it sits under "## Rules".
  const text = readFileSync(join(root, "src/watchers/RULES.md"), "utf8").trim();
  return text.replace(/^# .*\n+/, "").replace(/^(#{2,}) /gm, "#$1 ");
}

/** A component's own README, headings shifted two levels down to sit under a README section. */
const included = (path: string) => () => {
  let fenced = false;
  return readFileSync(join(root, path), "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      if (line.startsWith("```")) fenced = !fenced;
      return !fenced && /^#{1,4} /.test(line) ? `##${line}` : line;
    })
    .join("\n");
};

export const INCLUDED: Record<string, string> = {
  alerting: "src/alerting/README.md",
  channels: "src/channels/README.md",
  agent: "agent/README.md",
};

export function regenerate(readme: string): string {
  const sections: Record<string, () => string> = { config: configTable, rules: rulesTable };
  for (const [name, path] of Object.entries(INCLUDED)) sections[name] = included(path);
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
