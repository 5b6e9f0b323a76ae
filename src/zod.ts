// zod as every module here uses it: the mini build (functions such as z.minLength instead of methods), English
// messages, no generated code. Loading the classic API took 9-12 ms of every start of the binary against about
// 1 ms for mini (measured in-process, 5 runs each): a tenth of an up-to-date `init`.
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());
// zod compiles each object schema into generated code on its first parse, which pays off over thousands of parses;
// a command parses each schema a few times, and the first parse of a backup manifest took 4.7-7.3 ms with the
// compilation against 2.0-3.9 ms without (every command parses settings, every backup reads manifests).
z.config({ jitless: true });

export { z };
