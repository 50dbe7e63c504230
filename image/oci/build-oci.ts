// Assembles an OCI image (image-layout tar) for the K3s in-cluster fallback from the compiled binary and
// exactly the shared libraries it needs — no base image, no registry pull:
//
//   bun image/oci/build-oci.ts --arch arm64 [--out dist/neurocontroller-oci-arm64.tar] [--tag localhost/neurocontroller:0.1.0]
//   sudo k3s ctr images import dist/neurocontroller-oci-arm64.tar
//
// Libraries: the binary's ELF NEEDED entries and interpreter (readelf), resolved recursively in the
// target's library directories (host multiarch dir for amd64, libc6-arm64-cross's sysroot for arm64),
// plus libbpf.so.1 + its own NEEDED when present (the agent dlopen()s it through bun:ffi, so it is not
// in NEEDED). The layer is reproducible: sorted entries, mtime 0, numeric owners, gzip -n.
import { $ } from "bun";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { foreignAgentLibDirs } from "./foreign-libs.ts";

export type Arch = "amd64" | "arm64";
const TRIPLET: Record<Arch, string> = { amd64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };
const LIB_DIRS: Record<Arch, string[]> = {
  amd64: ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64"],
  arm64: ["/usr/aarch64-linux-gnu/lib"],
};
const NONROOT = 65532; // the Deployment's runAsUser

async function readelf(file: string): Promise<{ needed: string[]; interp?: string }> {
  const dyn = (await $`readelf -d ${file}`.quiet().nothrow()).stdout.toString();
  const prog = (await $`readelf -l ${file}`.quiet().nothrow()).stdout.toString();
  return {
    needed: [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!),
    interp: /Requesting program interpreter: ([^\]]+)\]/.exec(prog)?.[1],
  };
}

/** soname → host path of every library the binary (and the optional extras) need, recursively. */
export async function libraryClosure(binary: string, arch: Arch, extras: string[] = ["libbpf.so.1"], extraDirs: string[] = []) {
  const found = new Map<string, string>();
  const missing: string[] = [];
  const dirs = [...LIB_DIRS[arch], ...extraDirs];
  const find = (soname: string) => dirs.map((d) => join(d, soname)).find((p) => existsSync(p));
  const visit = async (file: string) => {
    for (const so of (await readelf(file)).needed) {
      if (found.has(so)) continue;
      const p = find(so);
      if (!p) {
        missing.push(so);
        continue;
      }
      found.set(so, p);
      await visit(p);
    }
  };
  const { interp } = await readelf(binary);
  if (!interp) throw new Error(`${binary} has no ELF interpreter (not a dynamically linked binary?)`);
  await visit(binary);
  const optional: string[] = [];
  for (const so of extras) {
    const p = find(so);
    if (!p) optional.push(so);
    else if (!found.has(so)) found.set(so, p), await visit(p);
  }
  if (missing.length) throw new Error(`libraries not found for ${arch}: ${missing.join(", ")}`);
  return { interp, libs: found, optionalMissing: optional };
}

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

export interface OciResult {
  archive: string;
  manifestDigest: string;
  layerBytes: number;
  libs: string[];
  optionalMissing: string[];
}

