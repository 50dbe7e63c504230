// Re-renders the Markdown tables from a stored result (after a change to the report's wording or rows)
// (bench/results/ only; `npm run docs` publishes latest.md):  bun bench/render.ts bench/results/full-<date>.json
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checks, markdown } from "./lib/report.ts";

const file = process.argv[2];
if (!file) {
  console.error("usage: bun bench/render.ts bench/results/<profile>-<date>.json");
  process.exit(2);
}
const result = JSON.parse(readFileSync(file, "utf8"));
const md = markdown(result, checks(result));
const dir = join(import.meta.dir, "results");
writeFileSync(join(dir, "latest.md"), md);
writeFileSync(join(dir, `${result.profile}.md`), md);
console.log(md);
