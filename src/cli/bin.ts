/**
 * The executable: run main; an expected failure (DssrError) prints as one line `dssr: <message>`
 * with exit code 1, anything else is a bug and prints its stack with exit code 2.
 */
import { isDssrError } from "../errors.js";
import { main } from "./main.js";

// Output piped into a reader that stops early (`dssr table --help | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});

try {
  process.exitCode = await main(process.argv);
} catch (e) {
  if (isDssrError(e)) {
    process.stderr.write(`dssr: ${e.message.replace(/\s*\n\s*/g, " ")}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  }
}
