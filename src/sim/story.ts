// The scripted timeline behind `neurocontroller demo`: failures appear and resolve within about a minute.
import type { KubeObject } from "../kube/types.ts";
import { crashLoopPod, deploymentZeroReady, healPod, imagePullBackOff, nodeNotReady, nodeReady, oomKilledPod, warningEvent } from "./injectors.ts";
import { appName, nodeName, seedHealthyCluster } from "./scenarios.ts";
import type { SimStore } from "./store.ts";

export interface StoryStep {
  atMs: number;
  description: string;
  apply: () => void;
}

/** Injectable time so tests can play a story without waiting for it. */
export interface StoryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: StoryClock = { now: () => Date.now(), sleep: (ms) => Bun.sleep(ms) };

function firstPod(store: SimStore, app: string): KubeObject {
  const pod = store.list("pods").find((p) => p.metadata.labels?.app === app);
  if (!pod) throw new Error(`sim story: no pod for app ${app}; seed the cluster first`);
  return pod;
}

/**
 * Steps over a cluster seeded with seedHealthyCluster defaults (seeded by the first step if empty).
 * Pods are looked up when a step runs, so the story survives churn in between.
 */
export function demoStory(store: SimStore): StoryStep[] {
  const api = appName(1);
  const worker = appName(2);
  const web = appName(0);
  const cache = appName(3);
  const node = nodeName(2);
  let crashing: KubeObject | undefined;
  let pulling: KubeObject | undefined;
  const webPods = () => store.list("pods").filter((p) => p.metadata.labels?.app === web);
  return [
    {
      atMs: 0,
      description: "healthy cluster: 3 nodes, 4 deployments with services",
      apply: () => void (store.count("nodes") === 0 && seedHealthyCluster(store)),
    },
    {
      atMs: 5_000,
      description: `${api}: container starts crash-looping`,
      apply: () => void (crashing = crashLoopPod(store, "default", firstPod(store, api).metadata.name)),
    },
    {
      atMs: 10_000,
      description: `${api}: back-off repeats`,
      apply: () =>
        void (
          crashing &&
          warningEvent(store, {
            involvedObject: { kind: "Pod", name: crashing.metadata.name, namespace: "default", uid: crashing.metadata.uid },
            reason: "BackOff",
            message: `Back-off restarting failed container ${api}`,
            count: 4,
          })
        ),
    },
    {
      atMs: 15_000,
      description: `${worker}: image pull fails (ImagePullBackOff)`,
      apply: () => void (pulling = imagePullBackOff(store, "default", firstPod(store, worker).metadata.name)),
    },
    { atMs: 20_000, description: `${node}: kubelet stops reporting (NotReady)`, apply: () => void nodeNotReady(store, node) },
    {
      atMs: 25_000,
      description: `${web}: readiness fails on every replica; service has no ready endpoints`,
      apply: () => void deploymentZeroReady(store, "default", web),
    },
    {
      atMs: 35_000,
      description: `${api}: fixed, container running again`,
      apply: () => void (crashing && healPod(store, "default", crashing.metadata.name)),
    },
    { atMs: 40_000, description: `${node}: back online (Ready)`, apply: () => void nodeReady(store, node) },
    {
      atMs: 45_000,
      description: `${worker}: image fixed, pod running`,
      apply: () => void (pulling && healPod(store, "default", pulling.metadata.name)),
    },
    {
      atMs: 50_000,
      description: `${web}: readiness recovers, endpoints back`,
      apply: () => {
        for (const p of webPods()) healPod(store, "default", p.metadata.name);
      },
    },
    {
      atMs: 55_000,
      description: `${cache}: one container OOM-killed and restarted`,
      apply: () => void oomKilledPod(store, "default", firstPod(store, cache).metadata.name),
    },
    { atMs: 60_000, description: "all failures resolved", apply: () => {} },
  ];
}

export interface StoryRun {
  /** true once every step ran; false when stop() skipped the rest. */
  done: Promise<boolean>;
  stop(): void;
}

/** Runs steps at their offsets (scaled by speed), reporting each; stop() skips the rest. */
export function playStory(steps: StoryStep[], opts: { clock?: StoryClock; speed?: number; onStep?: (s: StoryStep) => void } = {}): StoryRun {
  const clock = opts.clock ?? realClock;
  const speed = opts.speed ?? 1;
  let stopped = false;
  const start = clock.now();
  const done = (async () => {
    for (const step of [...steps].sort((a, b) => a.atMs - b.atMs)) {
      const wait = start + step.atMs / speed - clock.now();
      if (wait > 0) await clock.sleep(wait);
      if (stopped) return false;
      step.apply();
      opts.onStep?.(step);
    }
    return true;
  })();
  return { done, stop: () => void (stopped = true) };
}
