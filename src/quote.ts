// Identifiers and literals that end up inside DDL text. Everything dynamic in a statement goes through these
// (or through postgres.js parameters), so a schema called `a"; drop table x; --` stays a schema name.
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A text[] literal for a query parameter (`$1::text[]`); postgres.js cannot type JS arrays without fetch_types. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}
