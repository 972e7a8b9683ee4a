#!/usr/bin/env bash
# Real OTLP backends for the end-to-end test (test/e2e), on 127.0.0.1 only, everything under .backends/ in the repo.
#
#   scripts/otel-backends.sh install   VictoriaMetrics and the official OTLP .proto files, from Debian trixie's
#                                      packages, extracted with `dpkg -x` (the system's apt state is not touched)
#   scripts/otel-backends.sh start     VictoriaMetrics on a free loopback port; .backends/vm.pid and .backends/vm.url
#   scripts/otel-backends.sh stop      stops it by its PID and waits for it to exit
#   scripts/otel-backends.sh status    prints whether it runs, and where
#
# The trace receiver is not a process here: the test starts its own (test/utils/otlpReceiver.ts), decoding with the
# .proto files installed by `install`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo/.backends"
root="$dir/root"
vm_bin="$root/usr/bin/victoria-metrics"
proto_dir="$root/usr/include/opentelemetry/proto"
pid_file="$dir/vm.pid"
url_file="$dir/vm.url"
log_file="$dir/vm.log"
suite="${BOTANU_BACKENDS_SUITE:-trixie}"
mirror="${BOTANU_BACKENDS_MIRROR:-http://deb.debian.org/debian}"
keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
health_timeout_s="${BOTANU_BACKENDS_HEALTH_TIMEOUT:-30}"

say() { printf 'otel-backends: %s\n' "$*"; }
fail() {
  printf 'otel-backends: error: %s\n' "$*" >&2
  exit 1
}

installed() { [[ -x "$vm_bin" && -f "$proto_dir/collector/metrics/v1/metrics_service.proto" && -f "$proto_dir/collector/trace/v1/trace_service.proto" ]]; }

cmd_install() {
  if installed; then
    say "already installed: $(paste -sd ',' "$dir/versions" | sed 's/,/, /g') in $root"
    return 0
  fi
  command -v apt-get >/dev/null || fail "apt-get not found: install needs a Debian-like system (apt-get, dpkg)"
  command -v dpkg >/dev/null || fail "dpkg not found"
  [[ -r "$keyring" ]] || fail "$keyring not found (Debian package debian-archive-keyring): cannot verify packages"

  # A private apt: its own sources list, state and cache under .backends/apt, no parts directory, no lock on the
  # system's state. Nothing here needs root, and the system's apt sees none of it.
  local apt="$dir/apt"
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

  say "downloading victoria-metrics and opentelemetry-proto"
  rm -f "$apt/debs"/*.deb
  if ! (cd "$apt/debs" && apt-get "${opts[@]}" download victoria-metrics opentelemetry-proto >"$apt/download.log" 2>&1); then
    cat "$apt/download.log" >&2
    fail "could not download the packages victoria-metrics and opentelemetry-proto from $mirror ($suite)"
  fi

  rm -rf "$root.partial"
  mkdir -p "$root.partial"
  : >"$dir/versions"
  for deb in "$apt/debs"/*.deb; do
    say "extracting $(basename "$deb")"
    dpkg -x "$deb" "$root.partial"
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >>"$dir/versions"
  done
  rm -rf "$root"
  mv "$root.partial" "$root"
  installed || fail "the extracted packages do not contain $vm_bin and the OTLP collector protos"
  say "installed $(paste -sd ',' "$dir/versions" | sed 's/,/, /g') in $root"
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

cmd_start() {
  installed || fail "not installed: run '$0 install' first"
  if pid="$(running_pid)"; then
    say "already running (pid $pid) at $(cat "$url_file")"
    return 0
  fi
  # A fresh data directory every start: the test's PromQL answers must see this run's samples only.
  rm -rf "$dir/vm-data"
  mkdir -p "$dir/vm-data"
  local port url
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  # -retentionPeriod=1d keeps nothing around; -search.latencyOffset=0s makes just-written samples queryable at
  # once (after /internal/force_flush) instead of 30 s later.
  # -opentelemetry.usePrometheusNaming: metrics and labels under their Prometheus names (test/e2e/Backends.test.ts).
  "$vm_bin" \
    -httpListenAddr="127.0.0.1:$port" \
    -storageDataPath="$dir/vm-data" \
    -retentionPeriod=1d \
    -search.latencyOffset=0s \
    -search.disableCache \
    -loggerLevel=WARN \
    -opentelemetry.usePrometheusNaming \
    "$@" \
    >"$log_file" 2>&1 &
  local pid=$!
  echo "$pid" >"$pid_file"
  local deadline=$((SECONDS + health_timeout_s))
  until curl -fsS "$url/health" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log_file" >&2
      rm -f "$pid_file"
      fail "VictoriaMetrics exited at start (log above, $log_file)"
    fi
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      fail "VictoriaMetrics did not answer $url/health within ${health_timeout_s} s (log: $log_file)"
    fi
    sleep 0.1
  done
  echo "$url" >"$url_file"
  say "VictoriaMetrics running (pid $pid) at $url; OTLP metrics at $url/opentelemetry/v1/metrics"
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
    local url
    url="$(cat "$url_file" 2>/dev/null || true)"
    if [[ -n "$url" ]] && curl -fsS "$url/health" >/dev/null 2>&1; then
      say "running (pid $pid) at $url, healthy"
    else
      say "running (pid $pid), not answering ${url:-(no $url_file)}/health"
      return 1
    fi
  else
    say "not running"
    installed && say "installed in $root" || say "not installed (run '$0 install')"
    return 1
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  start)
    shift
    cmd_start "$@"
    ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 install | start [extra victoria-metrics flags] | stop | status" >&2
    exit 2
    ;;
esac
