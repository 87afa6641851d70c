# shellcheck shell=bash
# Step-by-step output for the deploy scripts (minikube.sh, helm-deploy.sh): each step announces
# itself, and a failing command reports the step it broke in and what to check.
# Source it, then `trap on_error ERR` (with `set -E` so functions and subshells inherit the trap).

STEP=0
HINT=""
step() {  # TITLE HINT: announce a step and what to check if it fails
  STEP=$((STEP + 1)); HINT=$2
  printf '\n==> [%d] %s\n' "$STEP" "$1"
}
info() { printf '    %s\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }
on_error() {
  local rc=$?
  printf '\nFAILED (exit %s) in step %s: %s\n' "$rc" "$STEP" "$BASH_COMMAND" >&2
  [ -z "$HINT" ] || printf 'Check: %s\n' "$HINT" >&2
  exit "$rc"
}
