import { defineCommand } from "citty";
import { listBackups } from "../backup/list.ts";
import { resolveBackupDir } from "../config.ts";
import { EXIT } from "../errors.ts";
import { formatBytes, printJson, printResult } from "../output.ts";
import { PG_DUMP_FILE } from "../pgdump/detect.ts";
import { openStore } from "../storage/index.ts";
import { outputArgs, storeArgs } from "./_args.ts";
import { runBody } from "./_run.ts";

const STATUS = {
  verified: "verified",
  checksummed: "checksum",
  "no-manifest": "no manifest",
  "bad-manifest": "BAD manifest",
  "pg-dump": PG_DUMP_FILE,
  empty: "EMPTY: no dump in it (a failed pg_dump)",
} as const;

export default defineCommand({
  meta: {
    name: "list",
    description: "List the backups in a directory or an S3 location, newest first",
  },
  args: { ...storeArgs, ...outputArgs },
  async run({ args }) {
    return runBody(args, "default", { doing: "list", outcome: "nothing was changed" }, async () => {
      const dir = resolveBackupDir(args.dir, process.env);
      const backups = await listBackups(await openStore(dir, { env: process.env, access: "read", setting: "--dir" }));
      if (args.json) {
        printJson({
          ok: true,
          dir,
          backups: backups.map((b) => ({
            file: b.name,
            path: b.location,
            time: b.time.toISOString(),
            size_bytes: b.sizeBytes,
            schema_version: b.manifest?.schema_version ?? null,
            rows_total: b.manifest?.rows_total ?? null,
            status: b.status,
            encrypted: b.manifest ? b.manifest.encryption !== null : null,
            verified_at: b.manifest?.verified_at ?? null,
            problem: b.manifestProblem ?? b.foreign?.description ?? null,
          })),
        });
        return EXIT.OK;
      }
      if (backups.length === 0) {
        printResult(`No backups in ${dir}.`);
        return EXIT.OK;
      }
      const rows = [["NAME", "TIME (UTC)", "SIZE", "SCHEMA", "ROWS", "STATUS"]];
      for (const b of backups) {
        rows.push([
          b.name,
          b.time.toISOString().replace("T", " ").slice(0, 19),
          formatBytes(b.sizeBytes),
          b.manifest ? `v${b.manifest.schema_version}` : "-",
          b.manifest ? String(b.manifest.rows_total) : "-",
          `${STATUS[b.status]}${b.manifest?.encryption ? ", encrypted" : ""}`,
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      printResult(rows.map((r) => r.map((cell, i) => (i === 2 || i === 4 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n"));
      return EXIT.OK;
    });
  },
});
