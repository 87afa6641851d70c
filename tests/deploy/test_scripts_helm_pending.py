"""helm-deploy.sh and a release left pending by an interrupted `--wait`: it is refused before any
long step, with the exact command that unlocks it (stubbed helm answering as Helm does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stubbed import Sandbox, make_sandbox

UNLOCK = "helm --kube-context minikube -n todo-helm"


@pytest.fixture
def box(tmp_path: Path, kubectl: str) -> Sandbox:
    return make_sandbox(tmp_path, kubectl)


def stuck(box: Sandbox, history: list[tuple[int, str]]) -> None:
    """The release as Helm stores it: `helm history -o json`, `helm list --pending -o json`."""
    records = [
        {
            "revision": rev,
            "updated": "2026-12-04T10:00:00Z",
            "status": status,
            "chart": "todo-chatbot-0.1.0",
            "app_version": "0.1.0",
            "description": 'Upgrade "todo" failed: context deadline exceeded {x},{y}'
            if status == "failed"
            else "Install complete",
        }
        for rev, status in history
    ]
    (box.stubs / "helm-history.json").write_text(json.dumps(records, separators=(",", ":")))
    rev, status = history[-1]
    (box.stubs / "helm-status.json").write_text(json.dumps({"name": "todo", "version": rev}))
    pending = [{"name": "todo", "namespace": "todo-helm", "revision": str(rev), "status": status}]
    (box.stubs / "helm-pending.json").write_text(
        json.dumps(pending if status.startswith("pending-") else [], separators=(",", ":"))
    )


@pytest.mark.parametrize(
    ("history", "fix"),
    [
        (
            [(1, "superseded"), (2, "deployed"), (3, "pending-upgrade")],
            f"{UNLOCK} rollback todo 2 --wait --timeout 10m",
        ),
        (
            [(1, "superseded"), (2, "failed"), (3, "pending-rollback")],
            f"{UNLOCK} rollback todo 1 --wait --timeout 10m",
        ),
        ([(1, "pending-install")], f"{UNLOCK} uninstall todo --wait"),
    ],
    ids=["pending-upgrade", "pending-rollback", "pending-install"],
)
@pytest.mark.parametrize("command", ["install", "upgrade"])
def test_a_stuck_release_is_refused_with_the_command_that_unlocks_it(
    box: Sandbox, command: str, history: list[tuple[int, str]], fix: str
) -> None:
    stuck(box, history)
    proc = box.run("helm-deploy.sh", command)
    assert proc.returncode == 1, proc.stdout
    assert f"is stuck in {history[-1][1]}" in proc.stderr
    assert fix in proc.stderr
    # refused before building anything or calling helm upgrade
    assert box.calls("docker") == []
    assert not [c for c in box.calls("helm") if " upgrade " in c]


def test_a_deployed_release_is_upgraded(box: Sandbox) -> None:
    stuck(box, [(1, "superseded"), (2, "deployed")])
    proc = box.run("helm-deploy.sh", "upgrade")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [c for c in box.calls("helm") if " upgrade --install todo " in c]
    assert "stuck" not in proc.stdout + proc.stderr


def test_status_warns_about_a_stuck_release(box: Sandbox) -> None:
    stuck(box, [(1, "deployed"), (2, "pending-upgrade")])
    proc = box.run("helm-deploy.sh", "status")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: release todo is stuck in pending-upgrade" in proc.stdout
    assert f"{UNLOCK} rollback todo 1 --wait" in proc.stdout


def test_rollback_is_allowed_on_a_stuck_release(box: Sandbox) -> None:
    """`helm rollback` to a deployed revision is the unlock itself."""
    stuck(box, [(1, "deployed"), (2, "pending-upgrade")])
    proc = box.run("helm-deploy.sh", "rollback", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [c for c in box.calls("helm") if " rollback todo 1 --wait" in c]
