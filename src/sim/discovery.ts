// Discovery documents (/api, /apis, /api/v1, /apis/<g>/<v>) and /version, reflecting SimOptions.served.
import { apiVersionOf, resourcesIn, servedResources, VERBS, type SimResource } from "./resources.ts";

export interface Served {
  endpointSlices?: boolean;
  policyV1?: boolean;
}

export const VERSION_INFO = {
  major: "1",
  minor: "31",
  gitVersion: "v1.31.0+k3s1",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2024-08-14T00:00:00Z",
  goVersion: "go1.22.5",
  compiler: "gc",
  platform: "linux/arm64",
};

export function apiVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function apiGroupList(served: Served) {
  const groups = new Map<string, Set<string>>();
  for (const res of servedResources(served)) {
    if (!res.group) continue;
    if (!groups.has(res.group)) groups.set(res.group, new Set());
    groups.get(res.group)!.add(res.version);
  }
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [...groups].map(([name, versions]) => {
      const list = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: list, preferredVersion: list[0] };
    }),
  };
}

function entry(res: SimResource) {
  return {
    name: res.plural,
    singularName: res.singular,
    namespaced: res.namespaced,
    kind: res.kind,
    verbs: VERBS,
    ...(res.shortNames ? { shortNames: res.shortNames } : {}),
  };
}

function subresourceEntries(res: SimResource, served: Served) {
  const out: Record<string, unknown>[] = [];
  for (const sub of res.subresources) {
    if (sub === "status") {
      out.push({ name: `${res.plural}/status`, singularName: "", namespaced: res.namespaced, kind: res.kind, verbs: ["get", "patch", "update"] });
    } else if (sub === "scale") {
      out.push({
        name: `${res.plural}/scale`,
        singularName: "",
        namespaced: true,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      });
    } else if (sub === "eviction") {
      // The eviction body is policy's Eviction kind; only v1 is modelled, so it follows policyV1.
      if (served.policyV1 === false) continue;
      out.push({
        name: `${res.plural}/eviction`,
        singularName: "",
        namespaced: true,
        group: "policy",
        version: "v1",
        kind: "Eviction",
        verbs: ["create"],
      });
    }
  }
  return out;
}

/** APIResourceList, or undefined when that group/version is not served (→ 404). */
export function apiResourceList(group: string, version: string, served: Served) {
  const list = resourcesIn(group, version, served);
  if (list.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf(list[0]!),
    resources: list.flatMap((res) => [entry(res), ...subresourceEntries(res, served)]),
  };
}

/** APIGroup for /apis/<group>. */
export function apiGroup(group: string, served: Served) {
  const doc = apiGroupList(served).groups.find((g) => g.name === group);
  return doc ? { kind: "APIGroup", apiVersion: "v1", ...doc } : undefined;
}
