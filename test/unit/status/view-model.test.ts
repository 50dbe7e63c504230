import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { Incident } from "../../../src/model/incident.ts";
import { HostSnapshots } from "../../../src/status/hosts.ts";
import { currentStatus, type StatusParts } from "../../../src/status/source.ts";
import { buildStatusView, type StatusInputs } from "../../../src/status/view-model.ts";
import { discoveryConfigs, stateMessages } from "../../../src/ha/discovery.ts";
import { haDiscoveryProblems } from "../../support/ha-discovery-schema.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");

const node = (name: string, ready: boolean): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    status: {
      conditions: [
        {
          type: "Ready",
          status: ready ? "True" : "False",
          reason: ready ? "KubeletReady" : "KubeletNotReady",
          message: ready ? "" : "PLEG is not healthy",
        },
      ],
    },
  }) as unknown as KubeObject;

function incident(id: string, severity: "warning" | "critical", trigger?: string): Incident {
  const anomaly = (kind: string, name: string, reason: string) => ({
    kind,
    namespace: "default",
    name,
    node: "pi-2",
    reason,
    severity,
    category: "x",
    message: `${reason} <script>alert(1)</script>`,
    eventTime: "2026-12-04T11:59:00Z",
  });
  return {
    id,
    status: "open",
    openedAt: NOW - 60_000,
    updatedAt: NOW,
    members: [
      { key: "a", fingerprint: "f1", anomaly: anomaly("Pod", "api-1", "CrashLoopBackOff") as never, joinedAt: NOW },
      { key: "b", fingerprint: "f2", anomaly: anomaly("Deployment", "api", "UnavailableReplica") as never, joinedAt: NOW, inhibitedBy: "a" },
    ],
    scope: { pods: 1, nodes: ["pi-2"], namespaces: ["default"], workloadsDown: [] },
    ...(trigger
      ? {
          trigger: {
            summary: trigger,
            time: "2026-12-04T11:58:00Z",
            kind: "Deployment",
            namespace: "default",
            name: "api",
            relation: "owner",
            actor: "kube-admin",
          },
        }
      : {}),
  };
}

const hostsWith = (json: unknown) => {
  const hosts = new HostSnapshots({ reject() {} });
  hosts.accept("pi-1", new TextEncoder().encode(JSON.stringify(json)));
  return hosts;
};

const SNAPSHOT = {
  v: 1,
  node: "pi-1",
  time: "2026-12-04T11:59:50Z",
  intervalSeconds: 15,
  temperature: { celsius: 48.3 },
  throttled: {
    raw: "0x50005",
    underVoltageNow: true,
    freqCappedNow: false,
    throttledNow: true,
    softTempLimitNow: false,
    underVoltageSinceBoot: true,
    freqCappedSinceBoot: true,
    throttledSinceBoot: true,
    softTempLimitSinceBoot: false,
  },
  rootFs: { mount: "/", usedPercent: 71.2, sizeBytes: 1, readOnly: false },
};

function inputs(over: Partial<StatusInputs> = {}): StatusInputs {
  return {
    clusterId: "home",
    node: "pi-1",
    role: "leader",
    leader: "pi-1",
    now: NOW,
    incidents: [],
    nodes: [node("pi-1", true), node("pi-2", true)],
    hosts: new Map(),
    actions: [],
    silences: [],
    lastAlerts: [],
    ...over,
  };
}

