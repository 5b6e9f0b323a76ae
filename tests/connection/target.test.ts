// target_session_attrs as libpq judges a session (fe-connect.c, CONNECTION_CHECK_TARGET): read-write/read-only by
// transaction_read_only (a standby is always read-only), primary/standby by pg_is_in_recovery(); and what each
// command needs. The same table runs against real servers in tests/connection/ha.test.ts.
import { describe, expect, test } from "bun:test";
import { effectiveTarget, mismatch, orderHosts } from "../../src/connection/target.ts";

const primary = { inRecovery: false, readOnly: false };
const readOnlyPrimary = { inRecovery: false, readOnly: true };
const standby = { inRecovery: true, readOnly: true };

describe("mismatch", () => {
  test("each target_session_attrs against a primary, a read-only primary and a standby", () => {
    const table = {
      any: [undefined, undefined, undefined],
      "read-write": [undefined, "read-only", "standby"],
      "read-only": ["read-write", undefined, undefined],
      primary: [undefined, undefined, "standby"],
      standby: ["primary", "primary", undefined],
      "prefer-standby": ["primary", "primary", undefined],
    } as const;
    for (const [wanted, expected] of Object.entries(table)) {
      expect([primary, readOnlyPrimary, standby].map((state) => mismatch(wanted as keyof typeof table, state))).toEqual([...expected]);
    }
  });
});

describe("effectiveTarget", () => {
  test("a command that writes needs read-write whatever the string says; a reader takes the string's", () => {
    for (const asked of ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const) {
      expect(effectiveTarget(asked, "primary")).toBe("read-write");
      expect(effectiveTarget(asked, "any")).toBe(asked);
    }
  });
});

describe("orderHosts", () => {
  test("as listed unless load_balance_hosts=random", () => {
    expect(orderHosts([1, 2, 3, 4], "disable")).toEqual([1, 2, 3, 4]);
  });

  test("random is a permutation, and every host comes first sometimes", () => {
    const firsts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const order = orderHosts([1, 2, 3], "random");
      expect([...order].sort()).toEqual([1, 2, 3]);
      firsts.add(order[0]!);
    }
    expect([...firsts].sort()).toEqual([1, 2, 3]);
  });

  test("the shuffle uses the random source it is given (Fisher-Yates)", () => {
    expect(orderHosts(["a", "b", "c"], "random", () => 0)).toEqual(["b", "c", "a"]);
    expect(orderHosts(["a", "b", "c"], "random", () => 0.999)).toEqual(["a", "b", "c"]);
  });
});
