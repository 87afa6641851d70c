"""Run the deploy scripts against stubbed `minikube`, `kubectl`, `docker` and `helm` binaries that
record every call: what a script would do to a cluster, checked without one.

The stubs answer like the real tools for what the scripts read (cluster status, the node's
container runtime, the images on the node, a Job's conditions, a Helm release's status); the
offline parts of kubectl (`kustomize`, `--dry-run=client`, `label --local`) run the real binary,
so the manifests a script applies are the real ones and are kept for inspection.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import policy
from deploytools import REPO, run_script

# Each stub appends "<tool> <args>" to $STUB_DIR/calls.log.
MINIKUBE_STUB = r"""#!/usr/bin/env bash
printf 'minikube %s\n' "$*" >>"$STUB_DIR/calls.log"
if [ "${1:-}" = -p ]; then shift 2; fi
case "${1:-} ${2:-}" in
  "status "*)
    state=$(cat "$STUB_DIR/status" 2>/dev/null || echo "Running Running")
    case " $* " in
      *" --format "*) printf '%s' "$state" ;;
      *) printf 'host: %s\n' "${state%% *}" ;;
    esac
    [ "$state" = "Running Running" ] || exit 7 ;;
  "start "*) echo "Running Running" >"$STUB_DIR/status" ;;
  "stop "*) echo "Stopped Stopped" >"$STUB_DIR/status" ;;
  "image ls") cat "$STUB_DIR/images" 2>/dev/null || true ;;
  "image load") printf 'docker.io/library/%s\n' "$3" >>"$STUB_DIR/images" ;;
  "image build")
    shift 2
    while [ $# -gt 0 ]; do
      if [ "$1" = -t ]; then printf 'docker.io/library/%s\n' "$2" >>"$STUB_DIR/images"; fi
      shift
    done ;;
  "service "*) exit 1 ;;
esac
exit 0
"""

KUBECTL_STUB = r"""#!/usr/bin/env bash
printf 'kubectl %s\n' "$*" >>"$STUB_DIR/calls.log"
args=()
while [ $# -gt 0 ]; do
  case "$1" in --context) shift ;; *) args+=("$1") ;; esac
  shift
done
set -- "${args[@]}"
case " $* " in
  *" kustomize "* | *" --dry-run=client "* | *" --local "*) exec "$REAL_KUBECTL" "$@" ;;
  *" get --raw /readyz "*) echo ok ;;
  *" version -o json "*) echo '{"serverVersion": {"gitVersion": "v1.34.1"}}' ;;
  *containerRuntimeVersion*) printf '%s' "${STUB_RUNTIME-containerd://2.1.4}" ;;
  *" apply -f - "*) cat >/dev/null ;;
  *" apply -f "*)
    n=$(find "$STUB_DIR" -name 'applied-*.yaml' | wc -l | tr -d ' ')
    while [ "$1" != -f ]; do shift; done
    cp "$2" "$STUB_DIR/applied-$n.yaml"
    if grep -q '^kind: Secret' "$2"; then
      echo "${STUB_SECRET_APPLY-secret/backend-secret unchanged}"
    fi
    echo "applied $2" ;;
  *" get job backend-migrate "*) printf 'Complete ' ;;
  *" get deployment/"*) [ -n "${STUB_DEPLOYED:-}" ] || exit 1 ;;
  *" get secret "*) exit 1 ;;
esac
exit 0
"""

DOCKER_STUB = r"""#!/usr/bin/env bash
printf 'docker %s\n' "$*" >>"$STUB_DIR/calls.log"
if [ "${1:-}" = build ] && [ -n "${STUB_DOCKER_FAIL:-}" ]; then
  echo "ERROR: failed to solve: process did not complete successfully" >&2
  exit 1
fi
exit 0
"""

# `helm status RELEASE -o json` prints $STUB_DIR/helm-status.json (no file: no release);
# `helm list --pending -o json` prints helm-pending.json, `helm history -o json` helm-history.json.
HELM_STUB = r"""#!/usr/bin/env bash
printf 'helm %s\n' "$*" >>"$STUB_DIR/calls.log"
args=()
while [ $# -gt 0 ]; do
  case "$1" in --kube-context | -n) shift ;; *) args+=("$1") ;; esac
  shift