describe("status view-model", () => {
  test("healthy cluster: ok verdict", () => {
    const v = buildStatusView(inputs());
    expect(v.verdict).toBe("ok");
    expect(v.summary).toContain("2 nodes Ready");
  });

  test("critical incident: critical verdict, chain root first, likely trigger shown when present", () => {
    const v = buildStatusView(
      inputs({
        incidents: [incident("w1", "warning"), incident("c1", "critical", "Started 2 min after Deployment api was updated")],
        nodes: [node("pi-1", true), node("pi-2", false)],
      }),
    );
    expect(v.verdict).toBe("critical");
    expect(v.summary).toBe("2 open incidents (1 critical), 1 of 2 nodes not Ready");
    expect(v.incidents.map((i) => i.id)).toEqual(["c1", "w1"]);
    expect(v.incidents[0]!.chain.map((l) => l.reason)).toEqual(["CrashLoopBackOff", "UnavailableReplica"]);
    expect(v.incidents[0]!.chain[1]!.inhibited).toBe(true);
    expect(v.incidents[0]!.trigger?.summary).toBe("Started 2 min after Deployment api was updated");
    expect(v.incidents[1]!.trigger).toBeUndefined();
    expect(v.nodes.find((n) => n.name === "pi-2")!.readyDetail).toBe("KubeletNotReady: PLEG is not healthy");
  });

  test("host snapshot: shown where present, null (not healthy) where absent", () => {
    const v = buildStatusView(inputs({ hosts: hostsWith(SNAPSHOT).all() }));
    expect(v.nodes[0]!.host).toEqual({
      time: SNAPSHOT.time,
      temperatureCelsius: 48.3,
      underVoltageNow: true,
      throttledNow: true,
      rootFsUsedPercent: 71.2,
      rootFsReadOnly: false,
    });
    expect(v.nodes[1]!.host).toBeNull();
    const partial = buildStatusView(inputs({ hosts: hostsWith({ ...SNAPSHOT, temperature: null, throttled: null }).all() }));
    expect(partial.nodes[0]!.host).toMatchObject({ temperatureCelsius: null, underVoltageNow: null, throttledNow: null, rootFsUsedPercent: 71.2 });
  });

  test("host snapshots from the broker are validated: wrong node, bad shape and oversize are refused and counted", () => {
    const refused: string[] = [];
    const hosts = new HostSnapshots({ reject: (source, reason) => refused.push(`${source}: ${reason}`) });
    const enc = (x: unknown) => new TextEncoder().encode(typeof x === "string" ? x : JSON.stringify(x));
    hosts.accept("pi-9", enc(SNAPSHOT));
    hosts.accept("pi-1", enc({ ...SNAPSHOT, temperature: { celsius: "hot" } }));
    hosts.accept("pi-1", enc("{not json"));
    hosts.accept("pi-1", enc({ ...SNAPSHOT, pad: "x".repeat(20_000) }));
    expect(hosts.all().size).toBe(0);
    expect(refused.length).toBe(4);
    expect(refused.every((r) => r.startsWith("mqtt.host-snapshot: "))).toBe(true);
    hosts.accept("pi-1", enc(SNAPSHOT));
    expect(hosts.get("pi-1")?.temperature?.celsius).toBe(48.3);
    hosts.accept("pi-1", new Uint8Array(0));
    expect(hosts.get("pi-1")).toBeUndefined();
  });
});

