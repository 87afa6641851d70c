"""deploy/helm: the three charts lint, render, validate and pass the same policy as the plain
manifests; every value we document changes the output; bad values fail with the key's name;
the charts package and the umbrella's file:// dependencies build offline.

Everything runs the official helm binary (scripts: ../shared/ci/get-helm.sh) against a copy of
deploy/helm in a temp dir, so the working tree's charts/ folder is never touched.
"""

from __future__ import annotations

import base64
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import policy  # tests/deploy's shared policy module

from testsupport.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
HELM_DIR = REPO / "deploy" / "helm"
CHARTS = ("todo-backend", "todo-frontend", "todo-chatbot")
#: Oldest Kubernetes the charts are validated for (the newest is part of policy.check_all).
OLDEST_K8S = "1.30.0"

#: Secret inputs that the policy accepts as placeholders (it refuses anything real-looking).
AUTH_PLACEHOLDER = "CHANGE_ME-auth-secret-0123456789abcdefghij"
PG_PLACEHOLDER = "CHANGE_ME"
DB_URL_PLACEHOLDER = "postgresql://todo:CHANGE_ME@db.example.com/todo?sslmode=require"
UMBRELLA_SECRETS = [
    "--set-string",
    f"backend.secrets.authSecret={AUTH_PLACEHOLDER}",
    "--set-string",
    f"postgresql.auth.password={PG_PLACEHOLDER}",
]
BACKEND_SECRETS = [
    "--set-string",
    f"secrets.authSecret={AUTH_PLACEHOLDER}",
    "--set-string",
    f"secrets.databaseUrl={DB_URL_PLACEHOLDER}",
]
EXTERNAL_DB = [
    "--set",
    "postgresql.enabled=false",
    "--set-string",
    "backend.database.urlSecret.name=",
    "--set-string",
    f"backend.secrets.databaseUrl={DB_URL_PLACEHOLDER}",
    "--set-string",
    f"backend.secrets.authSecret={AUTH_PLACEHOLDER}",
    "--set",
    "backend.migrations.hookEvents={pre-install,pre-upgrade}",
    "--set",
    "backend.waitForDatabase.mode=schema",
]
RELEASE = "todo"

#: The value sets of the issue, each rendered once: (chart, helm args).
VALUE_SETS: dict[str, tuple[str, list[str]]] = {
    "defaults": ("todo-chatbot", UMBRELLA_SECRETS),
    "minikube": ("todo-chatbot", ["-f", "values-minikube.yaml", *UMBRELLA_SECRETS]),
    "replicas-3": (
        "todo-chatbot",
        ["--set", "backend.replicaCount=3,frontend.replicaCount=3", *UMBRELLA_SECRETS],
    ),
    "hpa": (
        "todo-chatbot",
        [
            "--set",
            "backend.autoscaling.enabled=true,backend.autoscaling.minReplicas=3",
            "--set",
            "backend.autoscaling.maxReplicas=9,frontend.autoscaling.enabled=true",
            *UMBRELLA_SECRETS,
        ],
    ),
    "ingress": (
        "todo-chatbot",
        [
            "--set",
            "frontend.ingress.enabled=true,frontend.ingress.className=nginx",
            "--set",
            "frontend.ingress.hosts[0].host=todo.test,frontend.ingress.hosts[0].paths[0].path=/",
            "--set",
            "frontend.ingress.hosts[0].paths[0].pathType=Prefix",
            "--set",
            "frontend.ingress.tls[0].secretName=todo-tls,frontend.ingress.tls[0].hosts[0]=todo.test",
            "--set",
            "backend.ingress.enabled=true",
            *UMBRELLA_SECRETS,
        ],
    ),
    "existing-secret": (
        "todo-chatbot",
        [
            "--set-string",
            "backend.secrets.existingSecret=todo-backend-secrets",
            "--set-string",
            "backend.secrets.keys.authSecret=auth",
            "--set-string",
            "postgresql.auth.existingSecret=todo-db-secrets",
        ],
    ),
    "external-db": ("todo-chatbot", EXTERNAL_DB),
    "network-policy": (
        "todo-chatbot",
        [
            "--set",
            "backend.networkPolicy.enabled=true,frontend.networkPolicy.enabled=true",
            "--set",
            "postgresql.networkPolicy.enabled=true",
            *UMBRELLA_SECRETS,
        ],
    ),
    "production-example": (
        "todo-chatbot",
        ["-f", "values-production.yaml", "-f", "values-external-db.yaml"],
    ),
    "backend-alone": ("todo-backend", BACKEND_SECRETS),
    "backend-neon-example": ("todo-backend", ["-f", "values-neon.yaml"]),
    "frontend-alone": ("todo-frontend", []),
    "frontend-minikube-example": ("todo-frontend", ["-f", "values-minikube.yaml"]),
}

Obj = dict[str, Any]


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def helm() -> str:
    return require_tool("helm")


