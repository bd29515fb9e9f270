#!/usr/bin/env node
// One task of `dssr table --jobs` (src/table-jobs.ts starts it): the TypeScript sources through
// tsx's ESM loader, as bin/dssr.js runs them.
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/table-worker.ts", import.meta.url).href);