describe("Home Assistant discovery configs", () => {
  const t = { discoveryPrefix: "homeassistant", prefix: "neurocontroller/home", clusterId: "home" };

  test("every entity is valid per the vendored HA schema; host entities only where measured", () => {
    const v = buildStatusView(inputs({ hosts: hostsWith(SNAPSHOT).all(), incidents: [incident("c1", "critical")] }));
    const fields = (n: string) => new Set(n === "pi-1" ? (["throttled", "temperature", "rootFs"] as const) : []);
    const configs = discoveryConfigs(t, v, fields);
    for (const m of configs)
      expect({ topic: m.topic, problems: haDiscoveryProblems("homeassistant", m.topic, m.payload) }).toEqual({ topic: m.topic, problems: [] });
    const objects = configs.map((m) => m.topic.split("/").at(-2));
    expect(objects).toEqual([
      "problem",
      "open_incidents",
      "last_alert",
      "leader",
      "node_pi-1_ready",
      "node_pi-1_under_voltage",
      "node_pi-1_throttled",
      "node_pi-1_soc_temperature",
      "node_pi-1_root_fs_usage",
      "node_pi-2_ready",
    ]);
    const temp = JSON.parse(configs.find((m) => m.topic.includes("soc_temperature"))!.payload);
    expect(temp).toMatchObject({
      device_class: "temperature",
      unit_of_measurement: "°C",
      device: { identifiers: ["neurocontroller_home_node_pi-1"], via_device: "neurocontroller_home" },
    });
    expect(temp.availability).toEqual([{ topic: "neurocontroller/home/status", payload_available: "online", payload_not_available: "offline" }]);
    const states = stateMessages(t, v, undefined);
    expect(JSON.parse(states[0]!.payload)).toMatchObject({ problem: true, open_incidents: 1 });
  });

  test("the validator is not a rubber stamp", () => {
    const ok = discoveryConfigs(t, buildStatusView(inputs()), () => new Set())[0]!;
    const bad = (mutate: (c: Record<string, unknown>) => void) => {
      const c = JSON.parse(ok.payload);
      mutate(c);
      return haDiscoveryProblems("homeassistant", ok.topic, JSON.stringify(c));
    };
    expect(bad((c) => delete c.state_topic)).toContain("required state_topic missing");
    expect(bad((c) => (c.object_id = "x"))[0]).toContain("object_id");
    expect(bad((c) => (c.device = { name: "x" }))).toContain("device needs identifiers or connections");
    expect(bad((c) => (c.device_class = "hot"))).toContain("binary_sensor device_class hot");
    expect(bad((c) => (c.colour = "red"))).toContain("colour is not a documented binary_sensor option");
    expect(haDiscoveryProblems("homeassistant", "homeassistant/binary_sensor/a b/x/config", ok.payload)).toContain(
      "topic level a b is not ^[a-zA-Z0-9_-]+$",
    );
  });

  test("unique_ids depend on cluster and node names only: the same from any leader, after any restart", () => {
    const a = discoveryConfigs(t, buildStatusView(inputs({ node: "pi-1", leader: "pi-1" })), () => new Set());
    const b = discoveryConfigs(t, buildStatusView(inputs({ node: "pi-2", leader: "pi-2", role: "leader", now: NOW + 3_600_000 })), () => new Set());
    expect(a.map((m) => JSON.parse(m.payload).unique_id)).toEqual(b.map((m) => JSON.parse(m.payload).unique_id));
    expect(a.map((m) => m.payload)).toEqual(b.map((m) => m.payload));
  });
});

describe("status source", () => {
  test("a standby correlates what it sees itself and names the leader; the leader shows its own incidents", () => {
    const anomaly = {
      kind: "Pod",
      namespace: "default",
      name: "api-1",
      node: "pi-2",
      reason: "CrashLoopBackOff",
      severity: "warning",
      category: "x",
      message: "m",
      eventTime: "2026-12-04T11:59:00Z",
    };
    let leading = false;
    const parts: StatusParts = {
      clusterId: "home",
      node: "pi-1",
      now: () => NOW,
      isLeader: () => leading,
      leader: () => "pi-3",
      synced: () => true,
      leaderIncidents: () => [incident("lead-1", "critical")],
      active: () => new Map([["Pod/default/api-1/CrashLoopBackOff", anomaly as never]]),
      cache: { get: () => undefined, list: () => [] },
      actions: () => [],
      silences: () => [],
      lastAlerts: () => [],
    };
    const hosts = new HostSnapshots({ reject() {} });
    const standby = currentStatus(parts, hosts.all());
    expect(standby).toMatchObject({ role: "standby", leader: "pi-3", verdict: "warning" });
    expect(standby.incidents.map((i) => i.chain[0]!.reason)).toEqual(["CrashLoopBackOff"]);
    leading = true;
    const leader = currentStatus(parts, hosts.all());
    expect(leader).toMatchObject({ role: "leader", leader: "pi-1", verdict: "critical" });
    expect(leader.incidents.map((i) => i.id)).toEqual(["lead-1"]);
  });
});
