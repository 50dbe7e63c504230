// Reads bun's JUnit report and prints the plain closing line CI recognises: "N passed, N failed".
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2]!;
if (!existsSync(file)) {
  console.log("0 passed, 1 failed");
  process.exit(0);
}
const xml = readFileSync(file, "utf8");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
  const body = m[2] ?? "";
  if (/<(failure|error)\b/.test(body)) failed++;
  else if (/<skipped\b/.test(body)) skipped++;
  else passed++;
}
// Skips on their own line: the last line stays the plain form CI recognises.
if (skipped) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
