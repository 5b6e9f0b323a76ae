// Schema versions. Version 1 is the baseline: the NetRaven schema exactly as the ORM's create_all built it at
// netraven 5b1c219, which is what the definitions in this folder describe. A later change to the schema is two
// edits: update the definitions (fresh databases get the new shape directly) and append a migration here whose
// statements bring a database at the previous version to the same shape. init applies pending migrations in order,
// one transaction each, under the init lock; tests/init/adopt.test.ts runs the mechanism with test migrations
// (order, once each, recorded, --dry-run). With no migration yet there is nothing to compare a migrated catalog
// with: the first real migration adds a test that migrating and creating fresh end in the same catalog.
import type { Statement } from "./render.ts";

export interface Migration {
  version: number;
  description: string;
  statements(schema: string): Statement[];
}

export const BASELINE_VERSION = 1;
export const BASELINE_DESCRIPTION = "NetRaven schema as created by the ORM at netraven 5b1c219 (13 tables)";

export const migrations: readonly Migration[] = [];

export function latestVersion(list: readonly Migration[] = migrations): number {
  return list.length ? list[list.length - 1]!.version : BASELINE_VERSION;
}

export const SCHEMA_VERSION = latestVersion();

/** Steps needed to go from `current` to the latest version, in order. */
export function pendingMigrations(current: number, list: readonly Migration[] = migrations): Migration[] {
  return list.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
}