export async function buildOci(opts: { arch: Arch; binary: string; out: string; tag: string; version: string }): Promise<OciResult> {
  const { arch, binary, out, tag } = opts;
  const work = mkdtempSync(join(tmpdir(), "neuro-oci-"));
  try {
    const stage = join(work, "rootfs");
    // The agent's libbpf for arm64 is not in the cross sysroot: take Debian's arm64 packages.
    const hasLibbpf = LIB_DIRS[arch].some((d) => existsSync(join(d, "libbpf.so.1")));
    const agentDirs = hasLibbpf ? [] : await foreignAgentLibDirs(arch, TRIPLET[arch]);
    const { interp, libs, optionalMissing } = await libraryClosure(binary, arch, ["libbpf.so.1"], agentDirs);
    const put = (path: string, src: string | { text: string }, mode = 0o644) => {
      const dst = join(stage, path);
      mkdirSync(dirname(dst), { recursive: true });
      if (typeof src === "string")
        copyFileSync(src, dst); // copies the target of symlinks: one file per soname
      else writeFileSync(dst, src.text);
      chmodSync(dst, mode);
    };
    put("usr/local/bin/neurocontroller", binary, 0o755);
    const interpSrc = LIB_DIRS[arch].map((d) => join(d, interp.split("/").pop()!)).find((p) => existsSync(p)) ?? interp;
    put(interp.slice(1), interpSrc, 0o755);
    const libDir = `usr/lib/${TRIPLET[arch]}`;
    for (const [so, p] of libs) put(`${libDir}/${so}`, p);
    put("etc/passwd", { text: `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/nonexistent:/sbin/nologin\n` });
    put("etc/group", { text: `root:x:0:\nnonroot:x:${NONROOT}:\n` });
    if (existsSync("/etc/ssl/certs/ca-certificates.crt")) put("etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt");
    // Mount points the runtime fills (a compiled Bun binary reads its payload via /proc/self/exe).
    for (const d of ["proc", "sys", "dev", "tmp", "var/log/neurocontroller", "var/lib/neurocontroller", "run/neurocontroller"])
      mkdirSync(join(stage, d), { recursive: true });
    chmodSync(join(stage, "tmp"), 0o1777);
    for (const d of ["var/log/neurocontroller", "var/lib/neurocontroller"]) chownSync(join(stage, d), NONROOT, NONROOT);

    const layerTar = join(work, "layer.tar");
    await $`tar --sort=name --mtime=@0 --numeric-owner --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf ${layerTar} -C ${stage} .`.quiet();
    await $`gzip -n -6 ${layerTar}`.quiet();
    const diffId = sha256(
      await $`gzip -dc ${layerTar}.gz`
        .quiet()
        .arrayBuffer()
        .then((b) => new Uint8Array(b)),
    );
    const layer = readFileSync(`${layerTar}.gz`);

    const layout = join(work, "layout");
    const blobs = join(layout, "blobs/sha256");
    mkdirSync(blobs, { recursive: true });
    const blob = (data: Uint8Array | string) => {
      const digest = sha256(data);
      writeFileSync(join(blobs, digest), data);
      return { digest: `sha256:${digest}`, size: typeof data === "string" ? Buffer.byteLength(data) : data.byteLength };
    };
    const layerDesc = blob(layer);
    const config = JSON.stringify({
      created: "1970-01-01T00:00:00Z",
      architecture: arch,
      os: "linux",
      config: {
        Entrypoint: ["/usr/local/bin/neurocontroller"],
        Cmd: ["controller"],
        User: `${NONROOT}:${NONROOT}`,
        WorkingDir: "/",
        // LD_LIBRARY_PATH: the cross sysroot's loader does not search the multiarch dir by default,
        // and bun:ffi's dlopen("libbpf.so.1") must find the copy in the image.
        Env: [
          "PATH=/usr/local/bin:/usr/bin:/bin",
          `LD_LIBRARY_PATH=/${libDir}`,
          "NEURO_LOG_DIR=/var/log/neurocontroller",
          "NEURO_STATE_DIR=/var/lib/neurocontroller",
        ],
        ExposedPorts: { "9873/tcp": {} },
        Labels: { "org.opencontainers.image.version": opts.version },
      },
      rootfs: { type: "layers", diff_ids: [`sha256:${diffId}`] },
      history: [{ created: "1970-01-01T00:00:00Z", created_by: "image/oci/build-oci.ts" }],
    });
    const configDesc = blob(config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configDesc },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layerDesc }],
    });
    const manifestDesc = blob(manifest);
    writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(
      join(layout, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            ...manifestDesc,
            platform: { architecture: arch, os: "linux" },
            // containerd (k3s ctr images import) names the image from io.containerd.image.name.
            annotations: { "io.containerd.image.name": tag, "org.opencontainers.image.ref.name": tag.split(":").pop()! },
          },
        ],
      }),
    );
    mkdirSync(dirname(out), { recursive: true });
    await $`tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -cf ${out} -C ${layout} oci-layout index.json blobs`.quiet();
    return { archive: out, manifestDigest: manifestDesc.digest, layerBytes: layerDesc.size, libs: [...libs.keys()], optionalMissing };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1]! : d);
  const root = resolve(import.meta.dir, "../..");
  const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  const arch = flag("arch", process.arch === "arm64" ? "arm64" : "amd64") as Arch;
  if (!(arch in TRIPLET)) throw new Error(`--arch must be amd64 or arm64`);
  const binary = resolve(flag("binary", join(root, `dist/neurocontroller-linux-${arch === "amd64" ? "x64" : "arm64"}`)));
  if (!existsSync(binary)) throw new Error(`${binary} missing: run npm run build first`);
  const r = await buildOci({
    arch,
    binary,
    out: resolve(flag("out", join(root, `dist/neurocontroller-oci-${arch}.tar`))),
    tag: flag("tag", `localhost/neurocontroller:${version}`),
    version,
  });
  console.log(`wrote ${r.archive} (${(statSync(r.archive).size / 1e6).toFixed(1)} MB, manifest ${r.manifestDigest})`);
  console.log(`libraries: ${r.libs.join(", ")}`);
  if (r.optionalMissing.length)
    console.warn(
      `warning: ${r.optionalMissing.join(", ")} not found for ${arch}: the agent cannot load eBPF from this image (the controller is unaffected)`,
    );
}
