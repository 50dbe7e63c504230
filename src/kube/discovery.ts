// Which resources this API server serves (e.g. EndpointSlices on K3s ≥ 1.21, Endpoints on older ones).
import { describeIssues, type z } from "../boundary/reject.ts";
import { KubeApiError } from "./api-error.ts";
import type { KubeClient } from "./client.ts";
import { APIResourceList, APIVersions, NotKubernetesError, VersionInfo } from "./schemas.ts";
import type { ResourceRef } from "./types.ts";

export interface ServedResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

/** groupVersion ("v1", "apps/v1") → its resources, or null when the group/version is not served (404). */
const caches = new WeakMap<KubeClient, Map<string, Promise<ServedResource[] | null>>>();

function groupVersion(ref: Pick<ResourceRef, "group" | "version">): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

/** `body` parsed as Kubernetes answers `path`, or NotKubernetesError naming what is wrong. */
function kubernetesShaped<S extends z.ZodType>(client: KubeClient, path: string, schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const what = typeof body === "string" ? `a ${body.trimStart().startsWith("<") ? "HTML/XML" : "non-JSON"} answer` : "a JSON answer of another shape";
  throw new NotKubernetesError(client.connection.server, `GET ${path} gave ${what} (${describeIssues(r.error, 3)})`);
}

/**
 * Checks that the server is a Kubernetes API server before anything is listed: /version and /api must
 * parse as Kubernetes documents. A server that answers something else (a web page, another JSON API)
 * is an error (NotKubernetesError), never an empty cluster. Transport and HTTP errors propagate.
 */
export async function verifyKubernetes(client: KubeClient): Promise<{ gitVersion: string }> {
  const answer = async (path: string) => {
    try {
      return await client.request<unknown>("GET", path);
    } catch (e) {
      // An API server always serves these two paths; a 404 (or a body that is not JSON) means something else answered.
      if (e instanceof KubeApiError && (e.status === 404 || e.reason === "InvalidResponse")) {
        throw new NotKubernetesError(client.connection.server, `GET ${path}: ${e.message}`);
      }
      throw e;
    }
  };
  const version = kubernetesShaped(client, "/version", VersionInfo, await answer("/version"));
  kubernetesShaped(client, "/api", APIVersions, await answer("/api"));
  return { gitVersion: version.gitVersion };
}

/** The resources of one group/version (cached per client); null when the server does not serve it. */
export function servedIn(client: KubeClient, group: string, version: string): Promise<ServedResource[] | null> {
  let cache = caches.get(client);
  if (!cache) {
    cache = new Map();
    caches.set(client, cache);
  }
  const gv = groupVersion({ group, version });
  let hit = cache.get(gv);
  if (!hit) {
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    hit = client.request<unknown>("GET", path).then(
      (body) => kubernetesShaped(client, path, APIResourceList, body).resources.filter((r) => !r.name.includes("/")),
      (e) => {
        if (e instanceof KubeApiError && e.status === 404) return null;
        throw e;
      },
    );
    hit.catch(() => cache.delete(gv)); // failures (transient or not Kubernetes) are not remembered
    cache.set(gv, hit);
  }
  return hit;
}

/**
 * Served resources for the group/versions given (default: core v1), keyed "group/version/plural"
 * ("v1/pods", "apps/v1/deployments"); group/versions that are not served contribute nothing.
 */
export async function servedResources(
  client: KubeClient,
  groupVersions: Pick<ResourceRef, "group" | "version">[] = [{ group: "", version: "v1" }],
): Promise<Map<string, ServedResource>> {
  const out = new Map<string, ServedResource>();
  for (const gv of groupVersions) {
    const list = await servedIn(client, gv.group, gv.version);
    for (const r of list ?? []) out.set(`${groupVersion(gv)}/${r.name}`, r);
  }
  return out;
}

export async function isServed(client: KubeClient, ref: ResourceRef): Promise<boolean> {
  const list = await servedIn(client, ref.group, ref.version);
  return !!list?.some((r) => r.name === ref.plural);
}

/** The first candidate the server serves, or null. Transport errors propagate (retry later). */
export async function chooseResource(client: KubeClient, candidates: ResourceRef[]): Promise<ResourceRef | null> {
  for (const ref of candidates) if (await isServed(client, ref)) return ref;
  return null;
}

/** Forget cached discovery (e.g. after the API server was upgraded). */
export function clearDiscoveryCache(client: KubeClient): void {
  caches.delete(client);
}
