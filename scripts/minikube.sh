#!/usr/bin/env bash
# minikube.sh - the whole local Kubernetes deployment of Todo Chatbot in one command.
#
# Usage: scripts/minikube.sh up|down|status|redeploy|help
#   up        start Minikube (if needed), build both images and load them into Minikube (any
#             container runtime: docker, containerd, cri-o), create the Secrets from .env, apply
#             deploy/k8s/overlays/$OVERLAY with this build's image tags, run the migration Job,
#             wait for every rollout and print the app's URL. Safe to run again at any time.
#   redeploy  rebuild the images, re-run migrations, re-apply and restart both Deployments
#             (a zero-downtime rolling restart); the cluster must be up.
#   status    the cluster and its container runtime, the app's pods/services/volumes, the
#             image tags running and the URL.
#   down      delete the app (the database volume and the Secrets are kept; PURGE=1 deletes
#             them too), then stop Minikube (KEEP_CLUSTER=1 leaves it running,
#             DELETE_CLUSTER=1 deletes it).
#
# Environment (defaults in brackets):
#   MINIKUBE_PROFILE [minikube]  MINIKUBE_CPUS [4]  MINIKUBE_MEMORY [8g]  MINIKUBE_DRIVER [docker]
#   MINIKUBE_CONTAINER_RUNTIME [Minikube's default: containerd since Minikube 1.39] for a new
#     profile; an existing profile keeps its runtime (every runtime works)
#   K8S_VERSION [Minikube's default; the manifests need >= 1.30]  NAMESPACE [todo-chatbot]
#   OVERLAY [local: in-cluster PostgreSQL | neon: DATABASE_URL from .env]  ENV_FILE [.env]
#   IMAGE_BUILDER [docker when a Docker CLI is installed, else minikube]: docker = `docker build`
#     on the host + `minikube image load`; minikube = `minikube image build` inside the node
#   DOCKER_BUILD_ARGS [extra `docker build` arguments, e.g. --build-arg ...]
#   WAIT_TIMEOUT [600] seconds per wait  MINIKUBE / KUBECTL / DOCKER: the binaries to use
# Images are tagged 0.1.0-<12 hex of their sources' content> (scripts/lib/images.sh): a change
# rolls the pods, `kubectl rollout undo` returns to the previous code, old tags stay on the node.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROFILE=${MINIKUBE_PROFILE:-minikube}
CPUS=${MINIKUBE_CPUS:-4}
MEMORY=${MINIKUBE_MEMORY:-8g}
DRIVER=${MINIKUBE_DRIVER:-docker}
K8S_VERSION=${K8S_VERSION:-}
NAMESPACE=${NAMESPACE:-todo-chatbot}
OVERLAY=${OVERLAY:-local}
RUNTIME_FLAG=${MINIKUBE_CONTAINER_RUNTIME:-}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-600}
MINIKUBE_BIN=${MINIKUBE:-minikube}
KUBECTL_BIN=${KUBECTL:-kubectl}
DOCKER_BIN=${DOCKER:-docker}
APP_LABEL=app.kubernetes.io/part-of=todo-chatbot

# shellcheck source-path=SCRIPTDIR source=lib/steps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/steps.sh"
# shellcheck source-path=SCRIPTDIR source=lib/images.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/images.sh"
WORK=""
trap on_error ERR
trap '[ -z "$WORK" ] || rm -rf "$WORK"' EXIT
usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p;}' "$0"; }  # p;} for BSD sed (macOS)

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
  step "Minikube profile '$PROFILE' (driver $DRIVER, $CPUS CPUs, $MEMORY memory${RUNTIME_FLAG:+, runtime $RUNTIME_FLAG})" \
    "'$MINIKUBE_BIN start' output above; is the $DRIVER driver usable (docker info)? enough free memory for MINIKUBE_MEMORY=$MEMORY?"
  if cluster_running; then
    info "already running (CPU/memory/runtime settings apply only when the profile is created)"
  else
    local args=(start --driver="$DRIVER" --cpus="$CPUS" --memory="$MEMORY")
    [ -z "$K8S_VERSION" ] || args+=(--kubernetes-version="$K8S_VERSION")
    [ -z "$RUNTIME_FLAG" ] || args+=(--container-runtime="$RUNTIME_FLAG")
    mk "${args[@]}"
  fi
  "$KUBECTL_BIN" --context "$PROFILE" get --raw /readyz >/dev/null \
    || die "the API server of '$PROFILE' does not answer: minikube -p $PROFILE logs"
  info "kubectl context: $PROFILE ($("$KUBECTL_BIN" --context "$PROFILE" version -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | tail -1)), container runtime $(cluster_runtime)"
}

build_images() {
  step "Images todo-backend and todo-frontend (content-tagged) in Minikube" \
    "the build output above; minikube -p $PROFILE image ls | grep todo-"
  ensure_images "$ROOT" 0
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

render_manifests() {  # -> $WORK/app.yaml: the overlay with this build's image tags
  WORK=${WORK:-$(mktemp -d)}
  mkdir -p "$WORK/kustomize"
  "$KUBECTL_BIN" kustomize "$ROOT/deploy/k8s/overlays/$OVERLAY" >"$WORK/kustomize/overlay.yaml"
  # The committed manifests run the bare release tag; kustomize's image transformer swaps in the
  # content tags (Deployments and the migration Job) without touching the working tree.
  cat >"$WORK/kustomize/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [overlay.yaml]
images:
  - {name: todo-backend, newTag: "$BACKEND_TAG"}
  - {name: todo-frontend, newTag: "$FRONTEND_TAG"}
EOF
  "$KUBECTL_BIN" kustomize "$WORK/kustomize" >"$WORK/app.yaml"
}

apply_manifests() {
  step "Apply deploy/k8s/overlays/$OVERLAY with todo-backend:$BACKEND_TAG, todo-frontend:$FRONTEND_TAG (migration Job re-created)" \
    "kubectl kustomize deploy/k8s/overlays/$OVERLAY renders? kubectl --context $PROFILE -n $NAMESPACE get events --sort-by=.lastTimestamp"
  render_manifests
  # A Job's pod template is immutable: remove the previous run so the current image migrates.
  kc delete job backend-migrate --ignore-not-found --wait=true >/dev/null
  kc apply -f "$WORK/app.yaml"
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
  local existed="" name
  for name in backend frontend; do
    if kc get "deployment/$name" >/dev/null 2>&1; then existed="$existed $name"; fi
  done
  apply_manifests
  # A new image is a new tag, so its Deployment rolls by itself; new Secret values change no
  # pod template, so the Deployments that already ran restart to read them.
  if [ "$SECRETS_CHANGED" = 1 ] && [ -n "$existed" ]; then
    step "Pick up the new Secrets" "kubectl --context $PROFILE -n $NAMESPACE rollout history deployment"
    # shellcheck disable=SC2086  # a list of names
    restart_deployments $existed
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
  info "container runtime: $(cluster_runtime)"
  step "Todo Chatbot in namespace $NAMESPACE" "kubectl --context $PROFILE -n $NAMESPACE get events"
  kc get statefulsets,deployments,jobs,pods,services,pvc,pdb -l "$APP_LABEL" -o wide || true
  printf '\nImages running (0.1.0-<content>; kubectl rollout undo returns to the previous one):\n'
  kc get deployments -l "$APP_LABEL" \
    -o 'jsonpath={range .items[*]}    {.metadata.name}: {.spec.template.spec.containers[*].image}{"\n"}{end}' || true
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
