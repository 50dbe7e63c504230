// Home Assistant MQTT discovery, pure: which entities exist and their retained config and state messages,
// from the status view. Follows https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery: config on
// <discovery_prefix>/<component>/<node_id>/<object_id>/config with unique_id, a device block, availability
// bound to the controller's retained online/offline <prefix>/status (Last Will), state_topic +
// value_template. Full key names (abbreviations are optional). `default_entity_id` replaces the
// `object_id` option, which Home Assistant stopped accepting in 2026.4. Ids derive from the cluster and node
// names only, so they are the same after a restart or on another leader: no duplicate entities.
import { createHash } from "node:crypto";
import type { RecentAlert, StatusView } from "../status/view-model.ts";
import { VERSION } from "../version.ts";

export interface DiscoveryMessage {
  topic: string;
  /** JSON text; "" removes the entity (empty retained config). */
  payload: string;
}

export interface HaTopics {
  discoveryPrefix: string;
  /** The controller's MQTT prefix (<prefix>/status, <prefix>/ha/...). */
  prefix: string;
  clusterId: string;
}

/** A topic level / id part Home Assistant accepts ([a-zA-Z0-9_-]); a changed name gets a short hash so two never collide. */
export function haId(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_-]/g, "_");
  return clean === name ? name : `${clean}_${createHash("sha256").update(name).digest("hex").slice(0, 6)}`;
}

export const nodeIdOf = (t: HaTopics) => `neurocontroller_${haId(t.clusterId)}`;
/** Every config this controller family publishes: one subscription shows what earlier leaders left. */
export const configFilter = (t: HaTopics) => `${t.discoveryPrefix}/+/${nodeIdOf(t)}/+/config`;
export const clusterStateTopic = (t: HaTopics) => `${t.prefix}/ha/cluster`;
export const lastAlertTopic = (t: HaTopics) => `${t.prefix}/ha/last_alert`;
export const nodeStateTopic = (t: HaTopics, node: string) => `${t.prefix}/ha/nodes/${haId(node)}`;

type Component = "binary_sensor" | "sensor";

interface EntitySpec {
  component: Component;
  object: string;
  name: string;
  stateTopic: string;
  valueTemplate: string;
  deviceClass?: string;
  unit?: string;
  stateClass?: string;
  icon?: string;
  attributesTopic?: string;
  attributesTemplate?: string;
  entityCategory?: string;
}

function configMessage(t: HaTopics, device: Record<string, unknown>, e: EntitySpec): DiscoveryMessage {
  const nodeId = nodeIdOf(t);
  const uniqueId = `${nodeId}_${e.object}`;
  const config: Record<string, unknown> = {
    name: e.name,
    unique_id: uniqueId,
    default_entity_id: `${e.component}.${uniqueId.toLowerCase()}`,
    state_topic: e.stateTopic,
    value_template: e.valueTemplate,
    ...(e.component === "binary_sensor" ? { payload_on: "ON", payload_off: "OFF" } : {}),
    ...(e.deviceClass ? { device_class: e.deviceClass } : {}),
    ...(e.unit ? { unit_of_measurement: e.unit } : {}),
    ...(e.stateClass ? { state_class: e.stateClass } : {}),
    ...(e.icon ? { icon: e.icon } : {}),
    ...(e.entityCategory ? { entity_category: e.entityCategory } : {}),
    ...(e.attributesTopic ? { json_attributes_topic: e.attributesTopic, json_attributes_template: e.attributesTemplate } : {}),
    availability: [{ topic: `${t.prefix}/status`, payload_available: "online", payload_not_available: "offline" }],
    availability_mode: "latest",
    qos: 1,
    device,
    origin: { name: "NeuroController", sw_version: VERSION },
  };
  return { topic: `${t.discoveryPrefix}/${e.component}/${nodeId}/${e.object}/config`, payload: JSON.stringify(config) };
}

function clusterDevice(t: HaTopics): Record<string, unknown> {
  return { identifiers: [nodeIdOf(t)], name: `Cluster ${t.clusterId}`, manufacturer: "NeuroController", model: "K3s cluster", sw_version: VERSION };
}

function nodeDevice(t: HaTopics, node: string): Record<string, unknown> {
  return {
    identifiers: [`${nodeIdOf(t)}_node_${haId(node)}`],
    name: node,
    manufacturer: "NeuroController",
    model: "Cluster node",
    via_device: nodeIdOf(t),
  };
}

const onOff = (field: string) => `{{ 'ON' if value_json.${field} else 'OFF' }}`;

