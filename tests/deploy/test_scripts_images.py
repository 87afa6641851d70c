"""How minikube.sh and helm-deploy.sh get the app's images into the cluster (any container
runtime, no `minikube docker-env`) and which tags they deploy (content-derived, so a rollback
returns to the previous code) — with stubbed minikube/kubectl/docker/helm recording the calls."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import policy
import pytest
from deploytools import REPO
from stubbed import Sandbox, make_sandbox

from testsupport.tools import require_tool


@pytest.fixture
def box(tmp_path: Path, kubectl: str) -> Sandbox:
    return make_sandbox(tmp_path, kubectl)


def tag_of(box: Sandbox, path: str) -> str:
    return "0.1.0-" + box.tree(path)[:12]


def app_images(box: Sandbox) -> set[str]:
    """Every todo-* image in the Deployments and Jobs given to `kubectl apply`."""
    return {
        c["image"]
        for kind in ("Deployment", "Job")
        for obj in box.applied(kind)
        for _, c in policy.containers(policy.pod_template(obj)["spec"])  # type: ignore[index]
        if c["image"].startswith("todo-")
    }


def sh_tag(box: Sandbox, directory: Path) -> str:
    """scripts/lib/images.sh's image_tag, called directly."""
    lib = box.root / "scripts" / "lib"
    proc = subprocess.run(
        ["bash", "-c", f'. "{lib}/steps.sh"; . "{lib}/images.sh"; image_tag "$1"', "_", directory],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# ------------------------------------------------------------------------------ the tag
def test_tag_is_the_git_tree_of_the_build_context_and_follows_every_change(box: Sandbox) -> None:
    backend = box.root / "backend"
    clean = sh_tag(box, backend)
    assert clean == tag_of(box, "backend")  # `git rev-parse HEAD:backend`, shortened
    assert sh_tag(box, box.root / "frontend") == tag_of(box, "frontend")

    (backend / "main.py").write_text("// backend v2\n")  # an uncommitted edit
    edited = sh_tag(box, backend)
    assert edited != clean and edited.startswith("0.1.0-") and len(edited) == len(clean)
    (backend / "new_module.py").write_text("x = 1\n")  # an untracked file
    assert sh_tag(box, backend) not in {clean, edited}
    (backend / "new_module.py").unlink()
    assert sh_tag(box, backend) == edited  # the same content is the same tag
    (backend / "main.py").write_text("// backend v1\n")
    assert sh_tag(box, backend) == clean
    assert box.git("status", "--porcelain") == ""  # hashing wrote nothing into the repository
    (backend / "ignored.db").write_text("data")  # .gitignore'd files are not part of the build
    (box.root / ".gitignore").write_text("*.db\n")
    assert sh_tag(box, backend) == clean


def test_tag_without_git_hashes_the_files(tmp_path: Path, box: Sandbox) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "Dockerfile").write_text("FROM scratch\n")
    (plain / "node_modules").mkdir()
    (plain / "node_modules" / "dep.js").write_text("1")
    first = sh_tag(box, plain)
    assert first.startswith("0.1.0-") and len(first) == len("0.1.0-") + 12
    (plain / "node_modules" / "dep.js").write_text("2")  # build leftovers do not count
    assert sh_tag(box, plain) == first
    (plain / "Dockerfile").write_text("FROM scratch\nENV A=1\n")
    assert sh_tag(box, plain) != first


# ------------------------------------------------------------------------------ minikube.sh up
def test_up_builds_on_the_host_and_loads_into_the_node_on_containerd(box: Sandbox) -> None:
    proc = box.run("minikube.sh", "up")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    backend, frontend = tag_of(box, "backend"), tag_of(box, "frontend")
    calls = box.calls()
    assert not [c for c in calls if "docker-env" in c]  # works on every runtime
    for name, tag in (("backend", backend), ("frontend", frontend)):
        build = f"docker build --build-arg APP_VERSION={tag} -t todo-{name}:{tag} {box.root}/{name}"
        assert build in calls
    assert f"minikube -p minikube image load todo-backend:{backend}" in calls
    assert f"minikube -p minikube image load todo-frontend:{frontend}" in calls
    # the Deployments and the migration Job run exactly these tags
    assert app_images(box) == {f"todo-backend:{backend}", f"todo-frontend:{frontend}"}
    migrate = [j for j in box.applied("Job") if j["metadata"]["name"] == "backend-migrate"]
    assert migrate and app_images(box) >= {
        c["image"] for c in migrate[0]["spec"]["template"]["spec"]["containers"]
    }
    assert "container runtime containerd://2.1.4" in proc.stdout
    assert not box.git("status", "--porcelain")  # the overlay files were not edited


