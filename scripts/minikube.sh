#!/usr/bin/env bash
# minikube.sh - the whole local Kubernetes deployment of Todo Chatbot in one command.
#
# Usage: scripts/minikube.sh up|down|status|redeploy|help
#   up        start Minikube (if needed), build both images inside Minikube's Docker, create
#             the Secrets from .env, apply deploy/k8s/overlays/$OVERLAY, run the migration Job,
#             wait for every rollout and print the app's URL. Safe to run again at any time.
#   redeploy  rebuild the images, re-run migrations, re-apply and restart both Deployments
#             (a zero-downtime rolling restart); the cluster must be up.
#   status    the cluster, the app's pods/services/volumes and its URL.
#   down      delete the app (the database volume and the Secrets are kept; PURGE=1 deletes
#             them too), then stop Minikube (KEEP_CLUSTER=1 leaves it running,
#             DELETE_CLUSTER=1 deletes it).
#
# Environment (defaults in brackets):
#   MINIKUBE_PROFILE [minikube]  MINIKUBE_CPUS [4]  MINIKUBE_MEMORY [8g]  MINIKUBE_DRIVER [docker]
#   K8S_VERSION [Minikube's default; the manifests need >= 1.30]  NAMESPACE [todo-chatbot]
#   OVERLAY [local: in-cluster PostgreSQL | neon: DATABASE_URL from .env]  ENV_FILE [.env]
#   DOCKER_BUILD_ARGS [extra `docker build` arguments, e.g. --build-arg ...]
#   WAIT_TIMEOUT [600] seconds per wait  MINIKUBE / KUBECTL / DOCKER: the binaries to use
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROFILE=${MINIKUBE_PROFILE:-minikube}
CPUS=${MINIKUBE_CPUS:-4}
MEMORY=${MINIKUBE_MEMORY:-8g}
DRIVER=${MINIKUBE_DRIVER:-docker}
K8S_VERSION=${K8S_VERSION:-}
NAMESPACE=${NAMESPACE:-todo-chatbot}
OVERLAY=${OVERLAY:-local}
IMAGE_TAG=0.1.0   # the tag deploy/k8s runs (tests/deploy checks that they agree)
WAIT_TIMEOUT=${WAIT_TIMEOUT:-600}
MINIKUBE_BIN=${MINIKUBE:-minikube}
KUBECTL_BIN=${KUBECTL:-kubectl}
DOCKER_BIN=${DOCKER:-docker}
APP_LABEL=app.kubernetes.io/part-of=todo-chatbot

# shellcheck source-path=SCRIPTDIR source=lib/steps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/steps.sh"
trap on_error ERR
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "$0"; }

mk() { "$MINIKUBE_BIN" -p "$PROFILE" "$@"; }
kc() { "$KUBECTL_BIN" --context "$PROFILE" -n "$NAMESPACE" "$@"; }

need() {  # BINARY WHAT-TO-DO
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}
preflight() {
  need "$MINIKUBE_BIN" "install Minikube (https://minikube.sigs.k8s.io/docs/start/) or set MINIKUBE=/path/to/minikube"
  need "$KUBECTL_BIN" "install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL=/path/to/kubectl"
  case "$OVERLAY" in local | neon) ;; *) die "OVERLAY must be local or neon, got '$OVERLAY'" ;; esac
}
cluster_running() {
  [ "$(mk status --format '{{.Host}} {{.APIServer}}' 2>/dev/null || true)" = "Running Running" ]
}

# ------------------------------------------------------------------ steps
start_cluster() {
  step "Minikube profile '$PROFILE' (driver $DRIVER, $CPUS CPUs, $MEMORY memory)" \
    "'$MINIKUBE_BIN start' output above; is the $DRIVER driver usable (docker info)? enough free memory for MINIKUBE_MEMORY=$MEMORY?"
  if cluster_running; then
    info "already running (CPU/memory settings apply only when the profile is created)"
  else
    local args=(start --driver="$DRIVER" --cpus="$CPUS" --memory="$MEMORY")
    [ -z "$K8S_VERSION" ] || args+=(--kubernetes-version="$K8S_VERSION")
    mk "${args[@]}"
  fi
  "$KUBECTL_BIN" --context "$PROFILE" get --raw /readyz >/dev/null \
    || die "the API server of '$PROFILE' does not answer: minikube -p $PROFILE logs"
  info "kubectl context: $PROFILE ($("$KUBECTL_BIN" --context "$PROFILE" version -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | tail -1))"
}

