// Moved to src/mqtt/connection.ts (the one MQTT connection factory); kept so existing imports work.
export * from "../mqtt/connection.ts";
