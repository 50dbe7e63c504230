// Waiting for the operator's stop signal, shared by the long-running commands (controller, demo, sim).
/** Resolves on the first SIGTERM/SIGINT; a second one while stopping exits at once (status 130/143 as the shell would). */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    let received = false;
    const on = (sig: "SIGTERM" | "SIGINT") => () => {
      if (received) process.exit(sig === "SIGINT" ? 130 : 143);
      received = true;
      resolve(sig);
    };
    process.on("SIGTERM", on("SIGTERM"));
    process.on("SIGINT", on("SIGINT"));
  });
}
