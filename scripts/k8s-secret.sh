#!/usr/bin/env bash
# k8s-secret.sh - create/update the app's Kubernetes Secrets from a local .env (never from git).
#
# Usage: scripts/k8s-secret.sh [--env-file FILE] [--namespace NS] [--overlay local|neon]
#                              [--context CTX] [--output FILE]
#   --env-file FILE  default: $ENV_FILE, else .env at the repo root, else backend/.env;
#                    a missing file is fine (everything then gets its default below)
#   --namespace NS   default: $NAMESPACE or todo-chatbot
#   --overlay NAME   local (default: in-cluster PostgreSQL) or neon ($OVERLAY)
#   --context CTX    kubectl context ($KUBE_CONTEXT; default: the current one)
#   --output FILE    write the Secret manifests to FILE (mode 600) instead of applying them;
#                    needs no cluster (existing values cannot be reused then)
#
# backend-secret gets:
#   DATABASE_URL   local: the in-cluster PostgreSQL (postgres-secret's credentials; .env's
#                  DATABASE_URL is ignored); neon: .env's DATABASE_URL (required, postgresql://)
#   AUTH_SECRET    .env's value (>= 32 characters; BETTER_AUTH_SECRET is accepted as its alias),
#                  else the value already in the cluster (so sessions survive redeploys), else
#                  64 random hex characters
#   GROQ_API_KEY, OPENAI_API_KEY, LLM_API_KEY  when set in .env
#   LLM_PROVIDER, LLM_MODEL, LLM_BASE_URL      when set in .env (they override backend-config);
#                  a GROQ_API_KEY without LLM_PROVIDER selects groq
# postgres-secret (local overlay only) is created once with a random password and then kept:
# the data volume stays initialised with that password.
# Variables set in the environment win over the .env file (read by scripts/lib/envfile.sh, the
# same reader as helm-deploy.sh: quotes, inline comments, export, CRLF). Values are never printed
# or passed on a command line (they go through a private temp file). Bash 3.2 or newer.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KUBECTL_BIN=${KUBECTL:-kubectl}
NAMESPACE=${NAMESPACE:-todo-chatbot}
OVERLAY=${OVERLAY:-local}
KUBE_CONTEXT=${KUBE_CONTEXT:-}
ENV_FILE=${ENV_FILE:-}
OUTPUT=""

say() { printf '  [k8s-secret] %s\n' "$*"; }
die() { printf '  [k8s-secret] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p;}' "$0"; }  # p;} for BSD sed (macOS)
# shellcheck source-path=SCRIPTDIR source=lib/envfile.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/envfile.sh"

while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) ENV_FILE=${2:?--env-file needs a path}; shift ;;
    --namespace) NAMESPACE=${2:?--namespace needs a name}; shift ;;
    --overlay) OVERLAY=${2:?--overlay needs local or neon}; shift ;;
    --context) KUBE_CONTEXT=${2:?--context needs a name}; shift ;;
    --output) OUTPUT=${2:?--output needs a path}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
case "$OVERLAY" in local | neon) ;; *) die "--overlay must be local or neon, got '$OVERLAY'" ;; esac
command -v "$KUBECTL_BIN" >/dev/null || die "kubectl not found (install it, or set KUBECTL=/path/to/kubectl)"

kc() {
  if [ -n "$KUBE_CONTEXT" ]; then "$KUBECTL_BIN" --context "$KUBE_CONTEXT" "$@"; else "$KUBECTL_BIN" "$@"; fi
}

# ------------------------------------------------------------------ read the .env file
if [ -z "$ENV_FILE" ]; then
  for f in "$ROOT/.env" "$ROOT/backend/.env"; do
    if [ -f "$f" ]; then ENV_FILE=$f; break; fi
  done
fi
if [ -n "$ENV_FILE" ]; then
  [ -f "$ENV_FILE" ] || die "env file $ENV_FILE does not exist"
  say "reading settings from $ENV_FILE"
  envfile_read "$ENV_FILE"
else
  say "no .env found (looked for $ROOT/.env and $ROOT/backend/.env): using defaults"
fi
# The values this script decided (the database URL, the auth secret, the provider) override
# what the environment and the file say: they are kept in OUT__<KEY> variables.
set_value() { printf -v "OUT__$1" '%s' "$2"; }
get() {  # KEY -> the decided value, else the environment's, else the file's
  local out="OUT__$1"
  if [ -n "${!out+set}" ]; then printf '%s' "${!out}"; else env_setting "$1"; fi
}

# ------------------------------------------------------------------ values already in the cluster
existing() {  # SECRET KEY -> decoded value, or nothing (also when there is no cluster)
  [ -z "$OUTPUT" ] || return 0
  local b64
  b64=$(kc -n "$NAMESPACE" get secret "$1" -o "jsonpath={.data.$2}" --request-timeout=10s 2>/dev/null) || return 0
  [ -z "$b64" ] || printf '%s' "$b64" | base64 -d
}
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
MANIFESTS="$TMP/secrets.yaml"
: >"$MANIFESTS"

