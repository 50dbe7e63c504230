// The real parts most end-to-end tests stand on: the HTTPS simulator with a seeded healthy cluster,
// a mosquitto broker, and a subscriber standing in for the user's dashboard.
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { seedHealthyCluster, type SeededCluster, type SeedOptions } from "../../src/sim/kit.ts";
import { TestMosquitto } from "../../testkit/mosquitto.ts";
import { TestSubscriber } from "./mqtt-subscriber.ts";

export interface Stack {
  sim: Simulator;
  seeded: SeededCluster;
  broker: TestMosquitto;
  sub: TestSubscriber;
  stop(): Promise<void>;
}

export async function startStack(opts: { seed: SeedOptions; subscribe: string[] }): Promise<Stack> {
  const sim = await startSimulator({ tls: true });
  const seeded = seedHealthyCluster(sim.store, opts.seed);
  const broker = await TestMosquitto.start();
  const sub = await TestSubscriber.connect(broker, opts.subscribe);
  return {
    sim,
    seeded,
    broker,
    sub,
    async stop() {
      await sub.close();
      await broker.stop();
      await sim.stop();
    },
  };
}
