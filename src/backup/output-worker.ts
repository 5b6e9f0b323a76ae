// Entry point of the backup's output thread (a Web Worker). build/compile.ts bundles it as an entry of its own, and
// src/workers.ts names its URL; the work itself is in output-core.ts.
import { runOutput } from "./output-core.ts";
import type { OutputScope } from "./output-protocol.ts";
import { normalJit } from "../runtime.ts";

// Compression and checksums from the first byte: this thread exists only for bulk work.
normalJit();
// A Worker's global scope is its `self`.
runOutput(globalThis as unknown as OutputScope);
