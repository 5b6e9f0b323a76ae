// The fast path's search_path facts: quick-check.ts receives pg_db_role_setting as it is and keeps what
// inspect-database.sql keeps (this database's and this role's search_path entries, and the ones for every database
// or every role). Precedence among them is effectiveSearchPathSetting's, shared with the full path; the end-to-end
// behaviour (a reset setting sends init down the full path) is in init.test.ts.
import { expect, test } from "bun:test";
import { searchPathSettingsOf } from "../../src/init/quick-check.ts";

test("only this database's and this role's search_path entries are kept, marked by what they are tied to", () => {
  const settings = searchPathSettingsOf({
    database_oid: "16384",
    role_oid: "10",
    role_settings: [
      ["16384", "0", ["work_mem=64MB", 'search_path="netraven", public']],
      ["16384", "10", ["search_path=a"]],
      ["0", "10", ["search_path=b", "statement_timeout=0"]],
      ["0", "0", ["search_path=c"]],
      ["16385", "0", ["search_path=other database"]],
      ["16384", "11", ["search_path=other role"]],
      ["0", "12", ["search_path=other role anywhere"]],
      ["16384", "0", null],
      ["0", "10", ["search_path_x=not this", "xsearch_path=nor this"]],
    ],
  });
  expect(settings).toEqual([
    { database: true, role: false, value: '"netraven", public' },
    { database: true, role: true, value: "a" },
    { database: false, role: true, value: "b" },
    { database: false, role: false, value: "c" },
  ]);
});

test("a role that to_regrole cannot see (null) matches only the entries for every role", () => {
  expect(searchPathSettingsOf({ database_oid: "5", role_oid: null, role_settings: [["5", "10", ["search_path=r"]], ["5", "0", ["search_path=d"]]] })).toEqual([{ database: true, role: false, value: "d" }]);
});
