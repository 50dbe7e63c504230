// Issue 10 item 6: a server that is not Kubernetes (a web page, another JSON API, a 200 with garbage)
// is an error — for discovery, for scan's one-shot listing and for the controller's readiness — never
// an empty, healthy cluster. Real HTTP servers answer those bodies.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Config } from "../../src/config/load.ts";
import { scanCluster } from "../../src/controller/snapshot.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { chooseResource, verifyKubernetes } from "../../src/kube/discovery.ts";
import { loadConnection } from "../../src/kube/kubeconfig.ts";
import { NotKubernetesError } from "../../src/kube/schemas.ts";
import { VERSION_INFO } from "../../src/sim/discovery.ts";
import { ControllerProcess } from "../support/controller.ts";
import { waitFor } from "../../testkit/wait.ts";
import { PODS } from "./refs.ts";

type Answer = { status?: number; type: string; body: string };
const html: Answer = { type: "text/html", body: "<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>" };
const hello: Answer = { type: "application/json", body: '{"hello":"world"}' };
const garbageJson: Answer = { type: "application/json", body: "\u0000\u0001 not json {{{" };
const garbageText: Answer = { type: "text/plain", body: "OK" };
const notFound: Answer = { status: 404, type: "text/plain", body: "404 page not found" };
const json = (v: unknown): Answer => ({ type: "application/json", body: JSON.stringify(v) });

/** A plain HTTP server answering `answers[path]` (or `fallback`) to every GET. */
function serve(answers: Record<string, Answer>, fallback: Answer) {
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const a = answers[new URL(req.url).pathname] ?? fallback;
      return new Response(a.body, { status: a.status ?? 200, headers: { "content-type": a.type } });
    },
  });
}

function kubeconfigFor(url: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "nc-notkube-")), "kubeconfig");
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${url}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
  );
  return file;
}

const clientFor = (url: string) => new KubeClient(loadConnection({ kubeconfig: kubeconfigFor(url), env: {} })!);

const CASES: [string, Record<string, Answer>, Answer][] = [
  ["an HTML page", {}, html],
  ['{"hello":"world"}', {}, hello],
  ["a 200 with garbage labelled JSON", {}, garbageJson],
  ["a 200 with plain text", {}, garbageText],
  ["404 for everything", {}, notFound],
  ["a /version but an /api of another shape", { "/version": json(VERSION_INFO), "/api": json({ versions: "v1" }) }, hello],
  ["a /version with numbers for strings", { "/version": json({ major: 1, minor: 31, gitVersion: 7 }) }, hello],
];

describe("verifyKubernetes and scan refuse what is not Kubernetes", () => {
  for (const [what, answers, fallback] of CASES) {
    test(what, async () => {
      const server = serve(answers, fallback);
      try {
        const client = clientFor(server.url.origin);
        const err = await verifyKubernetes(client).catch((e) => e);
        expect(err).toBeInstanceOf(NotKubernetesError);
        expect(err.message).toContain(server.url.origin);
        expect(err.message).toContain("does not answer as a Kubernetes API server");
        const scan = await scanCluster(client, Config.load({ env: {} }), Date.now()).catch((e) => e);
        expect(scan).toBeInstanceOf(NotKubernetesError);
      } finally {
        server.stop(true);
      }
    });
  }

  test("group discovery of another shape is an error, not 'nothing served'", async () => {
    const server = serve({ "/version": json(VERSION_INFO), "/api": json({ kind: "APIVersions", versions: ["v1"] }) }, hello);
    try {
      const client = clientFor(server.url.origin);
      expect((await verifyKubernetes(client)).gitVersion).toBe(VERSION_INFO.gitVersion);
      await expect(chooseResource(client, [PODS])).rejects.toBeInstanceOf(NotKubernetesError);
      // A 404 for a group/version stays "not served" (older servers): that is Kubernetes' own answer.
    } finally {
      server.stop(true);
    }
  });

  test("a list body that is not a list is an error, not an empty list", async () => {
    const server = serve({ "/api/v1/pods": hello }, hello);
    try {
      await expect(clientFor(server.url.origin).list(PODS)).rejects.toMatchObject({ reason: "InvalidResponse" });
    } finally {
      server.stop(true);
    }
  });
});

describe("the controller against a server that is not Kubernetes", () => {
  let server: ReturnType<typeof serve>;
  let ctl: ControllerProcess;
  beforeAll(async () => {
    server = serve({}, html);
    ctl = await ControllerProcess.start("source", kubeconfigFor(server.url.origin), { LEADER_ELECTION: "false" });
  });
  afterAll(async () => {
    await ctl?.stop();
    server?.stop(true);
  });

  test("stays alive but not ready, and /readyz and the log say why", async () => {
    const body = await waitFor(
      async () => {
        const r = await fetch(`${ctl.url}/readyz?verbose`).catch(() => undefined);
        const text = await r?.text();
        return r?.status === 503 && text?.includes("does not answer as a Kubernetes API server") ? text : undefined;
      },
      { timeoutMs: 20_000, message: () => `/readyz 503 naming the problem (stderr: ${ctl.stderr.slice(-1500)})` },
    );
    expect(body).toContain(server.url.origin);
    expect((await fetch(`${ctl.url}/healthz`)).status).toBe(200);
    await waitFor(() => ctl.stderr.includes("does not answer as a Kubernetes API server"), { message: "the error in the log" });
    expect(ctl.stderr).not.toContain('"controller started"');
  });
});
