// A throwaway PKI made with the openssl CLI (no npm crypto dependency): CA, server cert, client cert.
// Files are reused when present so many simulators in one test run pay for openssl once.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SimCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
  serverCert: string;
  serverKey: string;
}

function openssl(dir: string, args: string[]): void {
  const p = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) {
    throw new Error(`sim: openssl ${args[0]} failed (is openssl installed?): ${p.stderr.toString().trim()}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export function ensureCerts(dir: string, host: string): SimCerts {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const hostSan = /^[\d.]+$/.test(host) || host.includes(":") ? `IP:${host}` : `DNS:${host}`;
  const sans = [...new Set([hostSan, "IP:127.0.0.1", "DNS:localhost"])].join(",");
  // A cached server cert only fits when it was made for the same host.
  const stamp = f("server.san");
  const fresh = !existsSync(f("client.key")) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== sans;
  if (fresh) {
    openssl(dir, ["req", "-x509", ...EC, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", "/CN=neurocontroller-sim-ca"]);
    writeFileSync(f("server.ext"), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
    writeFileSync(f("client.ext"), "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n");
    for (const [name, subj, ext] of [
      ["server", "/CN=kube-apiserver", "server.ext"],
      ["client", "/O=system:masters/CN=neurocontroller-sim-admin", "client.ext"],
    ] as const) {
      openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj]);
      openssl(dir, [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        "3650",
        "-extfile",
        ext,
      ]);
    }
    writeFileSync(stamp, sans);
  }
  const read = (n: string) => readFileSync(f(n), "utf8");
  return {
    dir,
    caFile: f("ca.crt"),
    certFile: f("client.crt"),
    keyFile: f("client.key"),
    ca: read("ca.crt"),
    cert: read("client.crt"),
    key: read("client.key"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
  };
}
