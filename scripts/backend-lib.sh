# Shared by scripts/otel-backends.sh and scripts/redis-backend.sh (sourced, not run): installing Debian packages
# without touching the system's apt state, and running one loopback server by PID. The sourcing script defines
# `say` and `fail`, and the globals these functions name: dir, suite, mirror, keyring, pid_file, url_file, log_file,
# health_timeout_s.

# Downloads the packages from Debian `$suite` with a private apt (its own sources list, state and cache under
# `$apt`, no parts directory, no lock on the system's state: nothing needs root, the system's apt sees none of it),
# and extracts them into `$root` with `dpkg -x`, replacing what was there; their names and versions go to
# `$versions`, one a line.
#   install_debian_packages <apt dir> <root> <versions file> <package>...
install_debian_packages() {
  local apt="$1" root="$2" versions="$3"
  shift 3
  local packages=("$@")
  command -v apt-get >/dev/null || fail "apt-get not found: install needs a Debian-like system (apt-get, dpkg)"
  command -v dpkg >/dev/null || fail "dpkg not found"
  [[ -r "$keyring" ]] || fail "$keyring not found (Debian package debian-archive-keyring): cannot verify packages"

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

  say "downloading ${packages[*]}"
  rm -f "$apt/debs"/*.deb
  if ! (cd "$apt/debs" && apt-get "${opts[@]}" download "${packages[@]}" >"$apt/download.log" 2>&1); then
    cat "$apt/download.log" >&2
    fail "could not download ${packages[*]} from $mirror ($suite)"
  fi

  rm -rf "$root.partial"
  mkdir -p "$root.partial"
  : >"$versions"
  local deb
  for deb in "$apt/debs"/*.deb; do
    say "extracting $(basename "$deb")"
    dpkg -x "$deb" "$root.partial"
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >>"$versions"
  done
  rm -rf "$root"
  mv "$root.partial" "$root"
}

# The PID in `$pid_file` when that process still runs.
running_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port)); s.close() })'
}

# Waits until `check...` succeeds for the server just started as `pid`; fails (and stops it) when it exits first or
# does not answer within `$health_timeout_s`.
#   wait_until_up <pid> <name> <what it must answer> <check command>...
wait_until_up() {
  local pid="$1" name="$2" what="$3"
  shift 3
  local deadline=$((SECONDS + health_timeout_s))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log_file" >&2
      rm -f "$pid_file"
      fail "$name exited at start (log above, $log_file)"
    fi
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$pid_file"
      fail "$name did not answer $what within ${health_timeout_s} s (log: $log_file)"
    fi
    sleep 0.1
  done
}

# Stops the server by its PID and waits for it to exit (SIGKILL after 15 s).
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
