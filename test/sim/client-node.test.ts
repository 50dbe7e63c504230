// The real @kubernetes/client-node informer against the simulator.
// TLS IS SKIPPED HERE ON PURPOSE: under Bun, client-node 2.x drops the kubeconfig's CA and client
// certificate (Bun's undici stub ignores the dispatcher), so it cannot do mTLS at all; this test uses a
// plain-HTTP simulator (client-node insists on skipTLSVerify for http: URLs) to prove the wire protocol (list, chunked watch, resourceVersion) is what
// client-node expects. mTLS is covered by auth.test.ts with Bun fetch.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from "@kubernetes/client-node";
import type { Simulator } from "../../src/sim/index.ts";
import { waitFor } from "../../testkit/wait.ts";
import { pod, start } from "./helpers.ts";

describe("@kubernetes/client-node informer (plain HTTP, TLS skipped: client-node ignores TLS options under Bun)", () => {
  let sim: Simulator;
  let kc: KubeConfig;
  beforeAll(async () => {
    sim = await start({ tls: false });
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "sim", server: sim.url, skipTLSVerify: true }],
      users: [{ name: "anon" }],
      contexts: [{ name: "sim", cluster: "sim", user: "anon" }],
      currentContext: "sim",
    });
  });
  afterAll(() => sim.stop());

  test("list + watch deliver add, update and delete callbacks", async () => {
    sim.store.create(pod("before"));
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer(kc, "/api/v1/namespaces/default/pods", () => core.listNamespacedPod({ namespace: "default" }));
    const added: string[] = [];
    const updated: string[] = [];
    const deleted: string[] = [];
    const errors: unknown[] = [];
    informer.on("add", (p: V1Pod) => added.push(p.metadata!.name!));
    informer.on("update", (p: V1Pod) => updated.push(`${p.metadata!.name}:${p.status?.phase}`));
    informer.on("delete", (p: V1Pod) => deleted.push(p.metadata!.name!));
    informer.on("error", (e: unknown) => errors.push(e));
    await informer.start();
    try {
      await waitFor(() => added.includes("before"), { message: () => `adds: ${added}` });
      await waitFor(() => sim.stats().openWatches === 1, { message: "informer watch not open" });

      sim.store.create(pod("live"));
      await waitFor(() => added.includes("live"), { message: () => `adds: ${added}` });
      sim.store.patchStatus("pods", "default", "live", (s) => void (s.phase = "Failed"));
      await waitFor(() => updated.includes("live:Failed"), { message: () => `updates: ${updated}` });
      sim.store.delete("pods", "default", "live");
      await waitFor(() => deleted.includes("live"), { message: () => `deletes: ${deleted}` });

      expect(informer.list().map((p) => p.metadata!.name)).toEqual(["before"]);

      // Stream closed after a compaction: the re-watch from its old RV gets ERROR 410 and it relists.
      const watchesBefore = sim.stats().watches;
      sim.faults.compact();
      sim.store.create(pod("after-compact"));
      sim.faults.closeWatches();
      await waitFor(() => added.includes("after-compact"), { message: () => `adds: ${added}, stats ${JSON.stringify(sim.stats())}` });
      expect(sim.stats().watches).toBeGreaterThan(watchesBefore);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
