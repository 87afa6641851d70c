#!/usr/bin/env bash
# mcp-token-secret.sh - give kagent (or any in-cluster MCP client) a login token for the app's /mcp.
#
# Usage: deploy/kagent/mcp-token-secret.sh [--api-url URL] [--email EMAIL] [--namespace NS]
#                                          [--name SECRET] [--context CTX] [--output FILE]
#   --api-url URL    the backend's base URL (default $TODO_API_URL or http://localhost:8001);
#                    on Minikube first run: kubectl -n todo-chatbot port-forward svc/backend-service 8001:8001
#   --email EMAIL    the account the agent acts as ($TODO_MCP_EMAIL, default kagent@example.com);
#                    signed up on first use. Its password comes from $TODO_MCP_PASSWORD (>= 8
#                    characters, required; never a command-line argument)
#   --namespace NS   where the Secret goes (default kagent: next to the RemoteMCPServer)
#   --name SECRET    the Secret's name (default todo-mcp-auth, as deploy/kagent/todo-mcp-server.yaml)
#   --context CTX    kubectl context (default: the current one)
#   --output FILE    write the Secret manifest to FILE (mode 600) instead of applying it
#
# The Secret holds one key, Authorization = "Bearer <access token>". Tokens expire after the
# backend's ACCESS_TOKEN_EXPIRE_MINUTES (default 1440 = one day): run this again to renew.
# The token and the password are never printed.
set -Eeuo pipefail

API_URL=${TODO_API_URL:-http://localhost:8001}
EMAIL=${TODO_MCP_EMAIL:-kagent@example.com}
NAMESPACE=kagent
NAME=todo-mcp-auth
CONTEXT=""
OUTPUT=""
KUBECTL_BIN=${KUBECTL:-kubectl}

say() { printf '  [mcp-token] %s\n' "$*"; }
die() { printf '  [mcp-token] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --api-url) API_URL=${2:?--api-url needs a URL}; shift ;;
    --email) EMAIL=${2:?--email needs an address}; shift ;;
    --namespace) NAMESPACE=${2:?--namespace needs a name}; shift ;;
    --name) NAME=${2:?--name needs a name}; shift ;;
    --context) CONTEXT=${2:?--context needs a name}; shift ;;
    --output) OUTPUT=${2:?--output needs a path}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done

PASSWORD=${TODO_MCP_PASSWORD:-}
[ "${#PASSWORD}" -ge 8 ] || die "set TODO_MCP_PASSWORD (at least 8 characters) for $EMAIL"
command -v curl >/dev/null || die "curl not found"
command -v "$KUBECTL_BIN" >/dev/null || die "kubectl not found (or set KUBECTL=/path/to/kubectl)"
API_URL=${API_URL%/}

umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# JSON bodies go through files, so the password is never on a command line (ps) or in a log.
json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
printf '{"email":"%s","password":"%s"}' "$(printf '%s' "$EMAIL" | json_escape)" \
  "$(printf '%s' "$PASSWORD" | json_escape)" >"$TMP/credentials.json"

post() {  # PATH -> HTTP status; body in $TMP/response.json
  curl -sS --max-time 15 -o "$TMP/response.json" -w '%{http_code}' -X POST \
    -H 'content-type: application/json' --data-binary "@$TMP/credentials.json" "$API_URL$1" \
    || die "cannot reach $API_URL (is the backend running / port-forwarded?)"
}

status=$(post /api/auth/login)
if [ "$status" = 401 ]; then
  say "no account $EMAIL yet (or a different password): signing up"
  status=$(post /api/auth/signup)
  [ "$status" = 201 ] || die "sign-up of $EMAIL failed with HTTP $status: $(cat "$TMP/response.json")
(409 = the account exists with another password: use that one in TODO_MCP_PASSWORD)"
elif [ "$status" != 200 ]; then
  die "login failed with HTTP $status: $(cat "$TMP/response.json")"
fi
token=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' "$TMP/response.json")
[ -n "$token" ] || die "the backend's answer has no access_token"

# The token must open the API before it goes into the cluster.
printf 'Authorization: Bearer %s\n' "$token" >"$TMP/auth.header"
me=$(curl -sS --max-time 15 -o /dev/null -w '%{http_code}' -H "@$TMP/auth.header" "$API_URL/api/auth/me") || true
[ "$me" = 200 ] || die "the new token was refused by $API_URL/api/auth/me (HTTP $me)"
say "logged in as $EMAIL"

printf 'Authorization=Bearer %s\n' "$token" >"$TMP/secret.env"
kc() { if [ -n "$CONTEXT" ]; then "$KUBECTL_BIN" --context "$CONTEXT" "$@"; else "$KUBECTL_BIN" "$@"; fi; }
kc create secret generic "$NAME" --namespace "$NAMESPACE" --from-env-file="$TMP/secret.env" \
  --dry-run=client -o yaml | grep -v '^  creationTimestamp: null$' >"$TMP/secret.yaml"

if [ -n "$OUTPUT" ]; then
  install -m 600 "$TMP/secret.yaml" "$OUTPUT"
  say "wrote Secret $NAMESPACE/$NAME to $OUTPUT (mode 600; do not commit it)"
else
  kc apply -f "$TMP/secret.yaml" | sed 's/^/  [mcp-token] /'
fi
