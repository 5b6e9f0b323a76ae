#!/bin/sh
# /docker-entrypoint-initdb.d hook for the official postgres image: creates the NetRaven schema with
# `netraven-db init` while the image initialises a new data directory.
#
# When it runs: only on the first start with an empty data volume, after the entrypoint has created
# POSTGRES_USER and POSTGRES_DB, against the temporary server the entrypoint starts. That server listens on the
# unix socket only (listen_addresses=''), so this hook always connects through the socket directory
# (PGHOST=/var/run/postgresql unless PGHOST already names another socket directory, i.e. starts with "/").
#
# How it runs: the image EXECUTES hooks that are executable and SOURCES the others into its own bash process.
# The Dockerfile installs this file with mode 0755, so it is executed. It is written to be safe either way: all
# work happens in a subshell function (no variable or `set` leaks into the entrypoint, no `exit 0` that would end
# the entrypoint early), and a failure exits non-zero, which stops the container start in both cases.
#
# Who runs it: the image's `postgres` user (uid 999; 70 in the -alpine images), not root. The entrypoint reads
# POSTGRES_PASSWORD_FILE as root before it steps down, but netraven-db reads NETRAVEN_DB_ADMIN_PASSWORD_FILE (and
# any other *_FILE) as postgres: a secret created with `umask 077` on the host is unreadable here. Every *_FILE is
# checked before netraven-db runs, and an unreadable one is named with its owner, its mode and the fix.
#
# After a failure: the entrypoint stops, but the data directory it created stays, and the next start (a restart
# policy, `docker start`) skips every init hook and would serve a database WITHOUT the schema that looks healthy.
# So a failed run marks that new data directory: it appends an unknown setting to postgresql.auto.conf, and
# PostgreSQL refuses to start from it ("unrecognized configuration parameter "netraven_db_init_failed"") until the
# volume is removed. Only the directory of the entrypoint's temporary first-start server is marked (its command
# line, postmaster.opts, says listen_addresses=): never a data directory that is already in service.
#
# Settings (the same as the postgres image, *_FILE variants included):
#   POSTGRES_USER(_FILE)      role to connect as (default: postgres)
#   POSTGRES_DB(_FILE)        database to initialise (default: POSTGRES_USER)
#   POSTGRES_PASSWORD(_FILE)  passed to netraven-db as PGPASSWORD / PGPASSWORD_FILE; needed only when
#                             POSTGRES_INITDB_ARGS makes local connections ask for a password
#   PGPORT                    port number of the socket file (default: 5432, as the entrypoint uses)
#   NETRAVEN_DB_ADMIN_PASSWORD(_FILE), NETRAVEN_DB_SCHEMA, NETRAVEN_DB_LOCK_TIMEOUT, ... pass through unchanged
#   NETRAVEN_DB_BIN           the binary (default: netraven-db on PATH)
# The password is never printed: this hook does not echo it, and netraven-db scrubs it from everything it prints.

