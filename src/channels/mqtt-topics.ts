// Moved to src/mqtt/topics.ts (one topic table for the whole project); kept so existing imports work.
export * from "../mqtt/topics.ts";
