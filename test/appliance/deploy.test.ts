// deploy/ (K3s in-cluster fallback): every manifest validates against the Kubernetes schemas
// (kubernetes-models), the kustomize output has the promised shape (limits, securityContext, probes on
// the port the controller listens on), the RBAC is exactly what the code uses (derived from the
// watcher registry, so it cannot drift), the ConfigMap carries every seed key and passes check-config,
// and the OCI image archive is a well-formed image layout whose rootfs really runs the binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ConfigMap, Namespace, Secret, ServiceAccount } from "kubernetes-models/v1";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { buildOci, type Arch } from "../../image/oci/build-oci.ts";
import { SCHEMA, type KeyDecl } from "../../src/config/schema.ts";
import { PLUGINS } from "../../src/watchers/registry.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DEPLOY = join(ROOT, "deploy");
const log = (s: string) => console.log(`[deploy] ${s}`);

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };
const MODELS: Record<string, new (d: any) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "apps/v1/Deployment": Deployment,
  "apps/v1/DaemonSet": DaemonSet,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
};
const parseAll = (text: string): Doc[] =>
  text
    .split(/^---$/m)
    .map((t) => Bun.YAML.parse(t) as Doc)
    .filter(Boolean);
function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

describe("deploy/ manifests", () => {
  let docs: Doc[];
  const one = (kind: string, name?: string) => {
    const d = docs.find((x) => x.kind === kind && (!name || x.metadata.name === name));
    if (!d) throw new Error(`no ${kind} ${name ?? ""} in kubectl kustomize output`);
    return d;
  };

  beforeAll(() => {
    const r = Bun.spawnSync(["kubectl", "kustomize", DEPLOY], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`kubectl kustomize failed: ${r.stderr}`);
    docs = parseAll(r.stdout.toString());
  });

  test("every file in deploy/ and every rendered object validates against the Kubernetes schemas", () => {
    const files = readdirSync(DEPLOY).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    for (const f of files) for (const d of parseAll(readFileSync(join(DEPLOY, f), "utf8"))) validate(d);
    for (const d of docs) validate(d);
    // negative control: the validator does reject a broken object
    expect(() => validate({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: { replicas: "one" } })).toThrow(/replicas/);
    log(`${files.length} files, ${docs.length} rendered objects valid`);
  });

  test("kustomize renders every kind into the neurocontroller namespace; healing RBAC is not included", () => {
    const kinds = new Set(docs.map((d) => d.kind));
    for (const k of [
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
      "ConfigMap",
      "Secret",
      "Deployment",
      "DaemonSet",
    ])
      expect(kinds.has(k)).toBe(true);
    for (const d of docs)
      if (!["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(d.kind)) expect(d.metadata.namespace).toBe("neurocontroller");
    expect(docs.some((d) => d.metadata.name === "neurocontroller-heal")).toBe(false);
    const heal = parseAll(readFileSync(join(DEPLOY, "healing/rbac-heal.yaml"), "utf8")).find((d) => d.kind === "ClusterRole")!;
    expect(heal.rules).toEqual([
      { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
      { apiGroups: [""], resources: ["nodes"], verbs: ["patch", "update"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
    ]);
  });

  test("the read-only ClusterRole grants get/list/watch on exactly the resources the watchers use", () => {
    const role = one("ClusterRole", "neurocontroller-read");
    const granted = new Set<string>();
    for (const r of role.rules.filter((r: any) => r.resources)) {
      expect([...r.verbs].sort()).toEqual(["get", "list", "watch"]);
      for (const g of r.apiGroups) for (const res of r.resources) granted.add(`${g}/${res}`);
    }
    const used = new Set(PLUGINS.flatMap((p) => p.resources.map((r) => `${r.group}/${r.plural}`)));
    expect([...granted].sort()).toEqual([...used].sort());
    const binding = one("ClusterRoleBinding", "neurocontroller-read");
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "neurocontroller", namespace: "neurocontroller" }]);
  });

  test("the namespaced Role covers the Lease and the shared-state ConfigMaps named by the ConfigMap", () => {
    const cm = one("ConfigMap", "neurocontroller-config").data;
    expect(cm.LEADER_LEASE_NAMESPACE).toBe("neurocontroller");
    const rules = one("Role", "neurocontroller-leader").rules as any[];
    const named = (res: string) => rules.find((r) => r.resources.includes(res) && r.resourceNames);
    expect(named("leases")).toMatchObject({ apiGroups: ["coordination.k8s.io"], resourceNames: [cm.LEADER_LEASE_NAME], verbs: ["get", "update"] });
    expect(named("configmaps").resourceNames.sort()).toEqual([
      `${cm.LEADER_LEASE_NAME}-healing`,
      `${cm.LEADER_LEASE_NAME}-silences`,
      `${cm.LEADER_LEASE_NAME}-state`,
    ]);
    expect(rules.filter((r) => !r.resourceNames).map((r) => r.verbs)).toEqual([["create"], ["create"]]);
  });

  test("ConfigMap: every seed key, only known non-secret keys, and check-config accepts it with the Secret", async () => {
    const cm = one("ConfigMap", "neurocontroller-config").data as Record<string, string>;
    const secret = one("Secret", "neurocontroller-credentials").stringData as Record<string, string>;
    const known = new Map<string, KeyDecl>(SCHEMA.map((k) => [k.key, k]));
    const seed = SCHEMA.filter(
      (k) => !k.secret && /^(DIAGNOSIS_|MAIL_|KUBERNETES_API_HEALTH_CHECK_INTERVAL$|ENABLE_(EMAIL|SLACK)_ALERT$|SLACK_)/.test(k.key),
    );
    for (const k of seed) expect(Object.keys(cm)).toContain(k.key);
    for (const k of Object.keys(cm)) expect(`${k}: ${known.has(k) ? (known.get(k)!.secret ? "secret" : "ok") : "unknown"}`).toBe(`${k}: ok`);
    expect(Object.keys(secret).sort()).toEqual(["MAIL_PASSWORD", "MQTT_PASSWORD", "SLACK_WEBHOOK_URL"]);
    for (const k of Object.keys(secret)) expect(known.get(k)?.secret).toBe(true);
    const p = Bun.spawn(["bun", join(ROOT, "src/main.ts"), "check-config"], {
      env: { PATH: process.env.PATH!, HOME: "/nonexistent", ...cm, ...secret },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(err).toBe("");
    expect(out).toContain("configuration is valid");
    expect(code).toBe(0);
  });

  test("Deployment: budget, non-root read-only hardening, probes on the port NEURO_HTTP_ADDR listens on", () => {
    const cm = one("ConfigMap", "neurocontroller-config").data;
    const dep = one("Deployment", "neurocontroller");
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.serviceAccountName).toBe("neurocontroller");
    expect(c.resources).toEqual({ requests: { memory: "128Mi", cpu: "100m" }, limits: { memory: "256Mi", cpu: "200m" } });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(cm.NEURO_HTTP_ADDR).toBe("0.0.0.0:9873");
    expect(c.ports).toEqual([{ name: "http", containerPort: 9873 }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(c.imagePullPolicy).toBe("Never");
    // every writable path is a volume (read-only root filesystem)
    expect(c.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual([cm.NEURO_LOG_DIR, cm.NEURO_STATE_DIR, "/tmp"].sort());
    expect(c.envFrom).toEqual([{ configMapRef: { name: "neurocontroller-config" } }, { secretRef: { name: "neurocontroller-credentials" } }]);
  });

  test("DaemonSet: not privileged, only CAP_BPF + CAP_PERFMON, tracefs mounted read-only, no API token", () => {
    const ds = one("DaemonSet", "neurocontroller-agent");
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args).toEqual(["agent"]);
    expect(c.securityContext.privileged).toBe(false);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext.capabilities).toEqual({ drop: ["ALL"], add: ["BPF", "PERFMON"] });
    expect(c.volumeMounts.find((m: any) => m.mountPath === "/sys/kernel/tracing")).toMatchObject({ readOnly: true });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.resources.limits).toEqual({ memory: "128Mi", cpu: "100m" });
  });
});

describe("OCI image archive (image/oci/build-oci.ts)", () => {
  const work = mkdtempSync(join(tmpdir(), "neuro-oci-test-"));
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  const built: Partial<Record<Arch, string>> = {};
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(async () => {
    const b = Bun.spawnSync(["bun", "scripts/build.ts", "--all", "--no-zst"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (b.exitCode !== 0) throw new Error(`build failed: ${b.stderr}`);
    const started = Date.now();
    await Promise.all(
      (["amd64", "arm64"] as Arch[]).map(async (arch) => {
        const binary = join(ROOT, `dist/neurocontroller-linux-${arch === "amd64" ? "x64" : "arm64"}`);
        const r = await buildOci({ arch, binary, out: join(work, `oci-${arch}.tar`), tag: `localhost/neurocontroller:${version}`, version });
        built[arch] = r.archive;
        log(
          `${arch}: ${(r.layerBytes / 1e6).toFixed(1)} MB layer, libs ${r.libs.join(" ")}${r.optionalMissing.length ? ` (missing optional: ${r.optionalMissing.join(" ")})` : ""}`,
        );
      }),
    );
    log(`both archives in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 180_000);

  for (const arch of ["amd64", "arm64"] as Arch[]) {
    test(`${arch}: a well-formed OCI layout whose rootfs runs the binary`, async () => {
      const dir = join(work, `layout-${arch}`);
      Bun.spawnSync(["mkdir", "-p", dir]);
      expect(Bun.spawnSync(["tar", "-xf", built[arch]!, "-C", dir]).exitCode).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
      const blob = (desc: { digest: string; size: number }) => {
        const data = readFileSync(join(dir, "blobs/sha256", desc.digest.replace("sha256:", "")));
        expect(`sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`).toBe(desc.digest);
        expect(data.byteLength).toBe(desc.size);
        return data;
      };
      const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
      expect(index.schemaVersion).toBe(2);
      const m = index.manifests[0];
      expect(m.platform).toEqual({ architecture: arch, os: "linux" });
      expect(m.annotations["io.containerd.image.name"]).toBe(`localhost/neurocontroller:${version}`);
      const manifest = JSON.parse(blob(m).toString());
      expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
      const config = JSON.parse(blob(manifest.config).toString());
      const layer = blob(manifest.layers[0]);
      const tarBytes = Bun.gunzipSync(layer);
      expect(config.rootfs.diff_ids).toEqual([`sha256:${new Bun.CryptoHasher("sha256").update(tarBytes).digest("hex")}`]);
      expect(config.architecture).toBe(arch);
      expect(config.config.User).toBe("65532:65532");

      // The image's own rootfs runs the binary: chroot for amd64, qemu-user with the rootfs as sysroot for arm64.
      const rootfs = join(dir, "rootfs");
      Bun.spawnSync(["mkdir", "-p", rootfs]);
      await Bun.write(join(dir, "layer.tar"), tarBytes);
      expect(Bun.spawnSync(["tar", "-xf", join(dir, "layer.tar"), "-C", rootfs]).exitCode).toBe(0);
      const env = Object.fromEntries(config.config.Env.map((e: string) => e.split(/=(.*)/s).slice(0, 2)));
      const cmd =
        arch === "amd64"
          ? // like a container runtime: own PID namespace with /proc (Bun reads /proc/self/exe), image user
            [
              "unshare",
              "--fork",
              "--pid",
              "--mount",
              `--mount-proc=${join(rootfs, "proc")}`,
              "/usr/sbin/chroot",
              "--userspec=65532:65532",
              rootfs,
              "/usr/local/bin/neurocontroller",
              "version",
            ]
          : ["qemu-aarch64-static", "-L", rootfs, "-cpu", "cortex-a72", join(rootfs, "usr/local/bin/neurocontroller"), "version"];
      const p = Bun.spawn(cmd, { env, stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      log(`${arch} image rootfs: ${out.trim() || err.trim()}`);
      expect(code).toBe(0);
      expect(out).toContain(`neurocontroller ${version}`);
      // the agent's libraries for both architectures (arm64's come from Debian's arm64 packages)
      for (const so of ["libbpf.so.1", "libelf.so.1", "libz.so.1"])
        expect(existsSync(join(rootfs, `usr/lib/${arch === "amd64" ? "x86_64" : "aarch64"}-linux-gnu/${so}`))).toBe(true);
      if (arch === "arm64") {
        // The image's own arm64 libbpf is what bun:ffi opens; qemu-user cannot emulate bpf() itself, so
        // the self-test gets past the preflight and stops exactly at the first bpf() call.
        const t = Bun.spawn(
          ["qemu-aarch64-static", "-L", rootfs, "-cpu", "cortex-a72", join(rootfs, "usr/local/bin/neurocontroller"), "agent", "--self-test"],
          { env, stdout: "pipe", stderr: "pipe" },
        );
        const [tout, terr, tcode] = await Promise.all([new Response(t.stdout).text(), new Response(t.stderr).text(), t.exited]);
        log(`arm64 image rootfs, agent --self-test under qemu-user: ${tout.trim()} | ${terr.trim().split("\n").pop()}`);
        expect(tout).toMatch(/preflight ok: .*libbpf\.so\.1 \(libbpf v1\.\d+\)/);
        expect(terr).toContain("ENOSYS");
        expect(tcode).toBe(1);
      }
    }, 120_000);
  }
});
