#!/usr/bin/env bash
# `make run`: the backend (SQLite file, offline `local` agent) and the frontend together on this
# machine. Prints the URL to open; Ctrl-C stops both.
#   BACKEND_PORT (8001)  FRONTEND_PORT (3000)
#   FRONTEND_MODE=dev (default: `next dev`, hot reload) | prod (`next build`, then the standalone server)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
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
for port in "$BACKEND_PORT" "$FRONTEND_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use (set BACKEND_PORT / FRONTEND_PORT to use others)"
  fi
done

if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  say "installing frontend dependencies (npm ci)"
  (cd frontend && npm ci --no-audit --no-fund)
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && break
      sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # url, seconds, name
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null || node -e "fetch('$1').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || die "$3 did not start within $2 s"
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "$3 exited during start-up (see its output above)"; done
    sleep 0.5
  done
}

say "backend on http://127.0.0.1:$BACKEND_PORT (SQLite: backend/todo.db, LLM_PROVIDER=${LLM_PROVIDER:-local})"
# X-Forwarded-For is believed only from the frontend on this machine (which sends the socket peer).
(cd backend && FORWARDED_ALLOW_IPS=127.0.0.1 exec "$UV" run --frozen todo-api serve --host 127.0.0.1 --port "$BACKEND_PORT") &
pids+=($!)

if [ "$FRONTEND_MODE" = prod ]; then
  say "building the frontend (next build)"
  (cd frontend && npm run build)
  say "frontend (standalone server) on http://localhost:$FRONTEND_PORT"
  (cd frontend/.next/standalone && PORT=$FRONTEND_PORT HOSTNAME=0.0.0.0 BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" exec node server.js) &
else
  say "frontend (next dev) on http://localhost:$FRONTEND_PORT"
  (cd frontend && BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" exec npx next dev --port "$FRONTEND_PORT") &
fi
pids+=($!)

wait_for "http://127.0.0.1:$BACKEND_PORT/health" 60 backend
wait_for "http://127.0.0.1:$FRONTEND_PORT/health" 120 frontend

printf '\n  \033[1;32mTodo Chatbot is running: open http://localhost:%s\033[0m\n' "$FRONTEND_PORT"
printf '  API docs: http://localhost:%s/docs   Ctrl-C stops both.\n\n' "$BACKEND_PORT"

# Stop everything as soon as either side exits.
wait -n "${pids[@]}"
die "a server stopped; shutting down the other"
