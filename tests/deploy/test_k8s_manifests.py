"""deploy/k8s: every kustomization renders with the real kubectl, validates against the
Kubernetes OpenAPI schemas (kubernetes-validate --strict, offline) and passes the policy."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import deploytools
import policy
import pytest
import yaml
from deploytools import K8S_DIR, KUSTOMIZATIONS, REPO, by_kind, container, find

OVERLAYS = list(KUSTOMIZATIONS)
APP_IMAGES = {"todo-backend:0.1.0", "todo-frontend:0.1.0"}
EXAMPLE_SECRETS = sorted(K8S_DIR.rglob("*secret.example.yaml"))


# ------------------------------------------------------------------------------ rendering
def test_kustomize_renders_the_expected_objects(rendered: dict[str, list[policy.Obj]]) -> None:
    def names(objs: list[policy.Obj]) -> set[str]:
        return {f"{o['kind']}/{o['metadata']['name']}" for o in objs}

    app = {
        "ConfigMap/backend-config",
        "ConfigMap/frontend-config",
        "Deployment/backend",
        "Deployment/frontend",
        "Service/backend-service",
        "Service/frontend-service",
        "PodDisruptionBudget/backend",
        "PodDisruptionBudget/frontend",
        "Job/backend-migrate",
        "NetworkPolicy/backend",
    }
    database = {
        "StatefulSet/postgres",
        "Service/postgres",
        "Service/postgres-headless",
        "NetworkPolicy/postgres",
    }
    assert names(rendered["base"]) == app
    assert names(rendered["neon"]) == app
    assert names(rendered["local"]) == app | database


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_rendered(rendered: dict[str, list[policy.Obj]], overlay: str) -> None:
    # Secrets come from scripts/k8s-secret.sh (a local .env), never from the repository.
    assert by_kind(rendered[overlay], "Secret") == []


# ------------------------------------------------------------------------------ schemas
@pytest.mark.parametrize("version", deploytools.k8s_versions())
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_objects_validate_against_kubernetes_schema(
    rendered: dict[str, list[policy.Obj]], overlay: str, version: str
) -> None:
    policy.validate_schemas(rendered[overlay], version, strict=True)


def test_kubernetes_validate_cli_strict_accepts_the_local_overlay(
    kubectl: str, tmp_path: Path
) -> None:
    """The same check through the package's own command line (what a developer would run)."""
    out = subprocess.run(
        [kubectl, "kustomize", str(KUSTOMIZATIONS["local"])],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    manifest = tmp_path / "local.yaml"
    manifest.write_text(out)
    cli = (
        Path(os.environ.get("VIRTUAL_ENV", REPO / "backend" / ".venv"))
        / "bin"
        / "kubernetes-validate"
    )
    if not cli.exists():
        cli = REPO / "backend" / ".venv" / "bin" / "kubernetes-validate"
    proc = subprocess.run(
        [str(cli), "--strict", "-k", policy.latest_kubernetes_version(), str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("INFO") >= len(policy.parse_yaml(out)), proc.stdout


@pytest.mark.parametrize("path", EXAMPLE_SECRETS, ids=lambda p: p.name)
def test_example_secrets_are_valid_placeholders_and_not_applied(path: Path) -> None:
    objs = policy.parse_yaml(path.read_text())
    assert [o["kind"] for o in objs] == ["Secret"]
    policy.validate_schemas(objs)
    policy.check_no_real_secrets(objs)
    policy.check_labels(objs)
    kustomization = yaml.safe_load((path.parent / "kustomization.yaml").read_text())
    assert path.name not in kustomization.get("resources", [])


# ------------------------------------------------------------------------------ policy
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_production_grade(
    rendered: dict[str, list[policy.Obj]], overlay: str
) -> None:
    policy.check_workloads(rendered[overlay])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_and_probe_paths_match_the_images(
    rendered: dict[str, list[policy.Obj]], overlay: str
) -> None:
    policy.check_image_contracts(rendered[overlay])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_pods_and_ports(
    rendered: dict[str, list[policy.Obj]], overlay: str
) -> None:
    policy.check_services_match_pods(rendered[overlay])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets(rendered: dict[str, list[policy.Obj]], overlay: str) -> None:
    policy.check_pdbs(rendered[overlay])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_recommended_labels(rendered: dict[str, list[policy.Obj]], overlay: str) -> None:
    policy.check_labels(rendered[overlay])
    for obj in rendered[overlay]:
        lbl = obj["metadata"]["labels"]
        assert lbl["app.kubernetes.io/part-of"] == "todo-chatbot"
        assert lbl["app.kubernetes.io/managed-by"] == "kustomize"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_select_real_pods(
    rendered: dict[str, list[policy.Obj]], overlay: str
) -> None:
    policy.check_network_policies(rendered[overlay])


def test_network_policies_admit_exactly_the_clients_the_config_names(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    """frontend -> backend (BACKEND_URL), backend + migration Job -> postgres (DATABASE_URL);
    nobody else."""
    objs = rendered["local"]

    def peers(policy_name: str) -> list[policy.Obj]:
        spec = find(objs, "NetworkPolicy", policy_name)["spec"]
        return [p for rule in spec["ingress"] for p in rule["from"]]

    def admitted(policy_name: str) -> set[str]:
        selectors = [p["podSelector"] for p in peers(policy_name) if "podSelector" in p]
        return {
            policy.ident(o)
            for o, tpl in policy.workloads(objs)
            if any(policy.selector_matches(sel, tpl["metadata"]["labels"]) for sel in selectors)
        }

    def namespaces(policy_name: str) -> list[policy.Obj]:
        return [p["namespaceSelector"] for p in peers(policy_name) if "namespaceSelector" in p]

    assert admitted("backend") == {"Deployment/frontend"}
    # kagent's RemoteMCPServer (deploy/kagent) reaches /mcp from its own namespace
    assert namespaces("backend") == [{"matchLabels": {"kubernetes.io/metadata.name": "kagent"}}]
    assert admitted("postgres") == {"Deployment/backend", "Job/backend-migrate"}
    assert namespaces("postgres") == []
    backend_svc = find(objs, "Service", "backend-service")["spec"]["selector"]
    np_backend = find(objs, "NetworkPolicy", "backend")["spec"]["podSelector"]["matchLabels"]
    assert np_backend == backend_svc


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_real_secrets(rendered: dict[str, list[policy.Obj]], overlay: str) -> None:
    policy.check_no_real_secrets(rendered[overlay])


def test_every_exemption_is_needed_and_scoped_to_the_database(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    """An exemption that no longer changes anything is stale; each must apply to postgres only."""
    objs = rendered["local"]
    for ex in policy.DEFAULT_EXEMPTIONS:
        assert ex.component == "database" and len(ex.reason) > 40
        others = tuple(e for e in policy.DEFAULT_EXEMPTIONS if e is not ex)
        found = policy.workload_violations(objs, exemptions=others) + policy.pdb_violations(
            objs, exemptions=others
        )
        hits = [v for v in found if v.rule == ex.rule]
        assert hits, f"exemption {ex.rule} is not needed any more"
        assert all(v.where.startswith("StatefulSet/postgres") for v in hits), hits


# ------------------------------------------------------------------------------ the brief's names
def test_frontend_service_is_nodeport_3000_to_30000(rendered: dict[str, list[policy.Obj]]) -> None:
    svc = find(rendered["local"], "Service", "frontend-service")
    assert svc["spec"]["type"] == "NodePort"
    (port,) = svc["spec"]["ports"]
    assert (port["port"], port["nodePort"]) == (3000, 30000)
    pod_port = container(find(rendered["local"], "Deployment", "frontend"), "frontend")["ports"][0]
    assert port["targetPort"] in (pod_port["name"], pod_port["containerPort"])
    assert pod_port["containerPort"] == 3000


def test_backend_service_is_clusterip_8001(rendered: dict[str, list[policy.Obj]]) -> None:
    svc = find(rendered["local"], "Service", "backend-service")
    assert svc["spec"]["type"] == "ClusterIP"
    assert [p["port"] for p in svc["spec"]["ports"]] == [8001]


@pytest.mark.parametrize("name", ["backend", "frontend"])
def test_deployments_run_two_replicas_of_the_local_images(
    rendered: dict[str, list[policy.Obj]], name: str
) -> None:
    dep = find(rendered["local"], "Deployment", name)
    assert dep["spec"]["replicas"] == 2
    images = {c["image"] for c in policy.pod_template(dep)["spec"]["containers"]}
    assert images <= APP_IMAGES
    assert all(
        c["imagePullPolicy"] == "IfNotPresent"
        for _, c in policy.containers(policy.pod_template(dep)["spec"])
    )


def test_frontend_reaches_the_backend_service(rendered: dict[str, list[policy.Obj]]) -> None:
    objs = rendered["local"]
    url = find(objs, "ConfigMap", "frontend-config")["data"]["BACKEND_URL"]
    m = re.fullmatch(r"http://([a-z0-9-]+):(\d+)", url)
    assert m, url
    svc = find(objs, "Service", m.group(1))
    assert int(m.group(2)) in [p["port"] for p in svc["spec"]["ports"]]
    assert svc["spec"]["selector"]["app.kubernetes.io/component"] == "backend"
    env_from = container(find(objs, "Deployment", "frontend"), "frontend")["envFrom"]
    assert {"configMapRef": {"name": "frontend-config"}} in env_from


def test_backend_config_is_valid_for_the_app_in_production(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    """The ConfigMap plus a Secret shaped like the example load with the app's own settings code:
    every key is a real setting (a typo would be silently ignored otherwise) and APP_ENV is
    production (which refuses a weak AUTH_SECRET)."""
    from todo_api.core.config import Settings, load_settings

    for overlay in ("local", "neon"):
        data = find(rendered[overlay], "ConfigMap", "backend-config")["data"]
        known = {name.upper() for name in Settings.model_fields}
        # Read by `todo-api serve` (uvicorn's workers and proxy trust), not by Settings.
        served_by_the_cli = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"}
        assert set(data) <= known | served_by_the_cli, set(data) - known
        assert data["APP_ENV"] == "production"
        assert data["MIGRATE_ON_START"] == "false"
        env = {
            **data,
            "DATABASE_URL": "postgresql://todo:pw@postgres:5432/todo?sslmode=disable",
            "AUTH_SECRET": "k" * 40,
        }
        old = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(env)
            settings = load_settings()
        finally:
            os.environ.clear()
            os.environ.update(old)
        assert settings.app_env == "production"
        assert settings.llm_provider == "local"


def test_backend_config_check_runs_through_the_cli(rendered: dict[str, list[policy.Obj]]) -> None:
    """`todo-api check-config` (the image's entrypoint) accepts the ConfigMap + example Secret,
    and refuses the example's short placeholder AUTH_SECRET naming the variable."""
    data = find(rendered["local"], "ConfigMap", "backend-config")["data"]
    example = policy.parse_yaml((K8S_DIR / "base/backend/backend-secret.example.yaml").read_text())
    secret = example[0]["stringData"]
    cli = REPO / "backend" / ".venv" / "bin" / "todo-api"
    base_env = {"PATH": os.environ.get("PATH", ""), **data}
    ok = subprocess.run(
        [str(cli), "check-config"],
        env={**base_env, "DATABASE_URL": secret["DATABASE_URL"], "AUTH_SECRET": "x" * 64},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "env=production" in ok.stdout
    weak = subprocess.run(
        [str(cli), "check-config"],
        env={**base_env, "DATABASE_URL": secret["DATABASE_URL"], "AUTH_SECRET": "short"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert weak.returncode == 2
    assert weak.stderr.startswith("configuration error: AUTH_SECRET")


def test_frontend_config_keys_are_read_by_the_frontend(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    data = find(rendered["local"], "ConfigMap", "frontend-config")["data"]
    # Read by Node.js / the Next.js standalone server itself.
    runtime = {"NODE_ENV", "NEXT_TELEMETRY_DISABLED", "HOSTNAME", "PORT", "NODE_OPTIONS"}
    sources = [
        p
        for d in ("lib", "app")
        for p in (REPO / "frontend" / d).rglob("*.ts")
        if "node_modules" not in p.parts
    ]
    assert sources, "frontend sources not found"
    text = "\n".join(p.read_text() for p in sources)
    for key in set(data) - runtime:
        # process.env.KEY, or env.KEY on an env object passed in (testable code)
        read = re.search(rf"\benv(\.{key}\b|\[[\"']{key}[\"']\])", text)
        assert read, f"frontend-config {key} is not read by the frontend"
    assert data["PORT"] == "3000"


def test_migrations_run_in_a_job_that_the_backend_waits_for(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    objs = rendered["local"]
    job = find(objs, "Job", "backend-migrate")
    migrate = container(job, "migrate")
    assert migrate["image"] == "todo-backend:0.1.0"
    script = " ".join(migrate["command"] + migrate["args"])
    assert "todo-api migrate --check" in script and "exec todo-api migrate" in script
    backend = find(objs, "Deployment", "backend")
    init = container(backend, "wait-for-migrations")
    assert init["image"] == container(backend, "backend")["image"]
    wait = " ".join(init["command"] + init["args"])
    # the pods wait for the schema at head (exit 0 only), not merely for the database (3)
    assert "todo-api migrate --check" in wait and '"$rc" -eq 3' not in wait
    # Same configuration as the server: the check talks to the same database.
    assert init["envFrom"] == container(backend, "backend")["envFrom"]
    assert {"secretRef": {"name": "backend-secret"}} in migrate["envFrom"]


def test_backend_runs_the_image_command_on_its_port(rendered: dict[str, list[policy.Obj]]) -> None:
    backend = container(find(rendered["local"], "Deployment", "backend"), "backend")
    assert backend["args"] == ["serve", "--host", "0.0.0.0", "--port", "8001"]
    assert "command" not in backend  # the image's ENTRYPOINT (todo-api) stays
    dockerfile = (REPO / "backend" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["todo-api"]' in dockerfile
    assert "EXPOSE 8001" in dockerfile


def test_postgres_keeps_its_data_on_a_volume(rendered: dict[str, list[policy.Obj]]) -> None:
    objs = rendered["local"]
    sts = find(objs, "StatefulSet", "postgres")
    assert sts["spec"]["serviceName"] == "postgres-headless"
    assert find(objs, "Service", "postgres-headless")["spec"]["clusterIP"] == "None"
    (vct,) = sts["spec"]["volumeClaimTemplates"]
    pg = container(sts, "postgres")
    data_mount = next(m for m in pg["volumeMounts"] if m["name"] == vct["metadata"]["name"])
    pgdata = next(e["value"] for e in pg["env"] if e["name"] == "PGDATA")
    assert pgdata.startswith(data_mount["mountPath"] + "/")
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    env = {e["name"]: e for e in pg["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "postgres-secret",
        "key": "POSTGRES_PASSWORD",
    }
    # user and database: the ones scripts/k8s-secret.sh writes into postgres-secret
    assert (env["POSTGRES_USER"]["value"], env["POSTGRES_DB"]["value"]) == ("todo", "todo")
    assert "pg_user=todo pg_db=todo" in (REPO / "scripts" / "k8s-secret.sh").read_text()


def test_neon_overlay_has_no_database_and_smaller_pools(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    objs = rendered["neon"]
    assert not [o for o in objs if policy.component(o) == "database"]
    data = find(objs, "ConfigMap", "backend-config")["data"]
    assert int(data["DB_POOL_SIZE"]) + int(data["DB_MAX_OVERFLOW"]) <= 5
    ready = container(find(objs, "Deployment", "backend"), "backend")["readinessProbe"]
    assert ready["timeoutSeconds"] > int(data["DB_TIMEOUT_SECONDS"])


@pytest.mark.parametrize("overlay", ["local", "neon"])
def test_readiness_probe_outlasts_the_database_timeout(
    rendered: dict[str, list[policy.Obj]], overlay: str
) -> None:
    """/ready waits up to DB_TIMEOUT_SECONDS; a shorter probe timeout would flap on a slow DB."""
    objs = rendered[overlay]
    timeout = int(find(objs, "ConfigMap", "backend-config")["data"]["DB_TIMEOUT_SECONDS"])
    ready = container(find(objs, "Deployment", "backend"), "backend")["readinessProbe"]
    assert ready["timeoutSeconds"] > timeout


def test_referenced_configmaps_and_secrets_exist(rendered: dict[str, list[policy.Obj]]) -> None:
    """Every envFrom/secretKeyRef points at a rendered ConfigMap or at a Secret that
    scripts/k8s-secret.sh creates (documented by an example file with the same keys)."""
    examples = {
        o["metadata"]["name"]: set(o["stringData"])
        for p in EXAMPLE_SECRETS
        for o in policy.parse_yaml(p.read_text())
    }
    script = (REPO / "scripts" / "k8s-secret.sh").read_text()
    for overlay in ("local", "neon"):
        objs = rendered[overlay]
        configmaps = {o["metadata"]["name"] for o in by_kind(objs, "ConfigMap")}
        for obj, tpl in policy.workloads(objs):
            for _, c in policy.containers(tpl["spec"]):
                for ref in c.get("envFrom", []):
                    if "configMapRef" in ref:
                        assert ref["configMapRef"]["name"] in configmaps
                    else:
                        assert ref["secretRef"]["name"] in examples
                        assert f"add_secret {ref['secretRef']['name']}" in script
                for env in c.get("env", []):
                    key_ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if key_ref:
                        assert key_ref["key"] in examples[key_ref["name"]], (
                            policy.ident(obj),
                            key_ref,
                        )


def test_minikube_script_builds_the_tags_the_manifests_run(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    # The committed manifests run the release version; the scripts swap in content tags
    # (0.1.0-<digest>, tests/deploy/test_scripts_images.py).
    script = (REPO / "scripts" / "lib" / "images.sh").read_text()
    tag = re.search(r"^APP_SEMVER=(\S+)", script, re.M)
    assert tag
    images = {
        c["image"]
        for _, tpl in policy.workloads(rendered["local"])
        for _, c in policy.containers(tpl["spec"])
        if c["image"].startswith("todo-")
    }
    assert images == {f"todo-backend:{tag.group(1)}", f"todo-frontend:{tag.group(1)}"}


@pytest.mark.parametrize("overlay", ["local", "neon"])
def test_version_labels_follow_the_image_tags(
    rendered: dict[str, list[policy.Obj]], overlay: str
) -> None:
    for obj, tpl in policy.workloads(rendered[overlay]):
        for _, c in policy.containers(tpl["spec"]):
            if policy.image_repo(c["image"]).startswith("todo-"):
                tag = policy.image_tag(c["image"])
                assert obj["metadata"]["labels"]["app.kubernetes.io/version"] == tag
                assert tpl["metadata"]["labels"]["app.kubernetes.io/version"] == tag


def test_frontend_cache_volume_is_where_the_image_keeps_next(
    rendered: dict[str, list[policy.Obj]],
) -> None:
    """The Next.js cache emptyDir sits under the image's WORKDIR (the standalone server's .next)."""
    dockerfile = (REPO / "frontend" / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.index("AS runtime") :]
    workdir = re.findall(r"^WORKDIR\s+(\S+)", runtime, re.M)[-1]
    mounts = {
        m["mountPath"]
        for m in container(find(rendered["local"], "Deployment", "frontend"), "frontend")[
            "volumeMounts"
        ]
    }
    assert f"{workdir.rstrip('/')}/.next/cache" in mounts
    assert re.search(r'^CMD \["server\.js"\]', runtime, re.M)
