// When an incident's root cause is a host-health anomaly (src/hosts/), the anomalies of the same node
// (NodeNotReady, NodeReadyFlapping) and of its Pods say so in their message: "… — under-voltage detected
// 40 s before". Pure: derived from the members each pass, never accumulated.
import type { CacheView } from "../kube/objects.ts";
import type { IncidentMember } from "../model/incident.ts";
import { nodeOfPod, subjectOf } from "./topology.ts";

const PHRASE: Record<string, string> = {
  UnderVoltage: "under-voltage",
  Throttled: "CPU throttling",
  HighTemperature: "high SoC temperature",
  DiskAlmostFull: "a nearly full disk",
  RootFilesystemReadOnly: "a read-only root filesystem",
  ClockUnsynchronized: "an unsynchronised clock",
  HostUnreported: "a silent host agent",
};

const ms = (t: string) => Date.parse(t);

/** "under-voltage detected 40 s before" / "… 5 s after": relative to `at`. */
export function hostCauseNote(reason: string, hostTime: string, at: string): string | undefined {
  const dt = Math.round((ms(at) - ms(hostTime)) / 1000);
  if (!Number.isFinite(dt)) return undefined;
  const phrase = PHRASE[reason] ?? reason;
  return dt === 0 ? `${phrase} detected at the same time` : `${phrase} detected ${Math.abs(dt)} s ${dt > 0 ? "before" : "after"}`;
}

/** Appends the root host anomaly's note to its node's and Pods' members (replacing the member's anomaly copy). */
export function noteHostCause(members: IncidentMember[], cache: CacheView): void {
  const root = members[0];
  if (root?.anomaly.kind !== "Host") return;
  const node = root.anomaly.name;
  for (const m of members) {
    const subject = subjectOf(m.anomaly);
    const onNode = (subject.kind === "Node" && subject.name === node) || (subject.kind === "Pod" && nodeOfPod(m.anomaly, cache) === node);
    if (!onNode) continue;
    const note = hostCauseNote(root.anomaly.reason, root.anomaly.eventTime, m.anomaly.eventTime);
    if (note) m.anomaly = { ...m.anomaly, message: `${m.anomaly.message} — ${note} (${root.anomaly.reason} on host ${node}).` };
  }
}
