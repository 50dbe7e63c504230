// The MQTT topic layout: one table for every topic the project uses (an external contract: scripts,
// dashboards, agents and the broker ACL in ansible/roles/neurocontroller_broker depend on it).
//   <prefix>/alerts               AlertGroupData JSON, QoS 1, not retained — one message per notification
//   <prefix>/incidents/<id>       retained AlertGroupData of an open incident; empty retained payload = resolved
//   <prefix>/status               retained "online" / "offline" (Last Will) of the controller
//   <prefix>/silences/set         command topic: signed silence commands (docs/security.md)
//   <prefix>/silences/result      the controller's answer to each correctly signed silence command
//   <prefix>/actions              ActionRecord JSON, QoS 1, not retained — every healing/SLO/operator decision once (docs/actions.md)
//   <prefix>/healing/set          command topic: signed heal pause/resume commands (docs/healing.md)
//   <prefix>/healing/result       the controller's answer to each correctly signed healing command
//   <prefix>/spans/<node>         span batches of the agent on <node> (src/trace/types.ts)
//   <prefix>/hosts/<node>         retained host-health snapshot of <node>, QoS 1 (src/hosts/snapshot.ts, docs/host-health.md)
//   <prefix>/trace/bind/<node>    bind/unbind messages for the agent on <node> (agent/bind-server.ts)
//   <prefix>/ha/cluster, <prefix>/ha/last_alert, <prefix>/ha/nodes/<node>   retained Home Assistant
//                                 entity states (src/ha/; configs under HA_DISCOVERY_PREFIX, docs/home-assistant.md)
// <prefix> defaults to neurocontroller/<CLUSTER_ID>; it is computed once, by topicPrefix().

export interface MqttTopics {
  prefix: string;
  alerts: string;
  status: string;
  silencesSet: string;
  silencesResult: string;
  actions: string;
  healingSet: string;
  healingResult: string;
  /** Filter matching every incident topic. */
  incidentsAll: string;
  incident(id: string): string;
  /** Filter matching every node's span topic. */
  spansAll: string;
  spans(node: string): string;
  hostsAll: string;
  hosts(node: string): string;
  traceBind(node: string): string;
  /** The `<node>` level of a spans/hosts topic, or undefined when `topic` is not one of them. */
  nodeOf(topic: string): string | undefined;
}

/** Topic levels must not contain the wildcard or separator characters. */
export function topicSafe(level: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is forbidden in MQTT topic names, so it is replaced on purpose
  return level.replace(/[+#/\u0000]/g, "_") || "_";
}

export function defaultTopicPrefix(clusterId: string): string {
  return `neurocontroller/${topicSafe(clusterId)}`;
}

/** The prefix from the two settings that decide it: whitespace trimmed, trailing slashes dropped. */
export function topicPrefix(configuredPrefix: string, clusterId: string): string {
  return (configuredPrefix.trim() || defaultTopicPrefix(clusterId.trim())).replace(/\/+$/, "");
}

export function mqttTopics(prefix: string): MqttTopics {
  const p = prefix.trim().replace(/\/+$/, "");
  const nodeOf = (topic: string): string | undefined => {
    if (!topic.startsWith(`${p}/`)) return undefined;
    const rest = topic.slice(p.length + 1).split("/");
    return rest.length === 2 && (rest[0] === "spans" || rest[0] === "hosts") && rest[1] ? rest[1] : undefined;
  };
  return {
    prefix: p,
    alerts: `${p}/alerts`,
    status: `${p}/status`,
    silencesSet: `${p}/silences/set`,
    silencesResult: `${p}/silences/result`,
    actions: `${p}/actions`,
    healingSet: `${p}/healing/set`,
    healingResult: `${p}/healing/result`,
    incidentsAll: `${p}/incidents/#`,
    incident: (id) => `${p}/incidents/${topicSafe(id)}`,
    spansAll: `${p}/spans/+`,
    spans: (node) => `${p}/spans/${topicSafe(node)}`,
    hostsAll: `${p}/hosts/+`,
    hosts: (node) => `${p}/hosts/${topicSafe(node)}`,
    traceBind: (node) => `${p}/trace/bind/${topicSafe(node)}`,
    nodeOf,
  };
}

/** MQTT filter matching (`+` one level, `#` the rest); `$`-topics only match filters starting with `$`. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") !== filter.startsWith("$")) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
