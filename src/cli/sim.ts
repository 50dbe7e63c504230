import { resolve } from "node:path";
import { startDemoCluster } from "../sim/demo-cluster.ts";
import { demoStory, playStory } from "../sim/kit.ts";
import { stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { waitForSignal } from "./signals.ts";

function intFlag(value: string | undefined, name: string, def: number): number {
  if (value === undefined) return def;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} expects a whole number, not '${value}'`);
  return Number(value);
}

export const simCommand: Command = {
  name: "sim",
  usage: `Usage: neurocontroller sim [--port N] [--dir DIR] [--plain-http] [--story]
                           [--nodes N] [--deployments N] [--replicas N]

Serves a simulated cluster (HTTPS with client-certificate auth) until Ctrl-C, and writes
DIR/kubeconfig.yaml (default DIR ./.neurocontroller-sim) so 'scan' and 'controller' can be tried
by hand. --story plays the demo's failures against it.`,
  booleanFlags: ["plain-http", "story"],
  flags: ["port", "dir", "plain-http", "story", "nodes", "deployments", "replicas"],
  async run(args) {
    const dir = resolve(stringFlag(args, "dir") ?? ".neurocontroller-sim");
    const cluster = await startDemoCluster(dir, {
      port: intFlag(stringFlag(args, "port"), "port", 0),
      plainHttp: args.flags.get("plain-http") === true,
      seed: {
        nodes: intFlag(stringFlag(args, "nodes"), "nodes", 3),
        deployments: intFlag(stringFlag(args, "deployments"), "deployments", 4),
        replicasPerDeployment: intFlag(stringFlag(args, "replicas"), "replicas", 2),
      },
    });
    console.log(`simulator: ${cluster.sim.url}\nkubeconfig: ${cluster.kubeconfig}`);
    const story = args.flags.get("story")
      ? playStory(demoStory(cluster.sim.store), { onStep: (s) => console.log(`t+${s.atMs / 1000}s ${s.description}`) })
      : undefined;
    await waitForSignal();
    story?.stop();
    await cluster.stop();
    return EXIT.ok;
  },
};
