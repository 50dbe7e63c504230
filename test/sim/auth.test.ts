// HTTPS with client-certificate and bearer-token authentication, as K3s's API server does it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCerts } from "../../src/sim/certs.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { api, start } from "./helpers.ts";

describe("client certificate auth", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start();
  });
  afterAll(() => sim.stop());

  test("a request with the CA-signed client certificate is served", async () => {
    const r = await api(sim).json("/api/v1/namespaces");
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe("NamespaceList");
  });

  test("a request without a client certificate gets a 401 Status", async () => {
    const r = await fetch(`${sim.url}/api/v1/pods`, { tls: { ca: sim.certs!.ca } } as RequestInit);
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(await r.json()).toMatchObject({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
  });

  test("a client certificate from another CA gets 401", async () => {
    const other = ensureCerts(mkdtempSync(join(tmpdir(), "neurosim-other-")), "127.0.0.1");
    const r = await fetch(`${sim.url}/api/v1/pods`, { tls: { ca: sim.certs!.ca, cert: other.cert, key: other.key } } as RequestInit);
    expect(r.status).toBe(401);
  });

  test("the server certificate does not verify against a foreign CA", async () => {
    const other = ensureCerts(mkdtempSync(join(tmpdir(), "neurosim-other-")), "127.0.0.1");
    await expect(fetch(`${sim.url}/version`, { tls: { ca: other.ca, cert: sim.certs!.cert, key: sim.certs!.key } } as RequestInit)).rejects.toThrow();
  });

  test("kubeconfig embeds CA, client certificate and key", () => {
    const file = sim.kubeconfig();
    const text = readFileSync(file, "utf8");
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect(text).toContain(`server: ${sim.url}`);
    expect(text).toContain(`certificate-authority-data: ${b64(sim.certs!.ca)}`);
    expect(text).toContain(`client-certificate-data: ${b64(sim.certs!.cert)}`);
    expect(text).toContain(`client-key-data: ${b64(sim.certs!.key)}`);
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    expect(kc.getCurrentCluster()?.server).toBe(sim.url);
    expect(Buffer.from(kc.getCurrentUser()!.certData!, "base64").toString()).toBe(sim.certs!.cert);
  });
});

describe("bearer token auth", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await start({ token: "s3cret" });
  });
  afterAll(() => sim.stop());

  test("the right token is accepted without a client certificate", async () => {
    const r = await fetch(`${sim.url}/api/v1/pods`, { headers: { authorization: "Bearer s3cret" }, tls: { ca: sim.certs!.ca } } as RequestInit);
    expect(r.status).toBe(200);
  });

  test("a wrong token without a certificate gets 401", async () => {
    const r = await fetch(`${sim.url}/api/v1/pods`, { headers: { authorization: "Bearer nope" }, tls: { ca: sim.certs!.ca } } as RequestInit);
    expect(r.status).toBe(401);
  });

  test("kubeconfig carries the token", () => {
    expect(readFileSync(sim.kubeconfig(), "utf8")).toContain("token: s3cret");
  });
});

describe("plain HTTP", () => {
  test("tls:false serves without authentication and the kubeconfig has no CA", async () => {
    const sim = await start({ tls: false });
    try {
      expect(sim.url.startsWith("http://")).toBe(true);
      expect(sim.certs).toBeUndefined();
      const r = await fetch(`${sim.url}/version`);
      expect((await r.json()).gitVersion).toBe("v1.31.0+k3s1");
      expect(readFileSync(sim.kubeconfig(join(mkdtempSync(join(tmpdir(), "kc-")), "k.yaml")), "utf8")).not.toContain("certificate-authority-data");
    } finally {
      await sim.stop();
    }
  });
});