def run(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if ok:
        assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def offline_env(home: Path) -> dict[str, str]:
    """Empty helm config/cache/data dirs and proxies that point at a closed port: any attempt
    to reach a chart repository fails instead of silently succeeding."""
    env = dict(os.environ)
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[var] = str(home / var.lower())
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[var] = "http://127.0.0.1:9"
    env["NO_PROXY"] = env["no_proxy"] = ""
    return env


@pytest.fixture(scope="module")
def charts(helm: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of deploy/helm whose umbrella chart has its dependencies built (offline)."""
    root = tmp_path_factory.mktemp("helm")
    shutil.copytree(HELM_DIR, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.tgz"))
    run([helm, "dependency", "build", "todo-chatbot"], cwd=root, env=offline_env(root / "home"))
    return root


def template(
    helm: str, charts: Path, chart: str, args: list[str], *, ok: bool = True, release: str = RELEASE
) -> subprocess.CompletedProcess[str]:
    return run(
        [helm, "template", release, ".", "--namespace", "todo", *args], cwd=charts / chart, ok=ok
    )


def render(helm: str, charts: Path, chart: str, args: list[str]) -> list[Obj]:
    # `-f values-x.yaml` is resolved inside the chart directory.
    proc = run([helm, "template", RELEASE, ".", "--namespace", "todo", *args], cwd=charts / chart)
    return policy.parse_yaml(proc.stdout)


def in_parallel(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent helm calls concurrently (each is a short subprocess)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(job) for key, job in jobs.items()}
        return {key: f.result() for key, f in futures.items()}


@pytest.fixture(scope="module")
def rendered(helm: str, charts: Path) -> dict[str, list[Obj]]:
    return in_parallel(
        {
            name: (lambda c=chart, a=args: render(helm, charts, c, a))
            for name, (chart, args) in VALUE_SETS.items()
        }
    )


# ------------------------------------------------------------------------------ small helpers
def find(objs: list[Obj], kind: str, name: str) -> Obj:
    hits = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(hits) == 1, f"expected one {kind}/{name}, got {[policy.ident(o) for o in objs]}"
    return hits[0]


def kinds(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o["kind"] == kind]


def pod_spec(obj: Obj) -> Obj:
    tpl = policy.pod_template(obj)
    assert tpl is not None
    spec: Obj = tpl["spec"]
    return spec


def container(obj: Obj, name: str) -> Obj:
    spec = pod_spec(obj)
    hits = [
        c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == name
    ]
    assert len(hits) == 1, f"{policy.ident(obj)} has no container {name}"
    return hits[0]


def env_of(c: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in c.get("env", [])}


def secret_data(obj: Obj) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}


def hook(obj: Obj) -> str | None:
    return (obj["metadata"].get("annotations") or {}).get("helm.sh/hook")


def selects(selector: Obj, pod_labels: dict[str, str]) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if pod_labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        assert expr["operator"] == "In"
        if pod_labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


# ------------------------------------------------------------------------------ lint
def _lint_cases() -> list[tuple[str, str | None]]:
    cases: list[tuple[str, str | None]] = []
    for chart in CHARTS:
        cases.append((chart, None))
        cases += [(chart, p.name) for p in sorted((HELM_DIR / chart).glob("values-*.yaml"))]
    return cases


@pytest.mark.parametrize(("chart", "values_file"), _lint_cases())
def test_helm_lint_strict(helm: str, charts: Path, chart: str, values_file: str | None) -> None:
    args = ["-f", values_file] if values_file else []
    proc = run([helm, "lint", "--strict", ".", *args], cwd=charts / chart)
    assert "0 chart(s) failed" in proc.stdout
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout


def test_every_chart_has_the_required_files_and_metadata() -> None:
    versions = set()
    for chart in CHARTS:
        d = HELM_DIR / chart
        for f in (
            "Chart.yaml",
            "values.yaml",
            "values.schema.json",
            ".helmignore",
            "README.md",
            "templates/_helpers.tpl",
            "templates/NOTES.txt",
        ):
            assert (d / f).is_file(), f"{chart} misses {f}"
        assert list((d / "templates" / "tests").glob("*.yaml")), f"{chart} has no helm test"
        meta = yaml.safe_load((d / "Chart.yaml").read_text())
        assert meta["apiVersion"] == "v2" and meta["name"] == chart
        for key in ("version", "appVersion", "description", "maintainers", "keywords"):
            assert meta.get(key), f"{chart}/Chart.yaml lacks {key}"
        versions.add(meta["appVersion"])
        helpers = (d / "templates" / "_helpers.tpl").read_text()
        for name in ("name", "fullname", "labels", "selectorLabels", "serviceAccountName"):
            assert f'define "{chart}.{name}"' in helpers, f"{chart} lacks the {name} helper"
    # The umbrella's helm test uses the backend image tagged with the umbrella's appVersion.
    assert versions == {"0.1.0"}


# ------------------------------------------------------------------------------ schemas + policy
@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_rendered_objects_validate_against_the_oldest_supported_kubernetes(
    rendered: dict[str, list[Obj]], value_set: str
) -> None:
    objs = rendered[value_set]
    assert objs, f"{value_set} rendered nothing"
    policy.validate_schemas(objs, OLDEST_K8S, strict=True)


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_rendered_objects_pass_the_deploy_policy(
    rendered: dict[str, list[Obj]], value_set: str
) -> None:
    """Every rule of the plain manifests' policy module, the newest Kubernetes schemas
    (kubernetes-validate --strict) included: the same bar for both deployment paths."""
    policy.check_all(rendered[value_set])


def test_policy_really_inspects_the_chart_output(helm: str, charts: Path) -> None:
    """The policy is not vacuous on Helm output: values that break a rule make it fire."""
    objs = render(
        helm,
        charts,
        "todo-chatbot",
        [
            "--set",
            "backend.securityContext.readOnlyRootFilesystem=false",
            "--set",
            "frontend.rollingUpdate.maxUnavailable=1",
            "--set",
            "backend.podDisruptionBudget.enabled=false",
            "--set",
            "frontend.image.pullPolicy=Always",
            "--set",
            "backend.preStopSleepSeconds=0",
            *UMBRELLA_SECRETS,
        ],
    )
    fired = policy.rules(policy.workload_violations(objs) + policy.pdb_violations(objs))
    assert {
        policy.R_READONLY_ROOT,
        policy.R_STRATEGY,
        policy.R_PDB,
        policy.R_IMAGE,
        policy.R_PRESTOP,
    } <= fired
    # and a real-looking secret given inline is caught in the rendered Secret
    leaky = render(
        helm,
        charts,
        "todo-backend",
        [
            "--set-string",
            "secrets.databaseUrl=postgresql://todo:s3cr3tpassw0rd@db.internal/todo",
            "--set-string",
            f"secrets.authSecret={AUTH_PLACEHOLDER}",
        ],
    )
    assert policy.R_SECRET in policy.rules(policy.secret_violations(leaky))


# ------------------------------------------------------------------------------ what renders
def test_defaults_render_the_whole_app(rendered: dict[str, list[Obj]]) -> None:
    objs = rendered["defaults"]
    names = {policy.ident(o) for o in objs if not hook(o)}
    assert names == {
        "Deployment/todo-backend",
        "Service/todo-backend",
        "ConfigMap/todo-backend",
        "Secret/todo-backend",
        "PodDisruptionBudget/todo-backend",
        "Deployment/todo-frontend",
        "Service/todo-frontend",
        "ConfigMap/todo-frontend",
        "PodDisruptionBudget/todo-frontend",
        "StatefulSet/todo-postgresql",
        "Service/todo-postgresql",
        "Secret/todo-postgresql",
    }
    hooks = {policy.ident(o): hook(o) for o in objs if hook(o)}
    assert hooks == {
        "Secret/todo-backend-migrate": "post-install,pre-upgrade",
        "Job/todo-backend-migrate": "post-install,pre-upgrade",
        "Pod/todo-backend-test-api": "test",
        "Pod/todo-frontend-test-web": "test",
        "Pod/todo-test-e2e": "test",
    }
    # The frontend proxies to this release's backend Service; the API reads the DB's URL.
    assert (
        find(objs, "ConfigMap", "todo-frontend")["data"]["BACKEND_URL"]
        == "http://todo-backend:8001"
    )
    api = container(find(objs, "Deployment", "todo-backend"), "api")
    ref = env_of(api)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "todo-postgresql", "key": "database-url"}
    pg = secret_data(find(objs, "Secret", "todo-postgresql"))
    assert pg["database-url"] == f"postgresql://todo:{PG_PLACEHOLDER}@todo-postgresql:5432/todo"
    assert find(objs, "ConfigMap", "todo-backend")["data"]["APP_ENV"] == "production"


def test_minikube_values(rendered: dict[str, list[Obj]]) -> None:
    objs = rendered["minikube"]
    web = find(objs, "Service", "todo-frontend")["spec"]
    assert web["type"] == "NodePort" and web["ports"][0]["nodePort"] == 30000
    assert web["ports"][0]["port"] == 3000
    api = find(objs, "Service", "todo-backend")["spec"]
    assert api["type"] == "ClusterIP" and api["ports"][0]["port"] == 8001
    for name, image in (
        ("todo-backend", "todo-backend:0.1.0"),
        ("todo-frontend", "todo-frontend:0.1.0"),
    ):
        for c in pod_spec(find(objs, "Deployment", name))["containers"]:
            assert (c["image"], c["imagePullPolicy"]) == (image, "IfNotPresent")
    sts = find(objs, "StatefulSet", "todo-postgresql")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "standard"


def test_generated_secrets_are_random_and_never_placeholders(helm: str, charts: Path) -> None:
    """Without secret values the chart generates AUTH_SECRET and the DB password (kept across
    upgrades by `lookup`); two installs never share them."""
    a, b = (render(helm, charts, "todo-chatbot", []) for _ in range(2))
    auth = [secret_data(find(o, "Secret", "todo-backend"))["AUTH_SECRET"] for o in (a, b)]
    pw = [secret_data(find(o, "Secret", "todo-postgresql"))["password"] for o in (a, b)]
    assert len(auth[0]) == 48 and auth[0] != auth[1]
    assert len(pw[0]) == 32 and pw[0] != pw[1]
    # the migration hook's Secret carries the same AUTH_SECRET as the release's Secret
    assert secret_data(find(a, "Secret", "todo-backend-migrate"))["AUTH_SECRET"] == auth[0]
    template_src = (HELM_DIR / "todo-backend/templates/secret.yaml").read_text()
    assert 'lookup "v1" "Secret"' in template_src


def _keeps(obj: Obj) -> bool:
    annotations = obj["metadata"].get("annotations") or {}
    return annotations.get("helm.sh/resource-policy") == "keep"


@pytest.mark.parametrize(
    ("when_deleted", "secret_kept"), [("Retain", True), ("Delete", False)], ids=str
)
def test_the_database_password_lives_as_long_as_the_volume(
    helm: str, charts: Path, when_deleted: str, secret_kept: bool
) -> None:
    """`helm uninstall` keeps a Retain volume; the lookup-generated password Secret must stay
    with it (helm.sh/resource-policy: keep), or a reinstall generates a new password that the
    kept data directory rejects. With Delete both go, and nothing is left behind."""
    objs = render(
        helm,
        charts,
        "todo-chatbot",
        ["--set", f"postgresql.persistence.whenDeleted={when_deleted}"],
    )
    sts = find(objs, "StatefulSet", "todo-postgresql")
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == when_deleted
    assert _keeps(find(objs, "Secret", "todo-postgresql")) is secret_kept
    # Only the database password: the API's Secret and hook Secret go with the release.
    assert [policy.ident(o) for o in objs if _keeps(o)] == (
        ["Secret/todo-postgresql"] if secret_kept else []
    )


def test_secrets_stay_in_secret_objects(helm: str, charts: Path) -> None:
    marker = "CHANGE_ME-marker-7f3a9c"
    args = [
        "--set-string",
        f"backend.secrets.authSecret={marker}-0123456789abcdef",
        "--set-string",
        f"backend.secrets.groqApiKey={marker}-groq",
        "--set-string",
        f"postgresql.auth.password={marker}",
        "--set",
        "backend.config.llmProvider=groq",
    ]
    proc = run([helm, "template", RELEASE, ".", *args], cwd=charts / "todo-chatbot")
    for obj in policy.parse_yaml(proc.stdout):
        text = yaml.safe_dump(obj)
        if obj["kind"] == "Secret":
            continue
        assert marker not in text, f"{policy.ident(obj)} carries a secret value"
        assert marker not in yaml.safe_dump(obj["metadata"].get("labels", {}))
    groq = env_of(
        container(find(policy.parse_yaml(proc.stdout), "Deployment", "todo-backend"), "api")
    )
    assert groq["GROQ_API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "GROQ_API_KEY"
    notes = run(
        [helm, "install", RELEASE, ".", "--dry-run=client", *args], cwd=charts / "todo-chatbot"
    ).stdout.split("NOTES:", 1)[1]
    assert marker not in notes and "not printed" in notes


# ------------------------------------------------------------------------- values change output
def test_replica_count(rendered: dict[str, list[Obj]]) -> None:
    for name in ("todo-backend", "todo-frontend"):
        assert find(rendered["defaults"], "Deployment", name)["spec"]["replicas"] == 2
        assert find(rendered["replicas-3"], "Deployment", name)["spec"]["replicas"] == 3


def test_autoscaling(rendered: dict[str, list[Obj]]) -> None:
    assert kinds(rendered["defaults"], "HorizontalPodAutoscaler") == []
    objs = rendered["hpa"]
    hpa = find(objs, "HorizontalPodAutoscaler", "todo-backend")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 9)
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "todo-backend",
    }
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert find(objs, "HorizontalPodAutoscaler", "todo-frontend")
    # the HPA owns the replica count: the Deployment must not fight it on every upgrade
    assert "replicas" not in find(objs, "Deployment", "todo-backend")["spec"]


def test_ingress(rendered: dict[str, list[Obj]]) -> None:
    assert kinds(rendered["defaults"], "Ingress") == []
    ing = find(rendered["ingress"], "Ingress", "todo-frontend")["spec"]
    assert ing["ingressClassName"] == "nginx"
    assert ing["tls"] == [{"hosts": ["todo.test"], "secretName": "todo-tls"}]
    rule = ing["rules"][0]
    assert rule["host"] == "todo.test"
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": "todo-frontend",
        "port": {"number": 3000},
    }
    # the API's own Ingress (e.g. for MCP clients) with the chart's default host
    api = find(rendered["ingress"], "Ingress", "todo-backend")["spec"]
    assert api["rules"][0]["host"] == "api.todo.local" and "tls" not in api
    assert api["rules"][0]["http"]["paths"][0]["backend"]["service"] == {
        "name": "todo-backend",
        "port": {"number": 8001},
    }


def test_existing_secret(rendered: dict[str, list[Obj]]) -> None:
    objs = rendered["existing-secret"]
    secrets = {o["metadata"]["name"] for o in kinds(objs, "Secret")}
    assert secrets == set(), f"the chart must not create Secrets here, got {secrets}"
    api_env = env_of(container(find(objs, "Deployment", "todo-backend"), "api"))
    assert api_env["AUTH_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "todo-backend-secrets",
        "key": "auth",
    }
    # optional LLM keys may be absent from the user's Secret
    assert api_env["GROQ_API_KEY"]["valueFrom"]["secretKeyRef"]["optional"] is True
    job_env = env_of(container(find(objs, "Job", "todo-backend-migrate"), "migrate"))
    assert job_env["AUTH_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "todo-backend-secrets"
    pg_env = env_of(container(find(objs, "StatefulSet", "todo-postgresql"), "postgresql"))
    assert pg_env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "todo-db-secrets"


def test_external_database(rendered: dict[str, list[Obj]]) -> None:
    objs = rendered["external-db"]
    assert kinds(objs, "StatefulSet") == []
    assert "todo-postgresql" not in {o["metadata"]["name"] for o in objs}
    job = find(objs, "Job", "todo-backend-migrate")
    assert hook(job) == "pre-install,pre-upgrade"
    # the pre-install Job reads a hook Secret that exists before it (lower weight)
    hook_secret = find(objs, "Secret", "todo-backend-migrate")
    annotations = hook_secret["metadata"]["annotations"]
    assert int(annotations["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert hook(hook_secret) == hook(job)
    assert secret_data(hook_secret) == {
        "AUTH_SECRET": AUTH_PLACEHOLDER,
        "DATABASE_URL": DB_URL_PLACEHOLDER,
    }
    ref = env_of(container(job, "migrate"))["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "todo-backend-migrate", "key": "DATABASE_URL"}
    api = container(find(objs, "Deployment", "todo-backend"), "api")
    assert env_of(api)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "todo-backend"
    # the API pods wait for the schema to be at head (the pre-install hook migrated it)
    wait = container(find(objs, "Deployment", "todo-backend"), "wait-for-database")
    script = wait["args"][0]
    assert "todo-api migrate --check" in script and '[ "$rc" -eq 3 ]' not in script
    # while with the in-cluster database they only wait for it to answer (exit 3 is fine)
    in_cluster = container(
        find(rendered["defaults"], "Deployment", "todo-backend"), "wait-for-database"
    )
    assert '[ "$rc" -eq 3 ]' in in_cluster["args"][0]


def test_network_policies(rendered: dict[str, list[Obj]]) -> None:
    assert kinds(rendered["defaults"], "NetworkPolicy") == []
    objs = rendered["network-policy"]

    def pod_labels(kind: str, name: str) -> dict[str, str]:
        return dict(policy.pod_template(find(objs, kind, name))["metadata"]["labels"])  # type: ignore[index]

    frontend = pod_labels("Deployment", "todo-frontend")
    backend = pod_labels("Deployment", "todo-backend")
    migrate = pod_labels("Job", "todo-backend-migrate")
    database = pod_labels("StatefulSet", "todo-postgresql")
    api_test = find(objs, "Pod", "todo-backend-test-api")["metadata"]["labels"]
    e2e_test = find(objs, "Pod", "todo-test-e2e")["metadata"]["labels"]

    def peers(name: str) -> tuple[Obj, list[Obj]]:
        np = find(objs, "NetworkPolicy", name)["spec"]
        assert np["policyTypes"] == ["Ingress"] and len(np["ingress"]) == 1
        return np["podSelector"], np["ingress"][0].get("from", [])

    def admitted(peer_list: list[Obj], labels: dict[str, str]) -> bool:
        return any(selects(p["podSelector"], labels) for p in peer_list if "podSelector" in p)

    sel, api_from = peers("todo-backend")
    assert selects(sel, backend) and not selects(sel, migrate)
    assert admitted(api_from, frontend) and admitted(api_from, api_test)
    assert not admitted(api_from, database) and not admitted(api_from, backend)
    assert not admitted(api_from, e2e_test)  # the e2e test goes through the frontend

    sel, db_from = peers("todo-postgresql")
    assert selects(sel, database)
    assert admitted(db_from, backend) and admitted(db_from, migrate)
    assert not admitted(db_from, frontend) and not admitted(db_from, api_test)

    sel, web_from = peers("todo-frontend")
    assert selects(sel, frontend) and web_from == []  # the public entry: open on its port only
    ports = find(objs, "NetworkPolicy", "todo-frontend")["spec"]["ingress"][0]["ports"]
    assert ports == [{"port": "http", "protocol": "TCP"}]


def test_checksums_roll_pods_on_config_and_secret_changes(helm: str, charts: Path) -> None:
    def annotations(args: list[str]) -> dict[str, str]:
        objs = render(helm, charts, "todo-chatbot", [*UMBRELLA_SECRETS, *args])
        return dict(
            policy.pod_template(find(objs, "Deployment", "todo-backend"))["metadata"]["annotations"]
        )  # type: ignore[index]

    base = annotations([])
    assert annotations([]) == base, "checksums must be stable between identical renders"
    config = annotations(["--set", "backend.config.logLevel=DEBUG"])
    assert config["checksum/config"] != base["checksum/config"]
    assert config["checksum/secret"] == base["checksum/secret"]
    secret = annotations(["--set-string", "backend.secrets.groqApiKey=CHANGE_ME-other-key"])
    assert secret["checksum/secret"] != base["checksum/secret"]
    assert secret["checksum/config"] == base["checksum/config"]


ValueCheck = Callable[[list[Obj]], Any]


def _api(objs: list[Obj]) -> Obj:
    return container(find(objs, "Deployment", "todo-backend"), "api")


def _web(objs: list[Obj]) -> Obj:
    return container(find(objs, "Deployment", "todo-frontend"), "web")


#: (--set arguments, what to read from the umbrella's output, the value expected after the set)
VALUE_EFFECTS: list[tuple[str, list[str], ValueCheck, Any]] = [
    (
        "backend.image.tag",
        ["--set-string", "backend.image.tag=0.2.0"],
        lambda o: _api(o)["image"],
        "todo-backend:0.2.0",
    ),
    (
        "frontend.image.repository",
        ["--set", "frontend.image.repository=reg.local/todo-frontend"],
        lambda o: _web(o)["image"],
        "reg.local/todo-frontend:0.1.0",
    ),
    (
        "backend.image.pullPolicy",
        ["--set", "backend.image.pullPolicy=Never"],
        lambda o: _api(o)["imagePullPolicy"],
        "Never",
    ),
    (
        "backend.resources",
        ["--set", "backend.resources.limits.memory=1Gi"],
        lambda o: _api(o)["resources"]["limits"]["memory"],
        "1Gi",
    ),
    (
        "frontend.probes.readiness",
        ["--set", "frontend.probes.readiness.periodSeconds=7"],
        lambda o: _web(o)["readinessProbe"]["periodSeconds"],
        7,
    ),
    (
        "backend.rollingUpdate.maxSurge",
        ["--set", "backend.rollingUpdate.maxSurge=2"],
        lambda o: find(o, "Deployment", "todo-backend")["spec"]["strategy"]["rollingUpdate"][
            "maxSurge"
        ],
        2,
    ),
    (
        "backend.preStopSleepSeconds",
        ["--set", "backend.preStopSleepSeconds=8"],
        lambda o: _api(o)["lifecycle"]["preStop"]["exec"]["command"],
        ["sleep", "8"],
    ),
    (
        "frontend.terminationGracePeriodSeconds",
        ["--set", "frontend.terminationGracePeriodSeconds=45"],
        lambda o: pod_spec(find(o, "Deployment", "todo-frontend"))["terminationGracePeriodSeconds"],
        45,
    ),
    (
        "backend.podDisruptionBudget.minAvailable",
        ["--set", "backend.podDisruptionBudget.minAvailable=1"],
        lambda o: find(o, "PodDisruptionBudget", "todo-backend")["spec"],
        {
            "minAvailable": 1,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
            "selector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "backend",
                    "app.kubernetes.io/instance": "todo",
                    "app.kubernetes.io/component": "api",
                }
            },
        },
    ),
    (
        "backend.serviceAccount.create",
        ["--set", "backend.serviceAccount.create=true"],
        lambda o: (
            pod_spec(find(o, "Deployment", "todo-backend"))["serviceAccountName"],
            find(o, "ServiceAccount", "todo-backend")["automountServiceAccountToken"],
        ),
        ("todo-backend", False),
    ),
    (
        "backend.config.llmProvider",
        ["--set", "backend.config.llmProvider=groq"],
        lambda o: find(o, "ConfigMap", "todo-backend")["data"]["LLM_PROVIDER"],
        "groq",
    ),
    (
        "backend.extraConfig",
        ["--set-string", "backend.extraConfig.CHAT_HISTORY_MESSAGES=30"],
        lambda o: find(o, "ConfigMap", "todo-backend")["data"].get("CHAT_HISTORY_MESSAGES"),
        "30",
    ),
    (
        "postgresql.fullnameOverride",
        ["--set", "postgresql.fullnameOverride=db"],
        lambda o: sorted(
            policy.ident(x) for x in o if x["metadata"]["name"] == "db" and x["kind"] != "Secret"
        ),
        ["Service/db", "StatefulSet/db"],
    ),
    (
        "backend.secrets.envFromExistingSecret",
        [
            "--set-string",
            "backend.secrets.authSecret=",  # the Secret you manage holds it
            "--set-string",
            "backend.secrets.existingSecret=app-env",
            "--set",
            "backend.secrets.envFromExistingSecret=true",
        ],
        lambda o: (
            container(find(o, "Deployment", "todo-backend"), "api")["envFrom"],
            sorted(env_of(container(find(o, "Deployment", "todo-backend"), "api"))),
        ),
        (
            [{"configMapRef": {"name": "todo-backend"}}, {"secretRef": {"name": "app-env"}}],
            ["DATABASE_URL"],  # still from the in-cluster database's Secret
        ),
    ),
    (
        "frontend.trustedProxyIps",
        ["--set-string", "frontend.trustedProxyIps=10.0.0.5\\,10.0.0.6"],
        lambda o: find(o, "ConfigMap", "todo-frontend")["data"]["TRUSTED_PROXY_IPS"],
        "10.0.0.5,10.0.0.6",
    ),
    (
        "frontend.nodeOptions",
        ["--set-string", "frontend.nodeOptions=--max-old-space-size=512"],
        lambda o: find(o, "ConfigMap", "todo-frontend")["data"]["NODE_OPTIONS"],
        "--max-old-space-size=512",
    ),
    (
        "backend.config.forwardedAllowIps",
        ["--set-string", "backend.config.forwardedAllowIps=10.1.2.3"],
        lambda o: find(o, "ConfigMap", "todo-backend")["data"]["FORWARDED_ALLOW_IPS"],
        "10.1.2.3",
    ),
    (
        "frontend.backendUrl",
        ["--set", "frontend.backendUrl=http://api.other:8001/"],
        lambda o: find(o, "ConfigMap", "todo-frontend")["data"]["BACKEND_URL"],
        "http://api.other:8001",
    ),
    (
        "backend.service.type",
        ["--set", "backend.service.type=NodePort,backend.service.nodePort=30801"],
        lambda o: (
            find(o, "Service", "todo-backend")["spec"]["type"],
            find(o, "Service", "todo-backend")["spec"]["ports"][0]["nodePort"],
        ),
        ("NodePort", 30801),
    ),
    (
        "frontend.service.type",
        ["--set", "frontend.service.type=LoadBalancer"],
        lambda o: find(o, "Service", "todo-frontend")["spec"]["type"],
        "LoadBalancer",
    ),
    (
        "backend.migrations.enabled",
        ["--set", "backend.migrations.enabled=false"],
        lambda o: [policy.ident(x) for x in o if x["metadata"]["name"] == "todo-backend-migrate"],
        [],
    ),
    (
        "backend.waitForDatabase.enabled",
        ["--set", "backend.waitForDatabase.enabled=false"],
        lambda o: pod_spec(find(o, "Deployment", "todo-backend")).get("initContainers"),
        None,
    ),
    (
        "backend.tests.enabled",
        ["--set", "backend.tests.enabled=false,tests.enabled=false"],
        lambda o: sorted(policy.ident(x) for x in o if hook(x) == "test"),
        ["Pod/todo-frontend-test-web"],
    ),
    (
        "postgresql.persistence.size",
        ["--set", "postgresql.persistence.size=5Gi"],
        lambda o: find(o, "StatefulSet", "todo-postgresql")["spec"]["volumeClaimTemplates"][0][
            "spec"
        ]["resources"]["requests"]["storage"],
        "5Gi",
    ),
    (
        "postgresql.persistence.whenDeleted",
        ["--set", "postgresql.persistence.whenDeleted=Delete"],
        lambda o: find(o, "StatefulSet", "todo-postgresql")["spec"][
            "persistentVolumeClaimRetentionPolicy"
        ]["whenDeleted"],
        "Delete",
    ),
    (
        "postgresql.auth.username",
        ["--set", "postgresql.auth.username=app,postgresql.auth.database=tasks"],
        lambda o: secret_data(find(o, "Secret", "todo-postgresql"))["database-url"],
        f"postgresql://app:{PG_PLACEHOLDER}@todo-postgresql:5432/tasks",
    ),
    (
        "frontend.nodeSelector",
        ["--set", "frontend.nodeSelector.disk=ssd"],
        lambda o: pod_spec(find(o, "Deployment", "todo-frontend")).get("nodeSelector"),
        {"disk": "ssd"},
    ),
    (
        "backend.podAnnotations",
        ["--set-string", "backend.podAnnotations.prometheus\\.io/scrape=true"],
        lambda o: policy.pod_template(find(o, "Deployment", "todo-backend"))["metadata"][
            "annotations"
        ].get("prometheus.io/scrape"),
        "true",
    ),  # type: ignore[index]
    (
        "fullnameOverride",
        ["--set", "backend.fullnameOverride=api"],
        lambda o: sorted(
            x["metadata"]["name"] for x in o if x["kind"] in ("Deployment", "Service")
        ),
        ["api", "api", "todo-frontend", "todo-frontend", "todo-postgresql"],
    ),
]


@pytest.fixture(scope="module")
def effects(helm: str, charts: Path) -> dict[str, list[Obj]]:
    return in_parallel(
        {
            key: (lambda a=args: render(helm, charts, "todo-chatbot", [*UMBRELLA_SECRETS, *a]))
            for key, args, _, _ in VALUE_EFFECTS
        }
    )


@pytest.mark.parametrize(
    ("key", "read", "expected"),
    [pytest.param(key, r, e, id=key) for key, _, r, e in VALUE_EFFECTS],
)
def test_value_changes_output(
    rendered: dict[str, list[Obj]],
    effects: dict[str, list[Obj]],
    key: str,
    read: ValueCheck,
    expected: Any,
) -> None:
    default_umbrella = rendered["defaults"]
    assert read(effects[key]) == expected
    try:
        before = read(default_umbrella)
    except (AssertionError, KeyError):
        before = "<absent by default>"
    assert before != expected, "the default already has this value: no effect shown"


# ------------------------------------------------------------------------------ bad values
BAD_VALUES: list[tuple[str, str, list[str], list[str]]] = [
    (
        "env-from-without-a-secret",
        "todo-backend",
        ["--set", "secrets.envFromExistingSecret=true", *BACKEND_SECRETS],
        ["secrets.envFromExistingSecret loads secrets.existingSecret whole"],
    ),
    (
        "pdb-without-a-budget",
        "todo-frontend",
        ["--set", "podDisruptionBudget.maxUnavailable=null"],
        ["podDisruptionBudget: set maxUnavailable"],
    ),
    (
        "pdb-eviction-policy",
        "todo-frontend",
        ["--set", "podDisruptionBudget.unhealthyPodEvictionPolicy=Never"],
        ["/podDisruptionBudget/unhealthyPodEvictionPolicy"],
    ),
    (
        "replicas-negative",
        "todo-backend",
        ["--set", "replicaCount=-1", *BACKEND_SECRETS],
        ["/replicaCount", "minimum: got -1, want 0"],
    ),
    (
        "replicas-negative-umbrella",
        "todo-chatbot",
        ["--set", "frontend.replicaCount=-1"],
        ["frontend", "/replicaCount", "minimum"],
    ),
    (
        "replicas-not-integer",
        "todo-frontend",
        ["--set", "replicaCount=1.5"],
        ["/replicaCount", "want integer"],
    ),
    (
        "unknown-service-type",
        "todo-frontend",
        ["--set", "service.type=Ingress"],
        ["/service/type", "value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'"],
    ),
    (
        "unknown-service-type-umbrella",
        "todo-chatbot",
        ["--set", "backend.service.type=External"],
        ["backend", "/service/type", "value must be one of"],
    ),
    (
        "tag-not-a-string",
        "todo-backend",
        ["--set", "image.tag=2", *BACKEND_SECRETS],
        ["/image/tag", "got number, want string"],
    ),
    (
        "tag-not-a-string-file",
        "todo-frontend",
        ["-f", "{bad_tag_file}"],
        ["/image/tag", "got number, want string"],
    ),
    (
        "existing-secret-and-inline",
        "todo-backend",
        ["--set", "secrets.existingSecret=mine", *BACKEND_SECRETS],
        ["secrets.existingSecret and inline secrets", "mutually exclusive"],
    ),
    (
        "existing-secret-and-inline-umbrella",
        "todo-chatbot",
        [
            "--set",
            "backend.secrets.existingSecret=mine",
            "--set-string",
            "backend.secrets.groqApiKey=CHANGE_ME",
        ],
        ["secrets.existingSecret and inline secrets"],
    ),
    (
        "autoscaling-min-above-max",
        "todo-backend",
        [
            "--set",
            "autoscaling.enabled=true,autoscaling.minReplicas=5,autoscaling.maxReplicas=2",
            *BACKEND_SECRETS,
        ],
        ["autoscaling.minReplicas (5) must be <= autoscaling.maxReplicas (2)"],
    ),
    (
        "autoscaling-min-above-max-frontend",
        "todo-frontend",
        ["--set", "autoscaling.enabled=true,autoscaling.minReplicas=4,autoscaling.maxReplicas=3"],
        ["autoscaling.minReplicas (4) must be <= autoscaling.maxReplicas (3)"],
    ),
    (
        "no-database",
        "todo-backend",
        [],
        ["a database is required", "secrets.databaseUrl", "secrets.existingSecret"],
    ),
    (
        "short-auth-secret",
        "todo-backend",
        [
            "--set-string",
            "secrets.authSecret=short",
            "--set-string",
            f"secrets.databaseUrl={DB_URL_PLACEHOLDER}",
        ],
        ["/secrets/authSecret", "minLength"],
    ),
    (
        "unknown-key",
        "todo-backend",
        ["--set", "replicas=2", *BACKEND_SECRETS],
        ["additional properties 'replicas' not allowed"],
    ),
    (
        "unknown-llm-provider",
        "todo-backend",
        ["--set", "config.llmProvider=claude", *BACKEND_SECRETS],
        ["/config/llmProvider", "value must be one of"],
    ),
    (
        "nodeport-on-clusterip",
        "todo-frontend",
        ["--set", "service.nodePort=30000"],
        ["service.nodePort is only used with service.type NodePort or LoadBalancer"],
    ),
    (
        "bad-backend-url",
        "todo-frontend",
        ["--set", "backendUrl=todo-backend:8001"],
        ["backendUrl must be an http(s) URL"],
    ),
    (
        "in-cluster-db-with-pre-install",
        "todo-chatbot",
        ["--set", "backend.migrations.hookEvents={pre-install,pre-upgrade}"],
        ["postgresql.enabled=true", "backend.migrations.hookEvents"],
    ),
    (
        "in-cluster-db-waiting-for-schema",
        "todo-chatbot",
        ["--set", "backend.waitForDatabase.mode=schema"],
        ["backend.waitForDatabase.mode=schema"],
    ),
    (
        "db-off-but-url-from-it",
        "todo-chatbot",
        ["--set", "postgresql.enabled=false"],
        ["postgresql.enabled=false", "backend.database.urlSecret.name"],
    ),
    (
        "unsafe-db-password",
        "todo-chatbot",
        ["--set-string", "postgresql.auth.password=p@ss/word"],
        ["/postgresql/auth/password", "does not match pattern"],
    ),
]


@pytest.fixture(scope="module")
def bad_renders(
    helm: str, charts: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    bad_tag = tmp_path_factory.mktemp("bad") / "bad-tag.yaml"
    bad_tag.write_text("image:\n  tag: 1.0\n")
    jobs: dict[str, Callable[[], Any]] = {}
    for case, chart, args, _ in BAD_VALUES:
        real_args = [a.replace("{bad_tag_file}", str(bad_tag)) for a in args]
        jobs[case] = lambda c=chart, a=real_args: template(helm, charts, c, a, ok=False)
    return in_parallel(jobs)


@pytest.mark.parametrize(
    ("case", "messages"),
    [pytest.param(i, m, id=i) for i, _, _, m in BAD_VALUES],
)
def test_bad_values_fail_naming_the_key(
    bad_renders: dict[str, subprocess.CompletedProcess[str]], case: str, messages: list[str]
) -> None:
    proc = bad_renders[case]
    assert proc.returncode != 0, f"{case} rendered:\n{proc.stdout[:500]}"
    for msg in messages:
        assert msg in proc.stderr, f"expected {msg!r} in:\n{proc.stderr}"


# ------------------------------------------------------------------------------ NOTES
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["-f", "values-minikube.yaml"],
            ["minikube service todo-frontend", "$(minikube ip):30000"],
        ),
        ([], ["kubectl port-forward -n todo svc/todo-frontend 3000:3000"]),
        (
            ["--set", "frontend.service.type=LoadBalancer"],
            ["kubectl get svc todo-frontend", "EXTERNAL-IP"],
        ),
        (["--set", "frontend.ingress.enabled=true"], ["http://todo.local/"]),
    ],
    ids=["nodeport", "clusterip", "loadbalancer", "ingress"],
)
def test_notes_say_how_to_reach_the_app(
    helm: str, charts: Path, args: list[str], expected: list[str]
) -> None:
    proc = run(
        [helm, "install", RELEASE, ".", "--namespace", "todo", "--dry-run=client", *args],
        cwd=charts / "todo-chatbot",
    )
    notes = proc.stdout.split("NOTES:", 1)[1]
    for text in expected:
        assert text in notes, notes


# ------------------------------------------------------------------------------ packaging
def test_dependency_build_is_offline_and_complete(helm: str, charts: Path, tmp_path: Path) -> None:
    # the `charts` fixture already built them with no network; check the result and the lock
    built = sorted(p.name for p in (charts / "todo-chatbot" / "charts").glob("*.tgz"))
    assert built == ["todo-backend-0.1.0.tgz", "todo-frontend-0.1.0.tgz"]
    deps = run(
        [helm, "dependency", "list", "."], cwd=charts / "todo-chatbot", env=offline_env(tmp_path)
    ).stdout
    rows = [line.split() for line in deps.splitlines()[1:] if line.strip()]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("todo-backend", "0.1.0", "file://../todo-backend", "ok"),
        ("todo-frontend", "0.1.0", "file://../todo-frontend", "ok"),
    ]
    lock = yaml.safe_load((HELM_DIR / "todo-chatbot" / "Chart.lock").read_text())
    assert [d["repository"] for d in lock["dependencies"]] == [
        "file://../todo-backend",
        "file://../todo-frontend",
    ]


def test_helm_package_produces_versioned_archives(helm: str, charts: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    for chart in CHARTS:
        run([helm, "package", chart, "--destination", str(out)], cwd=charts)
    run(
        [
            helm,
            "package",
            "todo-backend",
            "--version",
            "0.2.0",
            "--app-version",
            "0.2.0",
            "--destination",
            str(out),
        ],
        cwd=charts,
    )
    archives = sorted(p.name for p in out.iterdir())
    assert archives == [
        "todo-backend-0.1.0.tgz",
        "todo-backend-0.2.0.tgz",
        "todo-chatbot-0.1.0.tgz",
        "todo-frontend-0.1.0.tgz",
    ]
    with tarfile.open(out / "todo-chatbot-0.1.0.tgz") as tar:
        names = set(tar.getnames())
    for member in (
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "README.md",
        "templates/tests/test-e2e.yaml",
        "values-minikube.yaml",
    ):
        assert f"todo-chatbot/{member}" in names, member
    # the subcharts travel inside the umbrella's archive (Helm 4 stores them unpacked)
    for sub in ("todo-backend", "todo-frontend"):
        assert {
            f"todo-chatbot/charts/{sub}-0.1.0.tgz",
            f"todo-chatbot/charts/{sub}/Chart.yaml",
        } & names, sub
    with tarfile.open(out / "todo-backend-0.2.0.tgz") as tar:
        member = tar.extractfile("todo-backend/Chart.yaml")
        assert member is not None
        meta = yaml.safe_load(member.read())
    assert (meta["version"], meta["appVersion"]) == ("0.2.0", "0.2.0")
    # a packaged chart installs like the directory: render it
    objs = policy.parse_yaml(
        run(
            [helm, "template", RELEASE, str(out / "todo-chatbot-0.1.0.tgz"), *UMBRELLA_SECRETS]
        ).stdout
    )
    assert find(objs, "Deployment", "todo-backend")
