#!/usr/bin/env node
// The `dssr` executable. It runs the TypeScript sources directly through tsx's ESM loader, so a
// fresh clone works right after `npm ci`, with no build step. See src/cli/bin.ts.
import { register } from "tsx/esm/api";

register();
await import(new URL("../src/cli/bin.ts", import.meta.url).href);
