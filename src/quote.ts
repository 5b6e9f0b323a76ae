// Identifiers and literals that end up inside DDL text. Everything dynamic in a statement goes through these
// (or through postgres.js parameters), so a schema called `a"; drop table x; --` stays a schema name.
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** As PostgreSQL's quote_literal: with a backslash, the E'' form, so the result means the same whatever
 * standard_conforming_strings says. */
export function quoteLiteral(value: string): string {
  const quoted = value.replace(/'/g, "''");
  return value.includes("\\") ? `E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

/**
 * Fills `$1`, `$2`... with literals. A query with parameters costs postgres.js an extra round trip on a new
 * connection (it asks the server for their types first); every CLI run is a new connection, so the few queries on
 * the start-up path carry their values inline instead, quoted like everything else. Only for fixed SQL text (the
 * files in sql/): a `$1` inside an identifier spliced in beforehand would be replaced too.
 */
export function bindLiterals(text: string, values: readonly string[]): string {
  return text.replace(/\$(\d+)/g, (match, n: string) => {
    const value = values[Number(n) - 1];
    if (value === undefined) throw new Error(`no value for ${match}`);
    return quoteLiteral(value);
  });
}

/** A text[] literal for a query parameter (`$1::text[]`); postgres.js cannot type JS arrays without fetch_types. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}
