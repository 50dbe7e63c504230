// A partition-like failure end to end: 3 of 5 nodes NotReady → the controller (HEALING_MODE=on) writes nothing
// and Slack receives one message saying why (HEALING_MIN_HEALTHY_PERCENT), not one per interval; when two nodes
// come back the remaining dead node is cordoned and that is announced too.
import { afterAll, describe, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { nodeNotReady, nodeReady } from "../../src/sim/injectors.ts";
import { seedHealthyCluster } from "../../src/sim/kit.ts";
import { SlackReceiver } from "../../testkit/slack-receiver.ts";
import { waitFor } from "../../testkit/wait.ts";
import { ControllerProcess, FLAVORS } from "../support/controller.ts";

const flavor = FLAVORS.at(-1)!;

describe(`healing refusal announced once (${flavor})`, () => {
  let sim: Simulator | undefined;
  let slack: SlackReceiver | undefined;
  let ctl: ControllerProcess | undefined;
  afterAll(async () => {
    ctl?.proc.kill("SIGKILL");
    await sim?.stop();
    slack?.stop();
  });

  test("3 of 5 nodes down: no write, one Slack message naming the limit; then the cordon once enough are back", async () => {
    sim = await startSimulator({ tls: true, nodeLifecycle: true });
    seedHealthyCluster(sim.store, { nodes: 5, deployments: 1, replicasPerDeployment: 5 });
    slack = SlackReceiver.start();
    ctl = await ControllerProcess.start(flavor, sim.kubeconfig(), {
      HEALING_MODE: "on",
      HEALING_INTERVAL: "200ms",
      HEALING_NODE_NOTREADY_AFTER: "1s",
      SLACK_WEBHOOK_URL: slack.url,
      SLACK_ALERT_DISPATCH_INTERVAL: "100ms",
      ENABLE_EMAIL_ALERT: "false",
    });
    await ctl.ready();
    const texts = () => slack!.delivered().map((p) => String(p.body?.text ?? ""));
    for (const n of ["pi-node-3", "pi-node-4", "pi-node-5"]) nodeNotReady(sim.store, n);
    const rvs = () => sim!.store.list("nodes").map((n) => `${n.metadata.name}@${n.metadata.resourceVersion}`);
    const before = rvs();
    await waitFor(() => texts().some((t) => t.includes("No healing: only 2 of 5 nodes are Ready")), {
      timeoutMs: 30_000,
      message: () => `the refusal on Slack (posts: ${JSON.stringify(texts())}; stderr ${ctl!.stderr.slice(-1500)})`,
    });
    expect(rvs()).toEqual(before); // not one node written

    nodeReady(sim.store, "pi-node-4");
    nodeReady(sim.store, "pi-node-5");
    await waitFor(() => texts().some((t) => t.includes("Node pi-node-3 cordoned")), {
      timeoutMs: 30_000,
      message: () => `the cordon on Slack (posts: ${JSON.stringify(texts())})`,
    });
    expect(texts().filter((t) => t.includes("No healing"))).toHaveLength(1);
    const refusal = slack.delivered().find((p) => String(p.body?.text).includes("No healing"))!;
    expect(JSON.stringify(refusal.body.blocks)).toContain("HEALING_MIN_HEALTHY_PERCENT");
    expect(sim.store.get("nodes", undefined, "pi-node-3")!.spec.unschedulable).toBe(true);
  }, 90_000);
});
