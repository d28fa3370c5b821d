#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and prints the URL to reach it:
#
#   eval "$(.ci/postgres.sh start)"   # exports FLOWTRACE_TEST_POSTGRES, FLOWTRACE_PG_DIR
#   .ci/postgres.sh stop              # stops it and removes its directory
#
# A fresh cluster in a temporary directory, on a free loopback port, run as an unprivileged
# user (initdb refuses root), with password authentication (the tests check that the password
# never shows). PostgreSQL comes from Debian's packages; it is installed when missing.
set -euo pipefail

PASSWORD=ci-only-Pa55word
USER_NAME=flowtrace

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    return
  fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$found" ] && echo "$found"
}

start() {
  if [ -z "$(find_bin initdb)" ]; then
    echo "postgres.sh: installing postgresql (Debian)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  fi
  local initdb pg_ctl psql
  initdb=$(find_bin initdb)
  pg_ctl=$(find_bin pg_ctl)
  psql=$(find_bin psql)
  local dir
  dir=$(mktemp -d /tmp/flowtrace-pg.XXXXXX)
  local run=()
  if [ "$(id -u)" = 0 ]; then
    chown nobody "$dir"
    run=(runuser -u nobody --)
  fi
  local port
  for port in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      break
    fi
  done
  printf '%s\n' "$PASSWORD" > "$dir/pw"
  chmod 644 "$dir/pw"
  # A self-signed certificate for localhost, so the tests can check sslmode=require and
  # verify-full (with sslrootcert) against a real TLS server.
  command -v openssl >/dev/null || { apt-get update -qq >&2 && apt-get install -y -qq openssl >&2; }
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=flowtrace test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt" >/dev/null 2>&1
  chmod 600 "$dir/server.key"
  chmod 644 "$dir/server.crt" "$dir/ca.crt"
  [ "$(id -u)" = 0 ] && chown nobody "$dir/server.key" "$dir/server.crt"
  "${run[@]}" "$initdb" -D "$dir/data" -U "$USER_NAME" --pwfile="$dir/pw" \
    --auth=scram-sha-256 -E UTF8 >"$dir/initdb.log" 2>&1
  "${run[@]}" "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" start >&2
  PGPASSWORD=$PASSWORD "$psql" -q -h 127.0.0.1 -p "$port" -U "$USER_NAME" -d postgres \
    -c "CREATE DATABASE flowtrace" >&2
  echo "export FLOWTRACE_TEST_POSTGRES='postgres://$USER_NAME:$PASSWORD@127.0.0.1:$port/flowtrace'"
  echo "export FLOWTRACE_PG_DIR='$dir'"
  echo "export FLOWTRACE_TEST_POSTGRES_CA='$dir/ca.crt'"
}

stop() {
  local dir=${FLOWTRACE_PG_DIR:?FLOWTRACE_PG_DIR is not set}
  local pg_ctl run=()
  pg_ctl=$(find_bin pg_ctl)
  [ "$(id -u)" = 0 ] && run=(runuser -u nobody --)
  "${run[@]}" "$pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