image_id() { "$DOCKER_BIN" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
BUILT_CHANGED=()
build_images() {
  step "Build todo-backend:$IMAGE_TAG and todo-frontend:$IMAGE_TAG inside Minikube's Docker" \
    "the docker build output above; 'minikube -p $PROFILE docker-env' works only with the docker runtime (not containerd/cri-o)"
  need "$DOCKER_BIN" "install the Docker CLI (the images are built by Minikube's Docker daemon)"
  local env
  env=$(mk docker-env --shell bash) || die "minikube docker-env failed (driver/runtime without Docker? use 'minikube image build' by hand)"
  eval "$env"
  local name dir before after
  for name in backend frontend; do
    dir="$ROOT/$name"
    [ -f "$dir/Dockerfile" ] || die "$dir/Dockerfile not found"
    before=$(image_id "todo-$name:$IMAGE_TAG")
    info "docker build -t todo-$name:$IMAGE_TAG $name/"
    # shellcheck disable=SC2086  # DOCKER_BUILD_ARGS is a list of words by design
    "$DOCKER_BIN" build ${DOCKER_BUILD_ARGS:-} -t "todo-$name:$IMAGE_TAG" "$dir"
    after=$(image_id "todo-$name:$IMAGE_TAG")
    if [ "$before" != "$after" ]; then BUILT_CHANGED+=("$name"); fi
  done
  info "images changed: ${BUILT_CHANGED[*]:-none}"
}

ensure_namespace() {
  step "Namespace $NAMESPACE" "kubectl --context $PROFILE get ns $NAMESPACE --show-labels"
  "$KUBECTL_BIN" --context "$PROFILE" create namespace "$NAMESPACE" --dry-run=client -o yaml \
    | "$KUBECTL_BIN" --context "$PROFILE" apply -f - >/dev/null
  # The cluster itself refuses pods that break the "restricted" Pod Security Standard.
  "$KUBECTL_BIN" --context "$PROFILE" label namespace "$NAMESPACE" --overwrite \
    pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted >/dev/null
  info "ready (Pod Security Standard: restricted, enforced)"
}

SECRETS_CHANGED=0
create_secrets() {
  step "Secrets from ${ENV_FILE:-.env} (values are never printed)" \
    "the .env file (AUTH_SECRET >= 32 characters; OVERLAY=neon needs DATABASE_URL); scripts/k8s-secret.sh --help"
  local out
  out=$(NAMESPACE=$NAMESPACE OVERLAY=$OVERLAY KUBE_CONTEXT=$PROFILE KUBECTL=$KUBECTL_BIN \
    "$ROOT/scripts/k8s-secret.sh")
  printf '%s\n' "$out"
  if grep -qE 'secret/[a-z-]+ (configured|created)' <<<"$out"; then SECRETS_CHANGED=1; fi
}

apply_manifests() {
  step "Apply deploy/k8s/overlays/$OVERLAY (migration Job re-created)" \
    "kubectl kustomize deploy/k8s/overlays/$OVERLAY renders? kubectl --context $PROFILE -n $NAMESPACE get events --sort-by=.lastTimestamp"
  # A Job's pod template is immutable: remove the previous run so the current image migrates.
  kc delete job backend-migrate --ignore-not-found --wait=true >/dev/null
  kc apply -k "$ROOT/deploy/k8s/overlays/$OVERLAY"
}

wait_for_job() {  # NAME: until Complete or Failed (bounded)
  local name=$1 deadline=$((SECONDS + WAIT_TIMEOUT)) state
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(kc get job "$name" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}' 2>/dev/null || true)
    case " $state " in
      *" Complete "*) info "job/$name completed"; return 0 ;;
      *" Failed "*)
        kc logs "job/$name" --tail=40 >&2 || true
        die "job/$name failed (logs above): check DATABASE_URL in backend-secret and 'kubectl --context $PROFILE -n $NAMESPACE describe job $name'" ;;
    esac
    sleep 3
  done
  kc logs "job/$name" --tail=40 >&2 || true
  die "job/$name did not finish within ${WAIT_TIMEOUT}s: kubectl --context $PROFILE -n $NAMESPACE describe job $name"
}

wait_for_app() {
  step "Wait: database, migrations, backend and frontend rollouts" \
    "kubectl --context $PROFILE -n $NAMESPACE get pods; kubectl -n $NAMESPACE describe pod <pod>; kubectl -n $NAMESPACE logs <pod> (-c wait-for-migrations)"
  if [ "$OVERLAY" = local ]; then
    kc rollout status statefulset/postgres --timeout="${WAIT_TIMEOUT}s"
  fi
  wait_for_job backend-migrate
  kc rollout status deployment/backend --timeout="${WAIT_TIMEOUT}s"
  kc rollout status deployment/frontend --timeout="${WAIT_TIMEOUT}s"
}

restart_deployments() {  # NAME...: rolling restart (maxUnavailable 0 keeps the app up)
  local name
  for name in "$@"; do
    info "rolling restart of deployment/$name"
    kc rollout restart "deployment/$name"
  done
}

