import { defineCommand } from "citty";
import { Errors } from "../errors.ts";

export default defineCommand({
  meta: { name: "restore", description: "(in progress)" },
  run() {
    throw Errors.internal("restore is not built yet");
  },
});
