// The user's home directory for libpq's default files (~/.pgpass, ~/.pg_service.conf, ~/.postgresql/): $HOME, else
// the password database. Neither may exist (a bare container root with no HOME and no /etc/passwd): libpq then uses
// no default file, and so do we, instead of failing on os.homedir().
import { homedir } from "node:os";

export function homeDirectory(env: Record<string, string | undefined>): string | undefined {
  if (env.HOME) return env.HOME;
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}
