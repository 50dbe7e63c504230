// Opening the controller's state.db: a corrupt file is moved aside loudly (the service starts with empty
// state rather than not at all), unreadable rows are logged, and the action journal shares the file.
import { join } from "node:path";
import { ActionJournal } from "../actions/journal.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { ActionHistory } from "../store/action-history.ts";
import { STATE_FILE_NAME } from "../store/db.ts";
import { StateStore } from "../store/state-store.ts";

export function openControllerState(config: Config, logger: Logger): { store: StateStore; actions: ActionJournal } {
  const store = StateStore.open(config.str("NEURO_STATE_DIR"), {
    recoverCorrupt: true,
    onRecovered: (movedTo, reason) =>
      logger.error(
        `state.db was corrupt (${reason}); moved aside to ${movedTo} and started with empty state. ` +
          "Anomalies already logged may be logged again; notifications that were pending are in the moved file.",
        { path: join(config.str("NEURO_STATE_DIR"), STATE_FILE_NAME), movedTo },
      ),
  });
  store.onBadRow = (table, key, error) => logger.warn("unreadable row in state.db skipped", { table, key, error, path: store.path });
  const actions = new ActionJournal(
    new ActionHistory(store.db, (id, error) => store.badRow("action_history", id, error)),
    logger.child({ component: "actions" }),
  );
  return { store, actions };
}
