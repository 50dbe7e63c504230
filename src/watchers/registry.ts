// Every watcher plugin, in the order the runtime starts their informers (owners before what they own
// is not required: rules read the cache lazily, and a change re-evaluates what it `affects`).
import type { WatcherPlugin } from "./types.ts";
import { podPlugin } from "./pod.ts";
import { nodePlugin } from "./node.ts";
import { deploymentPlugin } from "./deployment.ts";
import { replicaSetPlugin } from "./replicaset.ts";
import { servicePlugin } from "./service.ts";
import { endpointsPlugin } from "./endpoints.ts";
import { eventPlugin } from "./event.ts";
import { statefulSetPlugin } from "./statefulset.ts";
import { daemonSetPlugin } from "./daemonset.ts";
import { jobPlugin } from "./job.ts";

export const PLUGINS: WatcherPlugin[] = [
  nodePlugin,
  podPlugin,
  replicaSetPlugin,
  deploymentPlugin,
  statefulSetPlugin,
  daemonSetPlugin,
  jobPlugin,
  servicePlugin,
  endpointsPlugin,
  eventPlugin,
];

/** The plugin for a kind: its own kind or any kind it watches ("EndpointSlice" -> the Endpoints plugin). */
export function pluginFor(kind: string): WatcherPlugin | undefined {
  return PLUGINS.find((p) => p.kind === kind) ?? PLUGINS.find((p) => p.resources.some((r) => r.kind === kind));
}