netraven_initdb() (
	set -u

	say() { printf 'netraven-initdb: %s\n' "$*" >&2; }

	# Every failure exits this subshell explicitly: `set -e` is not relied on, because a shell ignores it inside a
	# function whose caller tests its status.
	initialise() (
		fail() { say "error: $*"; exit 1; }

		# A file this user cannot read, in one line: which variable, the file, its owner and mode, and the fix.
		require_readable() { # VARIABLE PATH
			if [ ! -e "$2" ]; then
				fail "$1: $2 does not exist (is the secrets directory mounted there, and does the file name match?)"
			elif [ -d "$2" ]; then
				fail "$1: $2 is a directory, not a file"
			elif [ ! -r "$2" ]; then
				me=$(id -u)
				owner=$(stat -c 'uid %u, gid %g, mode 0%a' -- "$2" 2>/dev/null) || owner="an owner this shell cannot show"
				fail "$1: $2 is not readable by uid $me ($(id -un 2>/dev/null || echo "?")), which runs the init hooks: it belongs to $owner; give it to uid $me on the host (sudo chown $me on the file mounted there; mode 0600 can stay)"
			fi
		}

		# VAR or the contents of the file named by VAR_FILE, never both (the postgres image's file_env rule).
		read_env_or_file() {
			eval "_direct=\${$1:-}"
			eval "_file=\${$1_FILE:-}"
			if [ -n "$_direct" ] && [ -n "$_file" ]; then
				fail "both $1 and $1_FILE are set (but are exclusive)"
			fi
			if [ -n "$_file" ]; then
				require_readable "$1_FILE" "$_file"
				cat -- "$_file" || fail "$1_FILE: cannot read $_file"
			else
				printf '%s' "$_direct"
			fi
		}

		user=$(read_env_or_file POSTGRES_USER) || exit 1
		[ -n "$user" ] || user=postgres
		database=$(read_env_or_file POSTGRES_DB) || exit 1
		[ -n "$database" ] || database=$user

		case "${PGHOST:-}" in
			/*) socket_dir=$PGHOST ;;
			"") socket_dir=/var/run/postgresql ;;
			*)
				say "ignoring PGHOST=$PGHOST: the entrypoint's temporary server listens on the unix socket only"
				socket_dir=/var/run/postgresql
				;;
		esac
		port=${PGPORT:-5432}

		# Only the socket: a DATABASE_URL meant for the app (or a TLS setting) must not redirect this run.
		unset DATABASE_URL DATABASE_URL_FILE NETRAVEN_DB_URL NETRAVEN_DB_URL_FILE PGHOSTADDR PGSERVICE \
			PGSSLMODE PGSSLROOTCERT PGSSLCERT PGSSLKEY PGPASSWORD_FILE PGUSER_FILE PGDATABASE_FILE PGHOST_FILE PGPORT_FILE
		PGHOST=$socket_dir
		PGPORT=$port
		PGUSER=$user
		PGDATABASE=$database
		export PGHOST PGPORT PGUSER PGDATABASE

		# The password goes by reference when it came from a file, so it never sits in this shell's variables.
		if [ -n "${POSTGRES_PASSWORD:-}" ] && [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
			fail "both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set (but are exclusive)"
		elif [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
			require_readable POSTGRES_PASSWORD_FILE "$POSTGRES_PASSWORD_FILE"
			unset PGPASSWORD
			PGPASSWORD_FILE=$POSTGRES_PASSWORD_FILE
			export PGPASSWORD_FILE
		elif [ -n "${POSTGRES_PASSWORD:-}" ]; then
			PGPASSWORD=$POSTGRES_PASSWORD
			export PGPASSWORD
		fi

		# The files netraven-db itself will read (NETRAVEN_DB_ADMIN_PASSWORD_FILE above all): checked here, where the
		# message can say who runs the hook, instead of failing inside netraven-db with a bare "permission denied".
		for name in $(env | sed -n 's/^\(NETRAVEN_DB_[A-Za-z0-9_]*_FILE\)=.*/\1/p'); do
			eval "_file=\${$name:-}"
			if [ -n "$_file" ]; then require_readable "$name" "$_file"; fi
		done

		bin=${NETRAVEN_DB_BIN:-netraven-db}
		command -v "$bin" >/dev/null 2>&1 || fail "$bin not found on PATH ($PATH)"

		say "initialising database \"$database\" as \"$user\" through $socket_dir/.s.PGSQL.$port"
		status=0
		"$bin" init || status=$?
		if [ "$status" -ne 0 ]; then
			fail "netraven-db init failed with exit status $status; the container start is stopped (see the message above; exit codes: netraven-db --help)"
		fi
		say "done"
	)

	# Makes PostgreSQL refuse to start from the data directory this failed first start created (see the top).
	mark_data_directory_failed() {
		data=${PGDATA:-}
		if [ -z "$data" ] || [ ! -s "$data/PG_VERSION" ] || [ ! -w "$data/postgresql.auto.conf" ]; then return 0; fi
		if ! grep -q '"listen_addresses="' "$data/postmaster.opts" 2>/dev/null; then return 0; fi
		if printf '%s\n' \
			"# netraven-db: the init hook failed on the first start of this data directory (that start's log says why)." \
			"# PostgreSQL refuses to start while the next line is here: remove the data volume, fix the cause, start again." \
			"netraven_db_init_failed = 'remove this data volume, fix the cause and start again'" >>"$data/postgresql.auto.conf"; then
			say "error: $data is marked as failed (netraven_db_init_failed in postgresql.auto.conf): PostgreSQL will refuse to start from it, so a restart cannot serve a database without the schema; remove the data volume, fix the cause and start again"
		fi
	}

	status=0
	initialise || status=$?
	if [ "$status" -ne 0 ]; then mark_data_directory_failed; fi
	exit "$status"
)

# Last command: when executed, its status is the script's; when sourced by the entrypoint (bash with set -e),
# a failure stops the entrypoint and with it the container start.
netraven_initdb
