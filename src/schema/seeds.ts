// Default rows the app expects (netraven-schema.md §6). init inserts what is missing and never overwrites a row
// that exists: the old app reset every admin setting on each start, which threw away admins' changes.

export interface AdminSettingSeed {
  key: string;
  value: unknown;
  value_type: "string" | "number" | "boolean" | "json";
  category: "security" | "system" | "notification";
  description: string;
  is_required: boolean;
  is_sensitive: boolean;
  display_order: number;
}

const setting = (
  key: string,
  value: unknown,
  description: string,
  order: number,
  flags: { required?: boolean; sensitive?: boolean } = {},
): AdminSettingSeed => ({
  key,
  value,
  value_type: typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : typeof value === "string" ? "string" : "json",
  category: key.split(".")[0] as AdminSettingSeed["category"],
  description,
  is_required: flags.required ?? true,
  is_sensitive: flags.sensitive ?? false,
  display_order: order,
});

export const adminSettingSeeds: readonly AdminSettingSeed[] = [
  setting("security.password_policy.min_length", 8, "Minimum number of characters in a password", 1),
  setting("security.password_policy.require_uppercase", true, "Passwords must contain an uppercase letter", 2),
  setting("security.password_policy.require_lowercase", true, "Passwords must contain a lowercase letter", 3),
  setting("security.password_policy.require_number", true, "Passwords must contain a digit", 4),
  setting("security.password_policy.require_special", true, "Passwords must contain a special character", 5),
  setting("security.token.access_token_expire_minutes", 30, "Minutes until an access token expires", 6),
  setting("security.token.refresh_token_expire_days", 7, "Days until a refresh token expires", 7),
  setting("security.login.max_failed_attempts", 5, "Failed logins before the account is locked", 8),
  setting("security.login.lockout_minutes", 15, "Minutes an account stays locked after too many failed logins", 9),
  setting("system.general.application_name", "NetRaven", "Name shown in the user interface", 1),
  setting("system.jobs.max_concurrent_jobs", 5, "Jobs that may run at the same time", 2),
  setting("system.backup.enabled", true, "Whether scheduled device backups run", 3),
  setting("system.backup.frequency_hours", 24, "Hours between scheduled device backups", 4),
  setting("system.backup.retention_days", 30, "Days device backups are kept", 5),
  setting("system.backup.storage_type", "local", "Where device backups are stored", 6),
  setting("notification.email.enabled", false, "Whether email notifications are sent", 1),
  setting("notification.email.from_address", "noreply@example.com", "Sender address of notification emails", 2),
  setting("notification.email.smtp_server", "smtp.example.com", "SMTP server for notification emails", 3),
  setting("notification.email.smtp_port", 587, "SMTP server port", 4),
  setting("notification.email.smtp_use_tls", true, "Use TLS when talking to the SMTP server", 5),
  setting("notification.email.smtp_username", "", "SMTP user name", 6, { required: false, sensitive: true }),
  setting("notification.email.smtp_password", "", "SMTP password", 7, { required: false, sensitive: true }),
];

export const defaultTag = {
  id: "tag-default",
  name: "Default",
  color: "#6366F1",
  description: "Default tag for all devices",
} as const;

/** The ORM's Python default for users.notification_preferences; a bootstrap admin gets it too. */
export const defaultNotificationPreferences = {
  email_notifications: true,
  email_on_job_completion: true,
  email_on_job_failure: true,
  notification_frequency: "immediate",
} as const;

export const bootstrapAdmin = {
  username: "admin",
  email: "admin@netraven.local",
} as const;
