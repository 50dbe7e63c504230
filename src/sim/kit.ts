// Scenario building blocks over a SimStore, in one import: the healthy cluster (scenarios.ts), the fault
// injectors (injectors.ts) and the demo story (story.ts). Tests, the demo and the benchmarks use this.
// (A barrel only: the three files import each other one way, seed <- injectors <- story.)
export * from "./injectors.ts";
export * from "./scenarios.ts";
export * from "./story.ts";
