#!/usr/bin/env bash
# `make run`: the backend (SQLite file, offline `local` agent) and the frontend together on this
# machine. Prints the URL to open. Ctrl-C stops both; when either server exits, the other is
# stopped too and the message says which one exited and with what status.
#   HOST (127.0.0.1: this machine only; 0.0.0.0 to let other machines connect)
#   BACKEND_PORT (8001)  FRONTEND_PORT (3000)
#   FRONTEND_MODE=dev (default: `next dev`, hot reload) | prod (`next build`, then the standalone server)
# Runs on bash 3.2 (macOS): no `wait -n`.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
BACKEND_PORT=${BACKEND_PORT:-8001}
FRONTEND_PORT=${FRONTEND_PORT:-3000}
FRONTEND_MODE=${FRONTEND_MODE:-dev}
UV=${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}
export NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "Node.js 20+ is needed for the frontend (apt-get install nodejs npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20+ is needed, found $(node --version)"
# Where this machine reaches the servers, and the URL to print.
case "$HOST" in
  0.0.0.0 | ::) probe_host=127.0.0.1 url_host=localhost ;;
  127.0.0.1 | localhost) probe_host=$HOST url_host=localhost ;;
  *) probe_host=$HOST url_host=$HOST ;;
esac

for port in "$BACKEND_PORT" "$FRONTEND_PORT"; do
  if (exec 3<>"/dev/tcp/$probe_host/$port") 2>/dev/null; then
    die "port $port is already in use (set BACKEND_PORT / FRONTEND_PORT to use others)"
  fi
done

if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  say "installing frontend dependencies (npm ci)"
  (cd frontend && npm ci --no-audit --no-fund)
fi

# Each server runs in a process group of its own, so stopping it also stops what it started
# (`next dev` forks workers that outlive a signal to `npx` alone).
if command -v setsid >/dev/null; then
  own_group() { exec setsid "$@"; }
else # macOS has no setsid(1); perl ships with it
  own_group() { exec perl -e 'setpgrp(0, 0) or die "setpgrp: $!\n"; exec @ARGV or die "$ARGV[0]: $!\n"' "$@"; }
fi

pids=()
names=()
stop_servers() {
  [ ${#pids[@]} -gt 0 ] || return 0
  local pid _
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
cleanup() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping the servers"
    stop_servers
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# After a server exits: `stopped` is its name, `stopped_how` its exit status in words, `other`
# the server still running. Both empty while both run. Not in a $(...) subshell: only this shell
# can `wait` for its children.
stopped='' stopped_how='' other=''
find_stopped() {
  local i status
  for i in 0 1; do
    [ "$i" -lt ${#pids[@]} ] || return 0
    kill -0 "${pids[$i]}" 2>/dev/null && continue
    status=0
    wait "${pids[$i]}" 2>/dev/null || status=$?
    if [ "$status" -gt 128 ]; then
      stopped_how="killed by SIG$(kill -l "$((status - 128))" 2>/dev/null || echo '?'), status $status"
    else
      stopped_how="status $status"
    fi
    stopped=${names[$i]}
    other=${names[$((1 - i))]:-}
    return 0
  done
}

wait_for() { # url, seconds, name
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null || node -e "fetch('$1').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || die "$3 did not start within $2 s"
    find_stopped
    [ -z "$stopped" ] || die "the $stopped exited during start-up ($stopped_how; see its output above)"
    sleep 0.5
  done
}

say "backend on http://$url_host:$BACKEND_PORT (SQLite: backend/todo.db, LLM_PROVIDER=${LLM_PROVIDER:-local})"
# X-Forwarded-For is believed only from the frontend on this machine (which sends the socket peer).
(cd backend && FORWARDED_ALLOW_IPS=127.0.0.1 own_group "$UV" run --frozen todo-api serve --host "$HOST" --port "$BACKEND_PORT") </dev/null &
pids+=($!)
names+=(backend)

if [ "$FRONTEND_MODE" = prod ]; then
  say "building the frontend (next build)"
  (cd frontend && npm run build)
  say "frontend (standalone server) on http://$url_host:$FRONTEND_PORT"
  (cd frontend/.next/standalone && PORT=$FRONTEND_PORT HOSTNAME=$HOST BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" own_group node server.js) </dev/null &
else
  say "frontend (next dev) on http://$url_host:$FRONTEND_PORT"
  (cd frontend && BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" own_group npx next dev --hostname "$HOST" --port "$FRONTEND_PORT") </dev/null &
fi
pids+=($!)
names+=(frontend)

wait_for "http://$probe_host:$BACKEND_PORT/health" 60 backend
wait_for "http://$probe_host:$FRONTEND_PORT/health" 120 frontend

printf '\n  \033[1;32mTodo Chatbot is running: open http://%s:%s\033[0m\n' "$url_host" "$FRONTEND_PORT"
printf '  API docs: http://%s:%s/docs   Ctrl-C stops both.\n\n' "$url_host" "$BACKEND_PORT"

# Stop both as soon as either exits (polled: bash 3.2 has no `wait -n`).
while :; do
  find_stopped
  [ -z "$stopped" ] || die "the $stopped exited ($stopped_how); stopping the $other too"
  sleep 0.5
done
