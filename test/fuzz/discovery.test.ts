// Fuzz target: discovery parsing (src/kube/discovery.ts). Whatever /version, /api and /api/v1 answer,
// verifyKubernetes and servedResources either give well-formed results or fail with NotKubernetesError
// naming the server — never a TypeError, never an empty "healthy" cluster from a body of another shape.
// The transport is replaced (named: AnswersClient) so 10,000 answers run in seconds; the real HTTP path
// is tested in test/kube/not-kubernetes.test.ts.
import { expect, test } from "bun:test";
import { KubeApiError } from "../../src/kube/api-error.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { clearDiscoveryCache, servedResources, verifyKubernetes } from "../../src/kube/discovery.ts";
import { NotKubernetesError } from "../../src/kube/schemas.ts";
import { fc, fuzzAsync } from "./support.ts";

/** A KubeClient whose `request` returns generated answers per path instead of doing HTTP (a stand-in transport). */
class AnswersClient extends KubeClient {
  answers: Record<string, unknown> = {};
  constructor() {
    super({ server: "https://fuzz.invalid:6443", tls: { rejectUnauthorized: true } } as never);
  }
  override async request<T = any>(_method: string, path: string): Promise<T> {
    const a = this.answers[path];
    if (a instanceof Error) throw a;
    return a as T;
  }
}

const loose = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const resource = fc.oneof(
  loose,
  fc.record({ name: loose, kind: loose, namespaced: loose, verbs: loose }, { requiredKeys: [] }),
  fc.record({ name: fc.constantFrom("pods", "nodes", "pods/status", ""), kind: fc.constantFrom("Pod", "Node"), namespaced: fc.boolean() }),
);
const answer = (good: unknown) =>
  fc.oneof(
    fc.constant(good),
    loose,
    fc.constantFrom("<html><body>hello</body></html>", "", '{"hello":"world"}'),
    fc.constant(new KubeApiError(404, "NotFound", "404 page not found")),
    fc.constant(new KubeApiError(200, "InvalidResponse", "answer is not valid JSON")),
  );
const server = fc.record({
  version: answer({ major: "1", minor: "31", gitVersion: "v1.31.0" }),
  api: fc.oneof(
    answer({ kind: "APIVersions", versions: ["v1"] }),
    fc.record({ kind: loose, versions: fc.oneof(loose, fc.array(loose, { maxLength: 3 })) }, { requiredKeys: [] }),
  ),
  v1: fc.oneof(
    answer({ kind: "APIResourceList", groupVersion: "v1", resources: [] }),
    fc.record({ groupVersion: loose, resources: fc.oneof(loose, fc.array(resource, { maxLength: 4 })) }, { requiredKeys: [] }),
  ),
});

test("discovery: any answers → a well-formed result or NotKubernetesError / the transport's own error; never a TypeError", async () => {
  const client = new AnswersClient();
  await fuzzAsync("discovery", 0xd15c, server, async ({ version, api, v1 }) => {
    client.answers = { "/version": version, "/api": api, "/api/v1": v1 };
    clearDiscoveryCache(client);
    const verified = await verifyKubernetes(client).catch((e: unknown) => e);
    if (verified instanceof Error) {
      expect(verified instanceof NotKubernetesError || verified instanceof KubeApiError).toBe(true);
      if (verified instanceof NotKubernetesError) expect(verified.message).toContain("https://fuzz.invalid:6443");
    } else expect(typeof (verified as { gitVersion: unknown }).gitVersion).toBe("string");
    const served = await servedResources(client).catch((e: unknown) => e);
    if (served instanceof Error) {
      expect(served instanceof NotKubernetesError || served instanceof KubeApiError).toBe(true);
      return;
    }
    // Only a well-formed APIResourceList (or a 404: not served) gives a result.
    for (const [key, r] of served as Map<string, { name: string; kind: string; namespaced: boolean }>) {
      expect(key).toBe(`v1/${r.name}`);
      expect(r.name).not.toContain("/");
      expect([typeof r.kind, typeof r.namespaced]).toEqual(["string", "boolean"]);
    }
  });
}, 60_000);
