// The fuzzing convention (docs/fuzzing.md): fast-check with a fixed seed and 10,000 runs per target,
// the target's saved counter-examples (test/fuzz/regressions/<target>.json) replayed first, and a new
// shrunk counter-example appended to that file when a run fails, so it is replayed from then on.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";

export { fc };

export const REGRESSIONS_DIR = join(import.meta.dir, "regressions");
/** Runs per target; FUZZ_RUNS raises it for a longer local hunt. */
export const NUM_RUNS = Number(process.env.FUZZ_RUNS) || 10_000;

export function regressionsOf<T>(target: string): T[] {
  const file = join(REGRESSIONS_DIR, `${target}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T[]) : [];
}

function saveRegression(target: string, value: unknown): string {
  const file = join(REGRESSIONS_DIR, `${target}.json`);
  mkdirSync(REGRESSIONS_DIR, { recursive: true });
  const list = regressionsOf<unknown>(target);
  list.push(value);
  writeFileSync(file, `${JSON.stringify(list, null, 2)}\n`);
  return file;
}

/**
 * Checks `property` (throws or returns false on failure) on every saved regression of `target`, then
 * on NUM_RUNS generated inputs from `seed` (FUZZ_SEED overrides it). A failure is shrunk to a minimal
 * input, saved as a regression fixture (unless FUZZ_SAVE=0) and reported with the seed and path to replay.
 */
export function fuzz<T>(target: string, seed: number, arbitrary: fc.Arbitrary<T>, property: (value: T) => boolean | void): void {
  for (const value of regressionsOf<T>(target)) {
    if (property(value) === false) throw new Error(`${target}: saved regression fails: ${JSON.stringify(value).slice(0, 500)}`);
  }
  const runSeed = Number(process.env.FUZZ_SEED) || seed;
  const details = fc.check(
    fc.property(arbitrary, (v) => property(v) !== false),
    { seed: runSeed, numRuns: NUM_RUNS },
  );
  if (!details.failed) return;
  const example = details.counterexample?.[0];
  const saved = process.env.FUZZ_SAVE === "0" ? "(not saved: FUZZ_SAVE=0)" : `saved to ${saveRegression(target, example)}`;
  throw new Error(
    `${target}: property failed after ${details.numRuns} runs (seed ${runSeed}, path ${details.counterexamplePath}); shrunk counter-example ${saved}:\n` +
      `${JSON.stringify(example).slice(0, 2000)}\n${details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance)}`,
  );
}

/** `fuzz` for a property that awaits (e.g. a client whose transport is replaced by generated answers). */
export async function fuzzAsync<T>(
  target: string,
  seed: number,
  arbitrary: fc.Arbitrary<T>,
  property: (value: T) => Promise<boolean | void>,
): Promise<void> {
  for (const value of regressionsOf<T>(target)) {
    if ((await property(value)) === false) throw new Error(`${target}: saved regression fails: ${JSON.stringify(value).slice(0, 500)}`);
  }
  const runSeed = Number(process.env.FUZZ_SEED) || seed;
  const details = await fc.check(
    fc.asyncProperty(arbitrary, async (v) => (await property(v)) !== false),
    { seed: runSeed, numRuns: NUM_RUNS },
  );
  if (!details.failed) return;
  const example = details.counterexample?.[0];
  const saved = process.env.FUZZ_SAVE === "0" ? "(not saved: FUZZ_SAVE=0)" : `saved to ${saveRegression(target, example)}`;
  throw new Error(
    `${target}: property failed after ${details.numRuns} runs (seed ${runSeed}, path ${details.counterexamplePath}); shrunk counter-example ${saved}:\n` +
      `${JSON.stringify(example).slice(0, 2000)}\n${details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance)}`,
  );
}
