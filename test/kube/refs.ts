// Resource refs used by the kube tests.
import type { ResourceRef } from "../../src/kube/types.ts";

export const PODS: ResourceRef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };
export const CONFIGMAPS: ResourceRef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };
export const NODES: ResourceRef = { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false };
export const ENDPOINTS: ResourceRef = { group: "", version: "v1", plural: "endpoints", kind: "Endpoints", namespaced: true };
export const ENDPOINTSLICES: ResourceRef = {
  group: "discovery.k8s.io",
  version: "v1",
  plural: "endpointslices",
  kind: "EndpointSlice",
  namespaced: true,
};
export const BOGUS: ResourceRef = { group: "bogus.example.com", version: "v1", plural: "things", kind: "Thing", namespaced: true };