LABELS=(app.kubernetes.io/part-of=todo-chatbot app.kubernetes.io/instance=todo-chatbot
  app.kubernetes.io/managed-by=k8s-secret.sh)

add_secret() {  # NAME ENVFILE LABEL...  -> appends a labelled Secret manifest
  local name=$1 file=$2; shift 2
  {
    printf -- '---\n'
    kc create secret generic "$name" --from-env-file="$file" --dry-run=client -o yaml \
      | kc label --local -f - "${LABELS[@]}" "$@" --dry-run=client -o yaml \
      | grep -v '^  creationTimestamp: null$'
  } >>"$MANIFESTS"
}

# ------------------------------------------------------------------ postgres-secret (local)
if [ "$OVERLAY" = local ]; then
  pg_user=$(existing postgres-secret POSTGRES_USER); pg_pass=$(existing postgres-secret POSTGRES_PASSWORD)
  pg_db=$(existing postgres-secret POSTGRES_DB)
  if [ -n "$pg_pass" ]; then
    say "postgres-secret: keeping the existing credentials (the data volume uses them)"
  else
    pg_user=todo pg_db=todo pg_pass=$(random_hex 24)
    say "postgres-secret: new random password for user '$pg_user', database '$pg_db'"
  fi
  printf 'POSTGRES_USER=%s\nPOSTGRES_PASSWORD=%s\nPOSTGRES_DB=%s\n' "$pg_user" "$pg_pass" "$pg_db" >"$TMP/postgres.env"
  add_secret postgres-secret "$TMP/postgres.env" app.kubernetes.io/name=postgres \
    app.kubernetes.io/component=database app.kubernetes.io/version=15
  if [ -n "$(get DATABASE_URL)" ]; then
    say "DATABASE_URL from .env ignored: the local overlay uses the in-cluster PostgreSQL (OVERLAY=neon uses yours)"
  fi
  set_value DATABASE_URL "postgresql://$pg_user:$pg_pass@postgres:5432/$pg_db"
else
  url=$(get DATABASE_URL)
  case "$url" in
    postgresql://* | postgres://* | postgresql+asyncpg://*) ;;
    '') die "the neon overlay needs DATABASE_URL=postgresql://USER:PASSWORD@HOST/DB?sslmode=require in .env or the environment" ;;
    *) die "the neon overlay needs a PostgreSQL DATABASE_URL (postgresql://...), not '${url%%:*}:...'" ;;
  esac
  host=${url#*@}; host=${host%%/*}; host=${host%%\?*}
  say "DATABASE_URL: from ${ENV_FILE:-the environment} (host $host)"
fi

# ------------------------------------------------------------------ backend-secret
auth=$(auth_secret_setting)
auth_name=${auth%% *}; auth=${auth#* }
if [ -n "$auth" ]; then
  [ "${#auth}" -ge 32 ] || die "$auth_name in ${ENV_FILE:-the environment} has ${#auth} characters; production needs >= 32 (openssl rand -hex 32), or leave it empty to get a random one"
  say "AUTH_SECRET: from $auth_name in ${ENV_FILE:-the environment}"
else
  auth=$(existing backend-secret AUTH_SECRET)
  if [ -n "$auth" ]; then
    say "AUTH_SECRET: keeping the one in the cluster (sessions stay valid)"
  else
    auth=$(random_hex 32)
    say "AUTH_SECRET: generated (64 random hex characters)"
  fi
fi
set_value AUTH_SECRET "$auth"
if [ -n "$(get GROQ_API_KEY)" ] && [ -z "$(get LLM_PROVIDER)" ]; then set_value LLM_PROVIDER groq; fi

keys=""
for key in DATABASE_URL AUTH_SECRET GROQ_API_KEY OPENAI_API_KEY LLM_API_KEY LLM_PROVIDER LLM_MODEL LLM_BASE_URL; do
  v=$(get "$key")
  [ -n "$v" ] || continue
  [[ $v != *$'\n'* ]] || die "$key spans several lines; a single line is expected"
  printf '%s=%s\n' "$key" "$v" >>"$TMP/backend.env"
  keys="$keys $key"
done
add_secret backend-secret "$TMP/backend.env" app.kubernetes.io/name=todo-backend \
  app.kubernetes.io/component=backend app.kubernetes.io/version=0.1.0
say "backend-secret keys:$keys (LLM_PROVIDER=$(get LLM_PROVIDER | sed 's/^$/local (backend-config)/'))"

# ------------------------------------------------------------------ write or apply
if [ -n "$OUTPUT" ]; then
  install -m 600 "$MANIFESTS" "$OUTPUT"
  say "wrote the Secret manifests to $OUTPUT (mode 600; do not commit it)"
else
  out=$(kc -n "$NAMESPACE" apply -f "$MANIFESTS" 2>&1) \
    || die "kubectl apply failed: $out (check: kubectl config current-context; namespace $NAMESPACE exists)"
  printf '%s\n' "$out" | sed 's/^/  [k8s-secret] /'
fi