def test_a_second_up_rebuilds_only_what_changed_and_keeps_the_old_tag(box: Sandbox) -> None:
    assert box.run("minikube.sh", "up").returncode == 0
    old_backend, frontend = tag_of(box, "backend"), tag_of(box, "frontend")
    box.reset_calls()

    assert box.run("minikube.sh", "up", STUB_DEPLOYED="1").returncode == 0
    assert box.calls("docker") == []  # same sources: same tags, already on the node
    assert not [c for c in box.calls("minikube") if " image load " in c]

    (box.root / "backend" / "main.py").write_text("// backend v2\n")
    box.git("commit", "-qam", "v2")
    new_backend = tag_of(box, "backend")
    box.reset_calls()
    proc = box.run("minikube.sh", "up", STUB_DEPLOYED="1")
    assert proc.returncode == 0, proc.stderr
    builds = [c for c in box.calls("docker") if c.startswith("docker build")]
    assert len(builds) == 1 and f"-t todo-backend:{new_backend}" in builds[0]
    assert app_images(box) == {f"todo-backend:{new_backend}", f"todo-frontend:{frontend}"}
    # the new tag rolls the pods by itself (no restart), and the old image stays for a rollback
    assert not [c for c in box.calls() if "rollout restart" in c]
    assert not [c for c in box.calls() if " image rm" in c or " image unload" in c]
    node = box.images_on_node()
    assert f"docker.io/library/todo-backend:{old_backend}" in node
    assert f"docker.io/library/todo-backend:{new_backend}" in node


