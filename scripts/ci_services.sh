#!/usr/bin/env bash
# The services CI's tests need, on a fresh Debian/Ubuntu machine, idempotently.
#
#   scripts/ci_services.sh start ENV_FILE   start a throwaway PostgreSQL server, write its
#                                           settings (VALUE_PIPELINE_PG_*) to ENV_FILE
#   scripts/ci_services.sh stop ENV_FILE    stop that server and delete its cluster
#
# `start` also makes sure Debian's `chromium` package is present (/usr/bin/chromium, for the
# browser tests). As root it installs what is missing with apt-get; PostgreSQL refuses to run
# as root, so the cluster then belongs to a `postgres` system user (created when missing).
# The server listens on 127.0.0.1 only, on a free port, with a random password; fsync is off
# because the cluster is deleted at the end of the run.
set -euo pipefail

PG_USER=value_pipeline
PG_DB=value_pipeline_test

usage() {
  echo "usage: $0 start|stop ENV_FILE" >&2
  exit 2
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

find_pg_bindir() {
  local candidate
  candidate=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$candidate" ] && [ -x "$candidate/initdb" ]; then
    echo "$candidate"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
  fi
}

install_missing() {
  local missing=()
  [ -n "$(find_pg_bindir)" ] || missing+=(postgresql)
  if command -v dpkg-query >/dev/null 2>&1; then
    is_installed chromium || missing+=(chromium)
  fi
  [ "${#missing[@]}" -gt 0 ] || return 0
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci_services: please install: ${missing[*]}" >&2
    return 1
  fi
  echo "ci_services: installing ${missing[*]}"
  # Another apt-get may hold the lock for a while (DPkg::Lock::Timeout waits for it).
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}

# Run a command as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local env_file=$1
  install_missing
  local bindir
  bindir=$(find_pg_bindir)
  if [ -z "$bindir" ]; then
    echo "ci_services: PostgreSQL's initdb not found" >&2
    return 1
  fi

  local cluster
  cluster=$(mktemp -d "${TMPDIR:-/tmp}/value-pipeline-pg.XXXXXX")
  # Recorded at once, so that `stop` cleans up after a start that failed half-way.
  (umask 077 && echo "VALUE_PIPELINE_PG_CLUSTER=$cluster" >"$env_file") || { rmdir "$cluster"; return 1; }
  if [ "$(id -u)" = "0" ]; then
    id -u postgres >/dev/null 2>&1 ||
      useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres "$cluster"
  fi
  local password port
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  port=$(free_port)
  (umask 077 && printf '%s\n' "$password" >"$cluster/pwfile")
  if [ "$(id -u)" = "0" ]; then chown postgres "$cluster/pwfile"; fi

  as_owner "$bindir/initdb" --pgdata="$cluster/data" --username="$PG_USER" --pwfile="$cluster/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >"$cluster/initdb.log" 2>&1 ||
    { cat "$cluster/initdb.log" >&2; return 1; }
  rm -f "$cluster/pwfile"
  as_owner "$bindir/pg_ctl" --pgdata="$cluster/data" --log="$cluster/server.log" --wait --timeout=60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null ||
    { cat "$cluster/server.log" >&2; return 1; }
  PGPASSWORD=$password "$bindir/createdb" --host=127.0.0.1 --port="$port" --username="$PG_USER" "$PG_DB"

  (umask 077 && cat >"$env_file" <<EOF
VALUE_PIPELINE_PG_HOST=127.0.0.1
VALUE_PIPELINE_PG_PORT=$port
VALUE_PIPELINE_PG_USER=$PG_USER
VALUE_PIPELINE_PG_PASSWORD=$password
VALUE_PIPELINE_PG_DB=$PG_DB
VALUE_PIPELINE_PG_CLUSTER=$cluster
EOF
  )
  echo "ci_services: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (database $PG_DB)"
}

stop() {
  local env_file=$1
  [ -f "$env_file" ] || return 0
  local cluster
  cluster=$(sed -n 's/^VALUE_PIPELINE_PG_CLUSTER=//p' "$env_file")
  case "$cluster" in
    */value-pipeline-pg.*) ;;
    *) rm -f "$env_file"; return 0 ;;  # start never got as far as creating one
  esac
  local bindir
  bindir=$(find_pg_bindir)
  if [ -d "$cluster/data" ]; then
    as_owner "$bindir/pg_ctl" --pgdata="$cluster/data" --mode=fast --wait stop >/dev/null 2>&1 || true
  fi
  rm -rf "$cluster"
  rm -f "$env_file"
}

[ $# -eq 2 ] || usage
case "$1" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
