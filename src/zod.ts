// zod as every module here uses it: the mini build (functions such as z.minLength instead of methods), English
// messages, no generated code. Modules import it as `import * as z from "./zod.ts"` and only ever write `z.name`, so
// the bundler keeps just the functions that are used: evaluating all of classic zod took 9-12 ms of every start of
// the binary, all of zod/mini 7.5-10.5 ms, the part we use about 1 ms (measured in-process, 5 runs each).
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
// zod compiles each object schema into generated code on its first parse, which pays off over thousands of parses;
// a command parses each schema a few times, and the first parse of a backup manifest took 4.7-7.3 ms with the
// compilation against 2.0-3.9 ms without (every command parses settings, every backup reads manifests).
config({ jitless: true });

export * from "zod/mini";