done
set -- "${args[@]}"
case "${1:-}" in
  status)
    [ -f "$STUB_DIR/helm-status.json" ] || { echo "Error: release: not found" >&2; exit 1; }
    case " $* " in
      *" -o json "*) cat "$STUB_DIR/helm-status.json" ;;
      *) printf 'NAME: %s\nSTATUS: deployed\n' "$2" ;;
    esac ;;
  history)
    if [ -f "$STUB_DIR/helm-history.json" ] && [[ " $* " == *" -o json "* ]]; then
      cat "$STUB_DIR/helm-history.json"
    else
      printf 'REVISION\tSTATUS\n1\tdeployed\n'
    fi ;;
  list)
    case " $* " in
      *" --pending "*) cat "$STUB_DIR/helm-pending.json" 2>/dev/null || echo '[]' ;;
      *) echo '[]' ;;
    esac ;;
  upgrade) [ -z "${STUB_HELM_FAIL:-}" ] || { echo "Error: $STUB_HELM_FAIL" >&2; exit 1; } ;;
esac
exit 0
"""


@dataclass
class Sandbox:
    """A throw-away copy of the repository's scripts and manifests, with small stand-in build
    contexts in a git repository of its own, and the stubs on PATH."""

    root: Path
    stubs: Path
    kubectl: str
    env: dict[str, str] = field(default_factory=dict)

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_script(
            [str(self.root / "scripts" / script), *args],
            env={
                "PATH": f"{self.stubs}:/usr/bin:/bin",
                "STUB_DIR": str(self.stubs),
                "REAL_KUBECTL": self.kubectl,
                **self.env,
                **env,
            },
            timeout=120,
        )

    def calls(self, tool: str | None = None) -> list[str]:
        log = self.stubs / "calls.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [line for line in lines if tool is None or line.startswith(f"{tool} ")]

    def reset_calls(self) -> None:
        (self.stubs / "calls.log").unlink(missing_ok=True)
        for applied in self.stubs.glob("applied-*.yaml"):
            applied.unlink()

    def applied(self, kind: str) -> list[policy.Obj]:
        """Every object of that kind in the files given to `kubectl apply -f`."""
        objs = [
            o
            for path in sorted(self.stubs.glob("applied-*.yaml"))
            for o in policy.parse_yaml(path.read_text())
        ]
        return [o for o in objs if o.get("kind") == kind]

    def images_on_node(self) -> list[str]:
        path = self.stubs / "images"
        return path.read_text().split() if path.exists() else []

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def tree(self, path: str) -> str:
        return self.git("rev-parse", f"HEAD:{path}")


def make_sandbox(tmp_path: Path, kubectl: str) -> Sandbox:
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    for script in (REPO / "scripts").glob("*.sh"):
        shutil.copy2(script, root / "scripts" / script.name)
    shutil.copytree(REPO / "scripts" / "lib", root / "scripts" / "lib")
    shutil.copytree(REPO / "deploy" / "k8s", root / "deploy" / "k8s")
    shutil.copytree(
        REPO / "deploy" / "helm", root / "deploy" / "helm", ignore=shutil.ignore_patterns("*.tgz")
    )
    (root / "deploy" / "helm" / "todo-chatbot" / "charts").mkdir(exist_ok=True)
    for name, source in (("backend", "main.py"), ("frontend", "server.js")):
        (root / name).mkdir()
        (root / name / "Dockerfile").write_text("FROM scratch\nARG APP_VERSION=dev\n")
        (root / name / source).write_text(f"// {name} v1\n")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for tool, text in (
        ("minikube", MINIKUBE_STUB),
        ("kubectl", KUBECTL_STUB),
        ("docker", DOCKER_STUB),
        ("helm", HELM_STUB),
    ):
        (stubs / tool).write_text(text)
        (stubs / tool).chmod(0o755)
    box = Sandbox(root, stubs, kubectl)
    box.git("init", "-q")
    box.git("add", "-A")
    box.git("commit", "-qm", "sandbox")
    return box
