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
  command -v apt-get >/dev/null || fail "apt-get not found: install needs a Debian-like system (apt-get, dpkg)"
  command -v dpkg >/dev/null || fail "dpkg not found"
  [[ -r "$keyring" ]] || fail "$keyring not found (Debian package debian-archive-keyring): cannot verify packages"

  # A private apt, as scripts/otel-backends.sh does: its own sources list, state and cache under .backends/redis-apt.
  local apt="$dir/redis-apt"
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/etc" "$apt/debs"
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" >"$apt/etc/sources.list"
  local opts=(
    -o "Dir::State=$apt/state"
    -o "Dir::State::status=$apt/state/status"
    -o "Dir::Cache=$apt/cache"
    -o "Dir::Etc::SourceList=$apt/etc/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=$(id -un)"
    -o "Acquire::Retries=2"
    -q
  )
  touch "$apt/state/status"

  say "fetching the $suite package index from $mirror (private apt state in $apt)"
  if ! apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 ||
    grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$apt/update.log"; then
    cat "$apt/update.log" >&2
    fail "could not fetch the Debian $suite package index from $mirror (no network, or the mirror is unreachable); set BOTANU_BACKENDS_MIRROR to another Debian mirror"
  fi

  # redis-tools holds the binary; the libraries are those of its dependencies a minimal system may lack (libc6,
  # libssl3, libsystemd0 and libatomic1 are in every Debian base system).
  local packages=(redis-tools libjemalloc2 liblzf1)
  say "downloading ${packages[*]}"
  rm -f "$apt/debs"/*.deb
  if ! (cd "$apt/debs" && apt-get "${opts[@]}" download "${packages[@]}" >"$apt/download.log" 2>&1); then
    cat "$apt/download.log" >&2
    fail "could not download ${packages[*]} from $mirror ($suite)"
  fi

  rm -rf "$root.partial"
  mkdir -p "$root.partial"
  : >"$dir/redis-versions"
  for deb in "$apt/debs"/*.deb; do
    say "extracting $(basename "$deb")"
    dpkg -x "$deb" "$root.partial"
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >>"$dir/redis-versions"
  done
  rm -rf "$root"
  mv "$root.partial" "$root"
  [[ -x "$root/usr/bin/redis-check-rdb" ]] || fail "the extracted packages do not contain usr/bin/redis-check-rdb"
  mkdir -p "$(dirname "$link")"
  ln -sf "$root/usr/bin/redis-check-rdb" "$link"
  (run_redis --version) >/dev/null || fail "the extracted redis-server does not run: $(run_redis --version 2>&1 || true)"
  say "installed $(paste -sd ',' "$dir/redis-versions" | sed 's/,/, /g') in $root: $(run_redis --version)"
}

running_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close() })'
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
  local deadline=$((SECONDS + health_timeout_s))
  until ping "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log_file" >&2
      rm -f "$pid_file"
      fail "redis-server exited at start (log above, $log_file)"
    fi
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      fail "redis-server did not answer PING on 127.0.0.1:$port within ${health_timeout_s} s (log: $log_file)"
    fi
    sleep 0.1
  done
  echo "redis://127.0.0.1:$port" >"$url_file"
  say "redis-server running (pid $pid) at redis://127.0.0.1:$port"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    rm -f "$pid_file" "$url_file"
    return 0
  fi
  kill "$pid"
  local deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      say "pid $pid still running after 15 s: sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$pid_file" "$url_file"
  say "stopped (pid $pid)"
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
