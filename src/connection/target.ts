// Which server a command may use: libpq's target_session_attrs, judged after connecting from what the new session
// reports (pg_is_in_recovery(), transaction_read_only), and what the command itself needs. init, restore and
// verify --db write, so they need the writable primary whatever the connection string says; backup and validate
// read, so any server the string allows will do (prefer-standby keeps backup load off the primary).
import type { TargetSessionAttrs } from "./parameters.ts";

/** What a command needs from the server: "primary" = a writable primary, "any" = what target_session_attrs says. */
export type Needs = "primary" | "any";

export interface SessionState {
  inRecovery: boolean;
  readOnly: boolean;
}

/** The target_session_attrs a command connects with. */
export function effectiveTarget(asked: TargetSessionAttrs, needs: Needs): TargetSessionAttrs {
  return needs === "primary" ? "read-write" : asked;
}

/** The hosts in the order to try them: as listed, or shuffled for load_balance_hosts=random (libpq's Fisher-Yates). */
export function orderHosts<T>(hosts: readonly T[], loadBalance: "disable" | "random", random = Math.random): T[] {
  const order = [...hosts];
  if (loadBalance === "random") {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }
  return order;
}

/**
 * Whether a session matches, and if not the one word that says what the server is instead (for the retry line).
 * prefer-standby is tried as "standby" first and "any" second, as libpq does; here it means its first pass.
 */
export function mismatch(wanted: TargetSessionAttrs, state: SessionState): "standby" | "read-only" | "primary" | "read-write" | undefined {
  switch (wanted) {
    case "any":
      return undefined;
    case "read-write":
      return state.readOnly ? (state.inRecovery ? "standby" : "read-only") : undefined;
    case "read-only":
      return state.readOnly ? undefined : "read-write";
    case "primary":
      return state.inRecovery ? "standby" : undefined;
    case "standby":
    case "prefer-standby":
      return state.inRecovery ? undefined : "primary";
  }
}
