// Stamped at compile time by scripts/build.ts (--define); "dev" when run from source.
import pkg from "../package.json" with { type: "json" };

declare const NEURO_BUILD_COMMIT: string | undefined;
declare const NEURO_BUILD_DATE: string | undefined;

export const VERSION: string = pkg.version;
export const COMMIT: string = typeof NEURO_BUILD_COMMIT === "string" ? NEURO_BUILD_COMMIT : "dev";
export const BUILD_DATE: string = typeof NEURO_BUILD_DATE === "string" ? NEURO_BUILD_DATE : "";
