// The MQTT topic layout (an external contract: scripts and dashboards subscribe to it).
//   <prefix>/alerts               AlertGroupData JSON, QoS 1, not retained — one message per notification
//   <prefix>/incidents/<id>       retained AlertGroupData of an open incident; empty retained payload = resolved
//   <prefix>/status               retained "online" / "offline" (Last Will) of the controller
//   <prefix>/silences/set         command topic: silence requests (handled by the silences module)
// <prefix> defaults to neurocontroller/<CLUSTER_ID>.

export interface MqttTopics {
  prefix: string;
  alerts: string;
  status: string;
  silencesSet: string;
  /** Filter matching every incident topic. */
  incidentsAll: string;
  incident(id: string): string;
}

/** Topic levels must not contain the wildcard or separator characters. */
export function topicSafe(level: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is forbidden in MQTT topic names, so it is replaced on purpose
  return level.replace(/[+#/\u0000]/g, "_") || "_";
}

export function defaultTopicPrefix(clusterId: string): string {
  return `neurocontroller/${topicSafe(clusterId)}`;
}

export function mqttTopics(prefix: string): MqttTopics {
  const p = prefix.replace(/\/+$/, "");
  return {
    prefix: p,
    alerts: `${p}/alerts`,
    status: `${p}/status`,
    silencesSet: `${p}/silences/set`,
    incidentsAll: `${p}/incidents/#`,
    incident: (id) => `${p}/incidents/${topicSafe(id)}`,
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
