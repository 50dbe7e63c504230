import { CONFIG_FLAGS_HELP, loadCommandConfig } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { channelStatus, httpListen } from "../config/effective.ts";
import { describeWebAccess } from "../web/access.ts";

export const checkConfigCommand: Command = {
  name: "check-config",
  usage: `Usage: neurocontroller check-config [--config FILE] [--json]

Reads the configuration exactly as the controller would (defaults < --config file <
environment < flags; secrets also from <KEY>_FILE), prints every key with its effective
value and where it came from, and exits 2 naming every invalid key and the expected form.

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["json"],
  flags: ["json"],
  async run(args) {
    const config = loadCommandConfig(args);
    const rows = config.describe();
    const statusPage = describeWebAccess(config.bool("WEB_ENABLED"), httpListen(config), config.str("NEURO_HTTP_ADDR"), config.str("WEB_TOKEN"));
    for (const w of config.warnings) console.error(`warning: ${w}`);
    if (args.flags.get("json")) {
      console.log(JSON.stringify({ valid: true, keys: rows, channels: channelStatus(config), statusPage, warnings: config.warnings }, null, 2));
      return EXIT.ok;
    }
    const width = Math.max(...rows.map((r) => r.key.length));
    for (const r of rows) console.log(`${r.key.padEnd(width)}  ${r.value === "" ? '""' : r.value}  (${r.source})`);
    console.log("");
    for (const [channel, status] of Object.entries(channelStatus(config))) console.log(`${channel}: ${status}`);
    console.log(`status page: ${statusPage}`);
    console.log("configuration is valid");
    return EXIT.ok;
  },
};
