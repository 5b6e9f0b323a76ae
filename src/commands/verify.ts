import { defineCommand } from "citty";
import { Errors } from "../errors.ts";

export default defineCommand({
  meta: { name: "verify", description: "(in progress)" },
  run() {
    throw Errors.internal("verify is not built yet");
  },
});