/** Every entity's config for this view. Host entities only where `hostFields` says the node measures them. */
export function discoveryConfigs(t: HaTopics, view: StatusView, hostFields: (node: string) => Set<HostField>): DiscoveryMessage[] {
  const cd = clusterDevice(t);
  const cs = clusterStateTopic(t);
  const out = [
    configMessage(t, cd, {
      component: "binary_sensor",
      object: "problem",
      name: "Problem",
      stateTopic: cs,
      valueTemplate: onOff("problem"),
      deviceClass: "problem",
    }),
    configMessage(t, cd, {
      component: "sensor",
      object: "open_incidents",
      name: "Open incidents",
      stateTopic: cs,
      valueTemplate: "{{ value_json.open_incidents }}",
      stateClass: "measurement",
      icon: "mdi:alert-circle-outline",
    }),
    configMessage(t, cd, {
      component: "sensor",
      object: "last_alert",
      name: "Last alert",
      stateTopic: lastAlertTopic(t),
      valueTemplate: "{{ value_json.title[:255] }}",
      attributesTopic: lastAlertTopic(t),
      attributesTemplate: "{{ value_json.incident | tojson }}",
      icon: "mdi:bell-alert-outline",
    }),
    configMessage(t, cd, {
      component: "sensor",
      object: "leader",
      name: "Leader node",
      stateTopic: cs,
      valueTemplate: "{{ value_json.leader }}",
      icon: "mdi:crown-outline",
      entityCategory: "diagnostic",
    }),
  ];
  for (const n of view.nodes) {
    const id = haId(n.name);
    const dev = nodeDevice(t, n.name);
    const st = nodeStateTopic(t, n.name);
    const fields = hostFields(n.name);
    out.push(
      configMessage(t, dev, {
        component: "binary_sensor",
        object: `node_${id}_ready`,
        name: "Ready",
        stateTopic: st,
        valueTemplate: onOff("ready"),
        deviceClass: "connectivity",
      }),
    );
    if (fields.has("throttled")) {
      out.push(
        configMessage(t, dev, {
          component: "binary_sensor",
          object: `node_${id}_under_voltage`,
          name: "Under-voltage",
          stateTopic: st,
          valueTemplate: onOff("under_voltage"),
          deviceClass: "problem",
        }),
      );
      out.push(
        configMessage(t, dev, {
          component: "binary_sensor",
          object: `node_${id}_throttled`,
          name: "Throttled",
          stateTopic: st,
          valueTemplate: onOff("throttled"),
          deviceClass: "problem",
        }),
      );
    }
    if (fields.has("temperature"))
      out.push(
        configMessage(t, dev, {
          component: "sensor",
          object: `node_${id}_soc_temperature`,
          name: "SoC temperature",
          stateTopic: st,
          valueTemplate: "{{ value_json.temperature_c }}",
          deviceClass: "temperature",
          unit: "°C",
          stateClass: "measurement",
        }),
      );
    if (fields.has("rootFs"))
      out.push(
        configMessage(t, dev, {
          component: "sensor",
          object: `node_${id}_root_fs_usage`,
          name: "Root filesystem usage",
          stateTopic: st,
          valueTemplate: "{{ value_json.root_fs_used_percent }}",
          unit: "%",
          stateClass: "measurement",
          icon: "mdi:harddisk",
        }),
      );
  }
  return out;
}

export type HostField = "throttled" | "temperature" | "rootFs";

/** The retained state messages the configs read (node states only for nodes in the view). */
export function stateMessages(t: HaTopics, view: StatusView, last: RecentAlert | undefined): DiscoveryMessage[] {
  const cluster = {
    problem: view.incidents.some((i) => i.severity === "critical"),
    open_incidents: view.incidents.length,
    critical_incidents: view.incidents.filter((i) => i.severity === "critical").length,
    verdict: view.verdict,
    leader: view.leader,
  };
  const out: DiscoveryMessage[] = [{ topic: clusterStateTopic(t), payload: JSON.stringify(cluster) }];
  if (last) {
    const g = last.payload;
    const incident = {
      incident_id: g.incidentId,
      status: g.status,
      level: g.level,
      alert_count: g.alertCount,
      nodes: g.nodeList,
      namespaces: g.namespaceList,
      alerts: g.alerts.slice(0, 10),
      ...(g.trigger ? { trigger: g.trigger.summary } : {}),
    };
    out.push({ topic: lastAlertTopic(t), payload: JSON.stringify({ title: g.title, time: new Date(last.at).toISOString(), incident }) });
  }
  for (const n of view.nodes) {
    const h = n.host;
    const state = {
      ready: n.ready,
      under_voltage: h?.underVoltageNow ?? null,
      throttled: h?.throttledNow ?? null,
      temperature_c: h?.temperatureCelsius ?? null,
      root_fs_used_percent: h?.rootFsUsedPercent ?? null,
    };
    out.push({ topic: nodeStateTopic(t, n.name), payload: JSON.stringify(state) });
  }
  return out;
}
