// The README's generated sections (rules, configuration, component docs) match their single sources.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { regenerate } from "../../../scripts/gen-docs.ts";
import { SCHEMA } from "../../../src/config/schema.ts";
import { COMMANDS } from "../../../src/cli/registry.ts";

const readme = readFileSync(join(import.meta.dir, "../../../README.md"), "utf8");

test("README generated sections are current (run `bun scripts/gen-docs.ts`)", () => {
  expect(regenerate(readme) === readme).toBe(true);
});

test("README documents every config key and every command, and the two quick-start commands", () => {
  for (const k of SCHEMA) expect(readme).toContain(`\`${k.key}\``);
  for (const c of COMMANDS) expect(readme).toContain(`\`${c.name}`);
  expect(readme).toContain("npm install && npm start");
  expect(readme).toContain("npm test");
});
