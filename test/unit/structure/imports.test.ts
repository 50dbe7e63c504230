// The layering of src/ as a test: no import cycle between files or between folders, and nothing in src/
// imports the tests or the benchmarks. Imports are read from the source text (static, dynamic and
// re-exports, type-only included: a cycle of types is still a circle in the design).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "../../..");
const srcDir = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^"'`;]*?\sfrom\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Relative specifiers of one file, resolved to repository paths (package imports are left out). */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith(".")) out.push(relative(root, resolve(dirname(file), spec)));
  }
  return out;
}

/** Strongly connected components with more than one member, or a member importing itself (Tarjan). */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** src/alerting/pipeline.ts -> "alerting"; a file directly in src/ is its own unit ("log.ts"). */
const folderOf = (path: string): string => path.split("/").slice(1, 2)[0]!;

const files = sourceFiles(srcDir);
const edges = files.map((f) => ({ from: relative(root, f), to: importsOf(f, readFileSync(f, "utf8")) }));

describe("src/ import graph", () => {
  test("the parser sees every kind of import (positive control)", () => {
    const text = `import a from "./a.ts";\nimport type { B } from "../b.ts";\nexport * from "./c.ts";\nexport { d } from "./d.ts";\nconst e = await import("./e.ts");\nimport "./f.ts";\nimport x from "zod";\n// import g from "./g.ts";`;
    expect(importsOf(join(srcDir, "x/y.ts"), text)).toEqual(["src/x/a.ts", "src/b.ts", "src/x/c.ts", "src/x/d.ts", "src/x/e.ts", "src/x/f.ts"]);
    expect(
      cycles(
        new Map([
          ["a", new Set(["b"])],
          ["b", new Set(["a"])],
          ["c", new Set(["a"])],
        ]),
      ),
    ).toEqual([["a", "b"]]);
    expect(edges.length).toBeGreaterThan(100);
  });

  test("no import cycle between files", () => {
    const graph = new Map(edges.map((e) => [e.from, new Set(e.to.filter((t) => t.startsWith("src/")))]));
    expect(cycles(graph)).toEqual([]);
  });

  test("no import cycle between folders", () => {
    const graph = new Map<string, Set<string>>();
    const why = new Map<string, string>();
    for (const e of edges) {
      const from = folderOf(e.from);
      if (!graph.has(from)) graph.set(from, new Set());
      for (const t of e.to.filter((p) => p.startsWith("src/"))) {
        const to = folderOf(t);
        if (to === from) continue;
        graph.get(from)!.add(to);
        if (!why.has(`${from}->${to}`)) why.set(`${from}->${to}`, `${e.from} imports ${t}`);
      }
    }
    const found = cycles(graph).map((scc) =>
      [...why].filter(([k]) => scc.some((a) => k.startsWith(`${a}->`)) && scc.includes(k.split("->")[1]!)).map(([, v]) => v),
    );
    expect(found).toEqual([]);
  });

  test("src/ imports neither the tests, the benchmarks nor the test kit", () => {
    const bad = edges.flatMap((e) => e.to.filter((t) => /^(test|bench|testkit)\//.test(t)).map((t) => `${e.from} imports ${t}`));
    expect(bad).toEqual([]);
  });

  test("the domain model imports nothing else from src/", () => {
    const bad = edges
      .filter((e) => e.from.startsWith("src/model/"))
      .flatMap((e) => e.to.filter((t) => !t.startsWith("src/model/")).map((t) => `${e.from} imports ${t}`));
    expect(bad).toEqual([]);
  });

  test("the rules are a leaf: only the runtime (src/controller/) and the CLI reach into src/watchers/", () => {
    const bad = edges
      .filter((e) => !/^src\/(watchers|controller|cli)\//.test(e.from))
      .flatMap((e) => e.to.filter((t) => t.startsWith("src/watchers/")).map((t) => `${e.from} imports ${t}`));
    expect(bad).toEqual([]);
  });

  test("SQL stays in src/store/: no other file opens the database or runs a query", () => {
    const bad = files
      .map((f) => [relative(root, f), readFileSync(f, "utf8")] as const)
      .filter(
        ([p, text]) =>
          !p.startsWith("src/store/") &&
          (/from "bun:sqlite"/.test(text) || /\.(query|prepare|exec)\(\s*[`"'](SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA)/i.test(text)),
      )
      .map(([p]) => p);
    expect(bad).toEqual([]);
  });

  test("no src/ file over 350 lines", () => {
    const long = files.map((f) => [relative(root, f), readFileSync(f, "utf8").split("\n").length] as const).filter(([, n]) => n > 350);
    expect(long).toEqual([]);
  });
});

describe("the repository is self-contained", () => {
  test("no code reads outside the repository (the vendored specs live in test/fixtures/spec/)", () => {
    const codeFiles = ["src", "test", "testkit", "bench", "agent", "scripts"].flatMap((d) => sourceFiles(join(root, d)));
    expect(codeFiles.length).toBeGreaterThan(100);
    const bad = codeFiles
      .filter((f) => f !== import.meta.path)
      .filter((f) => /["'`](?:\.\.\/)+shared\/|\/work\/shared|\.\.\/\.\.\/\.\.\/\.\.\//.test(readFileSync(f, "utf8")))
      .map((f) => relative(root, f));
    expect(bad).toEqual([]);
  });
});
