// README.md embeds bench/results/latest.md: refreshed with every bench run so the two never disagree.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { regenerate } from "../../scripts/gen-docs.ts";

export function regenerateReadme(): void {
  const path = join(import.meta.dir, "../../README.md");
  writeFileSync(path, regenerate(readFileSync(path, "utf8")));
}
