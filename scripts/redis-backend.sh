#!/usr/bin/env bash
# A real Redis for the budget store's tests (test/e2e/BudgetRedis.test.ts), on 127.0.0.1 only, state under .backends/.
#
#   scripts/redis-backend.sh install   redis-server: the one on PATH when there is one, else Debian's package (and the
#                                      libraries it needs that the system lacks) from the system's own release,
#                                      downloaded with a private apt state and extracted with `dpkg -x` (the system's
#                                      apt state is not touched, nothing runs as a service)
#   scripts/redis-backend.sh start     redis-server on a free loopback port, no persistence; .backends/redis.pid and
#                                      .backends/redis.url
#   scripts/redis-backend.sh stop      stops it by its PID and waits for it to exit
#   scripts/redis-backend.sh status    prints whether it runs, and where
#
# The tests also start and stop servers of their own (the Redis-stopped-midway checks) with the binary this prints:
#   scripts/redis-backend.sh path
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo/.backends"
root="$dir/redis-root"
# The binary picks its mode from the name it is run under, so the extracted one is run through a link of that name.
link="$dir/redis-bin/redis-server"
pid_file="$dir/redis.pid"
url_file="$dir/redis.url"
log_file="$dir/redis.log"
suite="${BOTANU_REDIS_SUITE:-$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-bookworm}")}"
mirror="${BOTANU_BACKENDS_MIRROR:-http://deb.debian.org/debian}"
keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
health_timeout_s="${BOTANU_BACKENDS_HEALTH_TIMEOUT:-30}"

# shellcheck source=scripts/backend-lib.sh
. "$repo/scripts/backend-lib.sh"

say() { printf 'redis-backend: %s\n' "$*"; }
fail() {
  printf 'redis-backend: error: %s\n' "$*" >&2
  exit 1
}

# The binary to run and, for the extracted one, the library folder it needs: "binary<TAB>library path".
locate() {
  if [[ -x "$link" ]]; then
    printf '%s\t%s\n' "$link" "$root/usr/lib/x86_64-linux-gnu:$root/usr/lib"
  elif command -v redis-server >/dev/null; then
    printf '%s\t\n' "$(command -v redis-server)"
  else
    return 1
  fi
}

# Runs redis-server with `exec`, so that in a background subshell the PID noted is redis-server's own.
run_redis() {
  local found binary libs
  found="$(locate)" || fail "not installed: run '$0 install' first"
  binary="${found%%$'\t'*}"
  libs="${found#*$'\t'}"
  if [[ -n "$libs" ]]; then
    LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$binary" "$@"
  else
    exec "$binary" "$@"
  fi
}

cmd_install() {
  if locate >/dev/null && (run_redis --version) >/dev/null 2>&1; then
    say "already installed: $(run_redis --version)"
    return 0
  fi
  # redis-tools holds the binary; the libraries are those of its dependencies a minimal system may lack (libc6,
  # libssl3, libsystemd0 and libatomic1 are in every Debian base system).
  install_debian_packages "$dir/redis-apt" "$root" "$dir/redis-versions" redis-tools libjemalloc2 liblzf1
  [[ -x "$root/usr/bin/redis-check-rdb" ]] || fail "the extracted packages do not contain usr/bin/redis-check-rdb"
  mkdir -p "$(dirname "$link")"
  ln -sf "$root/usr/bin/redis-check-rdb" "$link"
  (run_redis --version) >/dev/null || fail "the extracted redis-server does not run: $(run_redis --version 2>&1 || true)"
  say "installed $(paste -sd ',' "$dir/redis-versions" | sed 's/,/, /g') in $root: $(run_redis --version)"
}

# PING over a plain TCP connection (no redis-cli needed): the inline command and its +PONG reply.
ping() {
  node -e '
    const socket = require("node:net").connect(Number(process.argv[1]), "127.0.0.1")
    const fail = () => process.exit(1)
    socket.setTimeout(1000, fail).on("error", fail).on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => process.exit(data.toString().startsWith("+PONG") ? 0 : 1))
  ' "$1"
}

cmd_start() {
  locate >/dev/null || fail "not installed: run '$0 install' first"
  if pid="$(running_pid)"; then
    say "already running (pid $pid) at $(cat "$url_file")"
    return 0
  fi
  local port
  port="$(free_port)"
  # No persistence, loopback only, in the foreground of its own process (stopped by PID).
  (run_redis --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --loglevel warning \
    --dir "$dir" "$@" >"$log_file" 2>&1) &
  local pid=$!
  echo "$pid" >"$pid_file"
  wait_until_up "$pid" redis-server "PING on 127.0.0.1:$port" ping "$port"
  echo "redis://127.0.0.1:$port" >"$url_file"
  say "redis-server running (pid $pid) at redis://127.0.0.1:$port"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    local url port
    url="$(cat "$url_file" 2>/dev/null || true)"
    port="${url##*:}"
    if [[ -n "$url" ]] && ping "$port"; then
      say "running (pid $pid) at $url, answering PING"
    else
      say "running (pid $pid), not answering at ${url:-(no $url_file)}"
      return 1
    fi
  else
    say "not running"
    locate >/dev/null && say "installed: $(run_redis --version)" || say "not installed (run '$0 install')"
    return 1
  fi
}

# The binary and library path the tests use to start servers of their own: "binary<TAB>library path".
cmd_path() {
  locate || fail "not installed: run '$0 install' first"
}

case "${1:-}" in
  install) cmd_install ;;
  start)
    shift
    cmd_start "$@"
    ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  path) cmd_path ;;
  *)
    echo "usage: $0 install | start [extra redis-server flags] | stop | status | path" >&2
    exit 2
    ;;
esac
