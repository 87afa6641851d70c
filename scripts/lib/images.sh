# shellcheck shell=bash
# The app's images for the deploy scripts (minikube.sh, helm-deploy.sh): a tag derived from each
# build context's content, a build on the host, and a load into Minikube that works on every
# container runtime (docker, containerd — Minikube's default since 1.39 — and cri-o).
#
# A content tag makes every change a new pod template (the rollout happens by itself), and a
# rollback (`helm rollback`, `kubectl rollout undo`) a return to the previous tag, which stays on
# the node: old tags are never removed by these scripts.
#
# Needs, from the sourcing script: step/info/die (lib/steps.sh), mk (minikube -p PROFILE), and
# KUBECTL_BIN, PROFILE, DOCKER_BIN. Bash 3.2 compatible.

APP_SEMVER=0.1.0   # the release version; the committed manifests and values run this bare tag

sha256() {  # FILE... (none: stdin) -> "digest  name" lines (GNU coreutils or macOS shasum)
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

content_digest() {  # DIR -> a hex digest of the files a build of DIR sees
  local dir=$1 top rel objects tmp tree
  if top=$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null); then
    # The tree git would commit for DIR from the working copy (tracked and untracked files,
    # .gitignore applied): `git rev-parse HEAD:DIR` when clean, new as soon as a file changes.
    # A private index and object directory leave the repository untouched.
    rel=$(git -C "$dir" rev-parse --show-prefix)
    objects=$(cd "$top" && cd "$(git rev-parse --git-common-dir)/objects" && pwd)
    tmp=$(mktemp -d) && mkdir "$tmp/objects"
    tree=$(cd "$top" \
      && export GIT_INDEX_FILE="$tmp/index" GIT_OBJECT_DIRECTORY="$tmp/objects" \
        GIT_ALTERNATE_OBJECT_DIRECTORIES="$objects" \
      && git add -A -- "${rel:-.}" && git write-tree ${rel:+--prefix="$rel"}) || tree=""
    rm -rf "$tmp"
    [ -n "$tree" ] || die "could not hash $dir with git (git status in $top)"
    printf '%s' "$tree"
  else
    # No git (a source tarball): every file's path and content, minus what builds leave behind.
    # (one file per line: a file name with a newline would merely make the digest differ)
    (cd "$dir" && find . -type f \
      -not -path './node_modules/*' -not -path './.next/*' -not -path './.venv/*' \
      -not -path '*/__pycache__/*' -not -path './.*_cache/*' | LC_ALL=C sort \
      | while IFS= read -r f; do sha256 "$f"; done | sha256 | cut -c1-64)
  fi
}

image_tag() {  # DIR -> APP_SEMVER-<12 hex of the content>
  local digest
  digest=$(content_digest "$1")
  printf '%s-%s' "$APP_SEMVER" "$(printf '%s' "$digest" | cut -c1-12)"
}

cluster_runtime() {  # the node's container runtime as Kubernetes reports it, e.g. containerd://2.1.4
  local v
  v=$("$KUBECTL_BIN" --context "$PROFILE" get nodes \
    -o 'jsonpath={.items[0].status.nodeInfo.containerRuntimeVersion}' --request-timeout=10s 2>/dev/null || true)
  printf '%s' "${v:-unknown}"
}

CLUSTER_IMAGES=""
in_cluster() {  # REF (name:tag): is it in the node's image store? (`minikube image ls`, any runtime)
  local line
  while IFS= read -r line; do
    case "$line" in "$1" | */"$1") return 0 ;; esac   # docker.io/library/REF on every runtime
  done <<EOF
$CLUSTER_IMAGES
EOF
  return 1
}

IMAGE_BUILDER=${IMAGE_BUILDER:-}
# NAME DIR TAG RUNTIME: make todo-NAME:TAG available to the cluster. An image already there is
# the same content (the tag says so): nothing to do. Otherwise build it on the host and load it
# (IMAGE_BUILDER=docker, the default when a Docker CLI is there), or let Minikube build it inside
# the node (IMAGE_BUILDER=minikube: no Docker needed on the host).
build_and_load() {
  local name=$1 dir=$2 tag=$3 runtime=$4 ref="todo-$1:$3"
  [ -f "$dir/Dockerfile" ] || die "$dir/Dockerfile not found"
  if in_cluster "$ref"; then
    info "$ref is already in the cluster (same content): not rebuilt"
    return 0
  fi
  case "$IMAGE_BUILDER" in
    docker)
      info "docker build -t $ref $name/   (on the host)"
      # shellcheck disable=SC2086  # DOCKER_BUILD_ARGS is a list of words by design
      "$DOCKER_BIN" build ${DOCKER_BUILD_ARGS:-} --build-arg "APP_VERSION=$tag" -t "$ref" "$dir"
      info "minikube image load $ref   (into the $runtime runtime)"
      mk image load "$ref"
      ;;
    minikube)
      info "minikube image build -t $ref $name/   (inside the node, $runtime runtime)"
      mk image build -t "$ref" --build-opt="build-arg=APP_VERSION=$tag" "$dir"
      ;;
    *) die "IMAGE_BUILDER must be docker or minikube, got '$IMAGE_BUILDER'" ;;
  esac
}

BACKEND_TAG=""
FRONTEND_TAG=""
# ROOT SKIP_BUILD: set BACKEND_TAG/FRONTEND_TAG from the sources and make sure the cluster has
# both images (SKIP_BUILD=1 only checks). Call inside a step.
ensure_images() {
  local root=$1 skip=$2 runtime name tag
  runtime=$(cluster_runtime)
  BACKEND_TAG=$(image_tag "$root/backend")
  FRONTEND_TAG=$(image_tag "$root/frontend")
  if [ -z "$IMAGE_BUILDER" ]; then
    if command -v "$DOCKER_BIN" >/dev/null 2>&1; then IMAGE_BUILDER=docker; else IMAGE_BUILDER=minikube; fi
  fi
  # shellcheck disable=SC2034  # read by on_error (lib/steps.sh)
  HINT="the build output above; container runtime $runtime; images on the node: minikube -p $PROFILE image ls | grep todo-; IMAGE_BUILDER=minikube builds inside the node"
  info "container runtime: $runtime; tags from the sources: backend $BACKEND_TAG, frontend $FRONTEND_TAG"
  CLUSTER_IMAGES=$(mk image ls 2>/dev/null || true)
  for name in backend frontend; do
    if [ "$name" = backend ]; then tag=$BACKEND_TAG; else tag=$FRONTEND_TAG; fi
    if [ "$skip" = 1 ]; then
      in_cluster "todo-$name:$tag" \
        || die "SKIP_BUILD=1 but todo-$name:$tag (the current sources) is not in the cluster ($runtime): drop SKIP_BUILD=1"
    else
      build_and_load "$name" "$root/$name" "$tag" "$runtime"
    fi
  done
  CLUSTER_IMAGES=$(mk image ls 2>/dev/null || true)
  for name in "todo-backend:$BACKEND_TAG" "todo-frontend:$FRONTEND_TAG"; do
    in_cluster "$name" \
      || die "$name is not in the cluster's image store after loading it ($runtime runtime): minikube -p $PROFILE image ls; try IMAGE_BUILDER=minikube"
  done
  info "in the cluster: todo-backend:$BACKEND_TAG, todo-frontend:$FRONTEND_TAG (earlier tags are kept for rollbacks)"
}