app_url() {
  # With the docker driver on macOS/Windows `minikube service --url` keeps a tunnel open, so
  # only Linux asks Minikube; elsewhere the command to run is printed.
  if [ "$(uname -s)" = Linux ]; then
    timeout 30 "$MINIKUBE_BIN" -p "$PROFILE" service frontend-service -n "$NAMESPACE" --url 2>/dev/null | head -n1
  fi
}

print_url() {
  step "Frontend URL" "kubectl --context $PROFILE -n $NAMESPACE get svc frontend-service; minikube -p $PROFILE service list"
  local url
  url=$(app_url || true)
  if [ -z "$url" ]; then
    info "run: minikube -p $PROFILE service frontend-service -n $NAMESPACE --url   (keeps a tunnel open on macOS/Windows)"
    return 0
  fi
  if command -v curl >/dev/null 2>&1; then
    local i
    for i in $(seq 1 20); do
      if curl -fsS --max-time 3 "$url/health" >/dev/null 2>&1; then break; fi
      [ "$i" -lt 20 ] || die "$url/health does not answer: kubectl --context $PROFILE -n $NAMESPACE get endpoints frontend-service"
      sleep 1
    done
    info "$url/health answers"
  fi
  printf '\nTodo Chatbot is running: %s\n' "$url"
}

# ------------------------------------------------------------------ commands
cmd_up() {
  preflight
  start_cluster
  build_images
  ensure_namespace
  create_secrets
  local existed=() restart=() name
  for name in backend frontend; do
    if kc get "deployment/$name" >/dev/null 2>&1; then existed+=("$name"); fi
  done
  apply_manifests
  # Same tag, new image (or new Secret values): the Deployment spec did not change, so restart.
  for name in "${existed[@]}"; do
    if [ "$SECRETS_CHANGED" = 1 ] || [[ " ${BUILT_CHANGED[*]} " == *" $name "* ]]; then restart+=("$name"); fi
  done
  if [ "${#restart[@]}" -gt 0 ]; then
    step "Pick up new images/Secrets" "kubectl --context $PROFILE -n $NAMESPACE rollout history deployment"
    restart_deployments "${restart[@]}"
  fi
  wait_for_app
  print_url
}

cmd_redeploy() {
  preflight
  cluster_running || die "Minikube profile '$PROFILE' is not running: scripts/minikube.sh up"
  build_images
  ensure_namespace
  create_secrets
  apply_manifests
  step "Rolling restart of both Deployments" "kubectl --context $PROFILE -n $NAMESPACE rollout history deployment"
  restart_deployments backend frontend
  wait_for_app
  print_url
}

cmd_status() {
  preflight
  step "Minikube profile '$PROFILE'" "minikube -p $PROFILE status"
  mk status || { info "not running: scripts/minikube.sh up"; return 0; }
  step "Todo Chatbot in namespace $NAMESPACE" "kubectl --context $PROFILE -n $NAMESPACE get events"
  kc get statefulsets,deployments,jobs,pods,services,pvc,pdb -l "$APP_LABEL" -o wide || true
  local url
  url=$(app_url || true)
  [ -z "$url" ] || printf '\nURL: %s\n' "$url"
}

cmd_down() {
  preflight
  if cluster_running; then
    step "Delete the app from namespace $NAMESPACE" "kubectl --context $PROFILE -n $NAMESPACE get all"
    kc delete -k "$ROOT/deploy/k8s/overlays/$OVERLAY" --ignore-not-found --wait=true
    if [ "${PURGE:-0}" = 1 ]; then
      info "PURGE=1: deleting the database volume and the Secrets"
      kc delete pvc -l app.kubernetes.io/name=postgres --ignore-not-found
      kc delete secret backend-secret postgres-secret --ignore-not-found
    else
      info "kept: database volume (PVC) and Secrets (PURGE=1 deletes them)"
    fi
  else
    info "Minikube profile '$PROFILE' is not running: nothing to delete"
  fi
  if [ "${DELETE_CLUSTER:-0}" = 1 ]; then
    step "Delete Minikube profile '$PROFILE'" "minikube -p $PROFILE delete"
    mk delete
  elif [ "${KEEP_CLUSTER:-0}" != 1 ]; then
    step "Stop Minikube profile '$PROFILE'" "minikube -p $PROFILE stop"
    if cluster_running; then mk stop; else info "already stopped"; fi
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  redeploy) cmd_redeploy ;;
  status) cmd_status ;;
  down) cmd_down ;;
  help | -h | --help) usage ;;
  *) usage >&2; printf '\nERROR: unknown command %s\n' "'${1:-}'" >&2; exit 2 ;;
esac
