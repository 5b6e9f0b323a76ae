import { defineCommand } from "citty";
import { Errors } from "../errors.ts";

export default defineCommand({
  meta: { name: "backup", description: "(in progress)" },
  run() {
    throw Errors.internal("backup is not built yet");
  },
});
