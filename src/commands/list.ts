import { defineCommand } from "citty";
import { Errors } from "../errors.ts";

export default defineCommand({
  meta: { name: "list", description: "(in progress)" },
  run() {
    throw Errors.internal("list is not built yet");
  },
});