def test_minikube_builder_needs_no_docker(box: Sandbox) -> None:
    proc = box.run("minikube.sh", "up", DOCKER=str(box.stubs / "no-docker-here"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tag = tag_of(box, "backend")
    assert (
        f"minikube -p minikube image build -t todo-backend:{tag} "
        f"--build-opt=build-arg=APP_VERSION={tag} {box.root}/backend"
    ) in box.calls()
    assert box.calls("docker") == []


def test_a_new_profile_gets_the_chosen_runtime(box: Sandbox) -> None:
    (box.stubs / "status").write_text("Stopped Stopped")
    proc = box.run(
        "minikube.sh", "up", MINIKUBE_CONTAINER_RUNTIME="cri-o", STUB_RUNTIME="cri-o://1.34.0"
    )
    assert proc.returncode == 0, proc.stderr
    starts = [c for c in box.calls("minikube") if " start " in c]
    assert len(starts) == 1 and "--container-runtime=cri-o" in starts[0]
    assert "container runtime cri-o://1.34.0" in proc.stdout


def test_status_names_the_runtime_and_the_running_tags(box: Sandbox) -> None:
    proc = box.run("minikube.sh", "status", STUB_RUNTIME="docker://28.4.0")
    assert proc.returncode == 0, proc.stderr
    assert "container runtime: docker://28.4.0" in proc.stdout
    assert "Images running" in proc.stdout


def test_a_failed_build_names_the_runtime(box: Sandbox) -> None:
    proc = box.run("minikube.sh", "up", STUB_DOCKER_FAIL="1", STUB_RUNTIME="containerd://2.1.4")
    assert proc.returncode == 1
    assert "FAILED (exit 1)" in proc.stderr
    assert "container runtime containerd://2.1.4" in proc.stderr
    assert "IMAGE_BUILDER=minikube" in proc.stderr


def test_an_image_missing_after_the_load_is_an_error(box: Sandbox) -> None:
    # a load that silently did nothing (older Minikube releases had such bugs)
    stub = box.stubs / "minikube"
    stub.write_text(stub.read_text().replace('>>"$STUB_DIR/images" ;;', ">/dev/null ;;", 1))
    proc = box.run("minikube.sh", "up")
    assert proc.returncode == 1
    assert (
        "is not in the cluster's image store after loading it (containerd://2.1.4 runtime)"
        in proc.stderr
    )


# ------------------------------------------------------------------------------ helm-deploy.sh
def test_helm_install_passes_the_content_tags(box: Sandbox) -> None:
    proc = box.run("helm-deploy.sh", "install", SKIP_TEST="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    backend, frontend = tag_of(box, "backend"), tag_of(box, "frontend")
    assert not [c for c in box.calls() if "docker-env" in c]
    assert f"minikube -p minikube image load todo-backend:{backend}" in box.calls()
    (upgrade,) = [c for c in box.calls("helm") if " upgrade --install " in c]
    assert f"--set-string backend.image.tag={backend}" in upgrade
    assert f"--set-string frontend.image.tag={frontend}" in upgrade
    assert "image-id" not in upgrade  # the tag itself changes with the content now


def test_helm_skip_build_requires_the_current_tags_on_the_node(box: Sandbox) -> None:
    proc = box.run("helm-deploy.sh", "upgrade", SKIP_BUILD="1")
    assert proc.returncode == 1
    assert (
        f"todo-backend:{tag_of(box, 'backend')} (the current sources) is not in the cluster"
        in proc.stderr
    )
    assert box.calls("docker") == []


def test_helm_render_shows_the_tags_install_would_deploy(box: Sandbox) -> None:
    helm = require_tool("helm")
    out = box.root / "out.yaml"
    proc = box.run("helm-deploy.sh", "render", str(out), HELM=helm, ENV_FILE="/nonexistent")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    images = {
        c["image"]
        for obj in policy.parse_yaml(out.read_text())
        if obj.get("kind") == "Deployment"
        for _, c in policy.containers(policy.pod_template(obj)["spec"])  # type: ignore[index]
    }
    assert {
        f"todo-backend:{tag_of(box, 'backend')}",
        f"todo-frontend:{tag_of(box, 'frontend')}",
    } <= images


@pytest.mark.parametrize("name", ["backend", "frontend"])
def test_the_images_carry_the_tag_as_app_version(name: str) -> None:
    """The build arg the scripts pass becomes the runtime stage's APP_VERSION, which /health
    reports (backend: Settings.app_version; frontend: app/health/route.ts)."""
    dockerfile = (REPO / name / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.rindex("\nFROM ") :]
    assert re.search(r"^ARG APP_VERSION=dev$", runtime, re.M)
    assert re.search(r"^ENV APP_VERSION=\$\{APP_VERSION\}$", runtime, re.M)
    if name == "frontend":
        route = (REPO / "frontend" / "app" / "health" / "route.ts").read_text()
        assert 'version: process.env.APP_VERSION || "dev"' in route


@pytest.mark.parametrize(
    ("secret_apply", "deployed", "restarted"),
    [
        ("secret/backend-secret configured", "1", True),  # new values: running pods re-read them
        ("secret/backend-secret configured", "", False),  # first install: nothing to restart
        ("secret/backend-secret unchanged", "1", False),  # same values, same tags: nothing rolls
    ],
)
def test_up_restarts_running_deployments_only_for_new_secret_values(
    box: Sandbox, secret_apply: str, deployed: str, restarted: bool
) -> None:
    proc = box.run("minikube.sh", "up", STUB_SECRET_APPLY=secret_apply, STUB_DEPLOYED=deployed)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    restarts = [c for c in box.calls("kubectl") if " rollout restart " in c]
    if restarted:
        assert [r.rsplit(" ", 1)[1] for r in restarts] == [
            "deployment/backend",
            "deployment/frontend",
        ]
    else:
        assert restarts == []


def test_status_of_a_stopped_cluster_says_how_to_start_it(box: Sandbox) -> None:
    (box.stubs / "status").write_text("Stopped Stopped")
    proc = box.run("minikube.sh", "status")
    assert proc.returncode == 0, proc.stderr
    assert "not running: scripts/minikube.sh up" in proc.stdout
    assert not [c for c in box.calls("kubectl") if "containerRuntimeVersion" in c]
