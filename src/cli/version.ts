import { BUILD_DATE, COMMIT, VERSION } from "../version.ts";
import type { Command } from "./command.ts";

export const versionCommand: Command = {
  name: "version",
  usage: `Usage: neurocontroller version [--json]`,
  booleanFlags: ["json"],
  flags: ["json"],
  async run(args) {
    const info = { version: VERSION, commit: COMMIT, buildDate: BUILD_DATE, bun: Bun.version, arch: process.arch, platform: process.platform };
    if (args.flags.get("json")) console.log(JSON.stringify(info));
    else
      console.log(
        `neurocontroller ${VERSION} (commit ${COMMIT}${BUILD_DATE ? `, built ${BUILD_DATE}` : ""}; bun ${Bun.version}; ${process.platform}-${process.arch})`,
      );
    return 0;
  },
};
