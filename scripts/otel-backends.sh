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

# shellcheck source=scripts/backend-lib.sh
. "$repo/scripts/backend-lib.sh"

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
  install_debian_packages "$dir/apt" "$root" "$dir/versions" victoria-metrics opentelemetry-proto
  installed || fail "the extracted packages do not contain $vm_bin and the OTLP collector protos"
  say "installed $(paste -sd ',' "$dir/versions" | sed 's/,/, /g') in $root"
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
  wait_until_up "$pid" VictoriaMetrics "$url/health" curl -fs -o /dev/null "$url/health"
  echo "$url" >"$url_file"
  say "VictoriaMetrics running (pid $pid) at $url; OTLP metrics at $url/opentelemetry/v1/metrics"
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
