/** Where the shared material lives: `../shared` beside the repository, or $DSSR_SHARED. */
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const SHARED = process.env.DSSR_SHARED ?? join(repoRoot, "..", "shared");
export const DATA = join(SHARED, "data");
export const FIXTURES = join(SHARED, "fixtures", "dssr-golden");
export const REPO = repoRoot;
