"""The policy catches what it claims to: each rule fires when a rendered, compliant manifest set
is broken in exactly one place (and only then)."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import policy
import pytest
from deploytools import container, find

Objs = list[policy.Obj]


def pod(objs: Objs, kind: str, name: str) -> policy.Obj:
    tpl = policy.pod_template(find(objs, kind, name))
    assert tpl is not None
    return tpl["spec"]


def backend(objs: Objs) -> policy.Obj:
    return container(find(objs, "Deployment", "backend"), "backend")


def frontend(objs: Objs) -> policy.Obj:
    return container(find(objs, "Deployment", "frontend"), "frontend")


def _set(target: Any, key: Any, value: object) -> None:
    target[key] = value


def drop_mount(c: policy.Obj, path: str) -> None:
    c["volumeMounts"] = [m for m in c["volumeMounts"] if m["mountPath"] != path]


def add_secret(objs: Objs, value: str, *, encoded: bool = False) -> None:
    data = {"AUTH_SECRET": base64.b64encode(value.encode()).decode()} if encoded else None
    objs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "leak",
                "labels": dict(find(objs, "ConfigMap", "backend-config")["metadata"]["labels"]),
            },
            **({"data": data} if data else {"stringData": {"AUTH_SECRET": value}}),
        }
    )


# (id, mutation, rule that must fire)
MUTATIONS: list[tuple[str, Callable[[Objs], None], str]] = [
    (
        "automount",
        lambda o: _set(pod(o, "Deployment", "backend"), "automountServiceAccountToken", True),
        policy.R_AUTOMOUNT,
    ),
    (
        "automount-unset",
        lambda o: pod(o, "Job", "backend-migrate").pop("automountServiceAccountToken"),
        policy.R_AUTOMOUNT,
    ),
    (
        "root-user",
        lambda o: _set(pod(o, "Deployment", "frontend")["securityContext"], "runAsUser", 0),
        policy.R_UID,
    ),
    (
        "fsgroup",
        lambda o: pod(o, "Deployment", "backend")["securityContext"].pop("fsGroup"),
        policy.R_UID,
    ),
    (
        "non-root-off",
        lambda o: _set(pod(o, "Deployment", "backend")["securityContext"], "runAsNonRoot", False),
        policy.R_RUN_AS_NON_ROOT,
    ),
    ("container-root", lambda o: _set(backend(o)["securityContext"], "runAsUser", 0), policy.R_UID),
    (
        "seccomp",
        # the container's profile wins over the pod's (both set it)
        lambda o: _set(
            container(find(o, "Deployment", "frontend"), "frontend")["securityContext"],
            "seccompProfile",
            {"type": "Unconfined"},
        ),
        policy.R_SECCOMP,
    ),
    (
        "priv-esc",
        lambda o: _set(frontend(o)["securityContext"], "allowPrivilegeEscalation", True),
        policy.R_PRIV_ESC,
    ),
    (
        "writable-root",
        lambda o: _set(backend(o)["securityContext"], "readOnlyRootFilesystem", False),
        policy.R_READONLY_ROOT,
    ),
    (
        "init-writable-root",
        lambda o: container(find(o, "Deployment", "backend"), "wait-for-migrations")[
            "securityContext"
        ].pop("readOnlyRootFilesystem"),
        policy.R_READONLY_ROOT,
    ),
    ("caps-kept", lambda o: _set(backend(o)["securityContext"], "capabilities", {}), policy.R_CAPS),
    (
        "caps-added",
        lambda o: _set(frontend(o)["securityContext"]["capabilities"], "add", ["NET_ADMIN"]),
        policy.R_CAPS,
    ),
    (
        "privileged",
        lambda o: _set(backend(o)["securityContext"], "privileged", True),
        policy.R_PRIVILEGED,
    ),
    (
        "host-network",
        lambda o: _set(pod(o, "Deployment", "backend"), "hostNetwork", True),
        policy.R_HOST,
    ),
    (
        "netpol-selects-nothing",
        lambda o: _set(
            find(o, "NetworkPolicy", "backend")["spec"]["podSelector"]["matchLabels"],
            "app.kubernetes.io/name",
            "api",
        ),
        policy.R_NETPOL,
    ),
    (
        "netpol-unknown-client",
        lambda o: _set(
            find(o, "NetworkPolicy", "postgres")["spec"]["ingress"][0]["from"][0]["podSelector"][
                "matchExpressions"
            ][0],
            "values",
            ["migration"],  # a typo: no pod has it
        ),
        policy.R_NETPOL,
    ),
    (
        "netpol-wrong-port",
        lambda o: _set(
            find(o, "NetworkPolicy", "backend")["spec"]["ingress"][0]["ports"][0], "port", 8000
        ),
        policy.R_NETPOL,
    ),
    ("host-port", lambda o: _set(backend(o)["ports"][0], "hostPort", 8001), policy.R_HOST),
    (
        "host-path",
        lambda o: pod(o, "Deployment", "backend")["volumes"].append(
            {"name": "h", "hostPath": {"path": "/"}}
        ),
        policy.R_HOST,
    ),
    ("no-tmp", lambda o: drop_mount(backend(o), "/tmp"), policy.R_WRITABLE),
    ("no-next-cache", lambda o: drop_mount(frontend(o), "/app/.next/cache"), policy.R_WRITABLE),
    (
        "tmp-not-emptydir",
        lambda o: _set(
            pod(o, "Deployment", "backend")["volumes"],
            0,
            {"name": "tmp", "configMap": {"name": "backend-config"}},
        ),
        policy.R_WRITABLE,
    ),
    ("no-limits", lambda o: backend(o)["resources"].pop("limits"), policy.R_RESOURCES),
    (
        "no-cpu-request",
        lambda o: frontend(o)["resources"]["requests"].pop("cpu"),
        policy.R_RESOURCES,
    ),
    (
        "request-over-limit",
        lambda o: _set(backend(o)["resources"]["requests"], "memory", "1Gi"),
        policy.R_RESOURCES,
    ),
    (
        "init-no-resources",
        lambda o: container(find(o, "Deployment", "backend"), "wait-for-migrations").pop(
            "resources"
        ),
        policy.R_RESOURCES,
    ),
    ("latest-tag", lambda o: _set(frontend(o), "image", "todo-frontend:latest"), policy.R_IMAGE),
    ("no-tag", lambda o: _set(backend(o), "image", "todo-backend"), policy.R_IMAGE),
    ("pull-always", lambda o: _set(backend(o), "imagePullPolicy", "Always"), policy.R_IMAGE),
    ("no-startup", lambda o: backend(o).pop("startupProbe"), policy.R_PROBES),
    ("no-liveness", lambda o: frontend(o).pop("livenessProbe"), policy.R_PROBES),
    (
        "no-readiness",
        lambda o: find(o, "StatefulSet", "postgres")["spec"]["template"]["spec"]["containers"][
            0
        ].pop("readinessProbe"),
        policy.R_PROBES,
    ),
    (
        "liveness-trigger-happy",
        lambda o: _set(backend(o)["livenessProbe"], "periodSeconds", 3),
        policy.R_PROBE_TIMING,
    ),
    (
        "readiness-slow",
        lambda o: _set(frontend(o)["readinessProbe"], "periodSeconds", 30),
        policy.R_PROBE_TIMING,
    ),
    (
        "timeout-ge-period",
        lambda o: _set(backend(o)["livenessProbe"], "timeoutSeconds", 10),
        policy.R_PROBE_TIMING,
    ),
    (
        "startup-too-short",
        lambda o: _set(backend(o)["startupProbe"], "failureThreshold", 2),
        policy.R_PROBE_TIMING,
    ),
    (
        "liveness-on-ready",
        lambda o: _set(backend(o)["livenessProbe"]["httpGet"], "path", "/ready"),
        policy.R_CONTRACT,
    ),
    (
        "readiness-wrong-path",
        lambda o: _set(backend(o)["readinessProbe"]["httpGet"], "path", "/healthz"),
        policy.R_CONTRACT,
    ),
    (
        "probe-wrong-port",
        lambda o: _set(frontend(o)["startupProbe"]["httpGet"], "port", 8080),
        policy.R_CONTRACT,
    ),
    (
        "wrong-container-port",
        lambda o: _set(backend(o)["ports"][0], "containerPort", 8000),
        policy.R_CONTRACT,
    ),
    (
        "wrong-serve-port",
        lambda o: _set(backend(o), "args", ["serve", "--host", "0.0.0.0", "--port", "8000"]),
        policy.R_CONTRACT,
    ),
    (
        "exec-probe-on-http-image",
        lambda o: _set(
            frontend(o), "readinessProbe", {"exec": {"command": ["true"]}, "periodSeconds": 5}
        ),
        policy.R_CONTRACT,
    ),
    ("no-prestop", lambda o: backend(o).pop("lifecycle"), policy.R_PRESTOP),
    (
        "prestop-too-long",
        lambda o: _set(frontend(o)["lifecycle"]["preStop"], "sleep", {"seconds": 120}),
        policy.R_PRESTOP,
    ),
    (
        "grace-too-short",
        lambda o: _set(pod(o, "Deployment", "backend"), "terminationGracePeriodSeconds", 10),
        policy.R_PRESTOP,
    ),
    (
        "db-grace-too-short",
        lambda o: _set(pod(o, "StatefulSet", "postgres"), "terminationGracePeriodSeconds", 5),
        policy.R_PRESTOP,
    ),
    (
        "max-unavailable",
        lambda o: _set(
            find(o, "Deployment", "backend")["spec"]["strategy"]["rollingUpdate"],
            "maxUnavailable",
            1,
        ),
        policy.R_STRATEGY,
    ),
    (
        "no-surge",
        lambda o: _set(
            find(o, "Deployment", "frontend")["spec"]["strategy"]["rollingUpdate"], "maxSurge", 0
        ),
        policy.R_STRATEGY,
    ),
    (
        "recreate",
        lambda o: _set(find(o, "Deployment", "frontend")["spec"], "strategy", {"type": "Recreate"}),
        policy.R_STRATEGY,
    ),
    (
        "one-replica",
        lambda o: _set(find(o, "Deployment", "backend")["spec"], "replicas", 1),
        policy.R_REPLICAS,
    ),
    (
        "version-in-selector",
        lambda o: _set(
            find(o, "Deployment", "backend")["spec"]["selector"]["matchLabels"],
            "app.kubernetes.io/version",
            "0.1.0",
        ),
        policy.R_SELECTOR,
    ),
    (
        "job-unbounded",
        lambda o: find(o, "Job", "backend-migrate")["spec"].pop("activeDeadlineSeconds"),
        policy.R_JOB,
    ),
    (
        "job-restart-always",
        lambda o: _set(pod(o, "Job", "backend-migrate"), "restartPolicy", "Always"),
        policy.R_JOB,
    ),
    (
        "sts-no-volume",
        lambda o: find(o, "StatefulSet", "postgres")["spec"].pop("volumeClaimTemplates"),
        policy.R_STATEFUL,
    ),
    (
        "sts-not-headless",
        lambda o: find(o, "Service", "postgres-headless")["spec"].pop("clusterIP"),
        policy.R_STATEFUL,
    ),
    ("no-pdb", lambda o: o.remove(find(o, "PodDisruptionBudget", "frontend")), policy.R_PDB),
    (
        "pdb-blocks-drain",
        lambda o: _set(find(o, "PodDisruptionBudget", "backend")["spec"], "minAvailable", 2),
        policy.R_PDB,
    ),
    (
        "pdb-wrong-selector",
        lambda o: _set(
            find(o, "PodDisruptionBudget", "backend")["spec"]["selector"]["matchLabels"],
            "app.kubernetes.io/component",
            "api",
        ),
        policy.R_PDB,
    ),
    (
        "label-missing",
        lambda o: find(o, "Service", "backend-service")["metadata"]["labels"].pop(
            "app.kubernetes.io/version"
        ),
        policy.R_LABELS,
    ),
    (
        "pod-label-missing",
        lambda o: find(o, "Deployment", "frontend")["spec"]["template"]["metadata"]["labels"].pop(
            "app.kubernetes.io/part-of"
        ),
        policy.R_LABELS,
    ),
    (
        "service-selects-nothing",
        lambda o: _set(
            find(o, "Service", "backend-service")["spec"]["selector"],
            "app.kubernetes.io/name",
            "backend",
        ),
        policy.R_SERVICE,
    ),
    (
        "service-selects-two-components",
        lambda o: _set(
            find(o, "Service", "backend-service")["spec"],
            "selector",
            {"app.kubernetes.io/part-of": "todo-chatbot"},
        ),
        policy.R_SERVICE,
    ),
    (
        "service-wrong-target-port",
        lambda o: _set(
            find(o, "Service", "frontend-service")["spec"]["ports"][0], "targetPort", 3001
        ),
        policy.R_SERVICE,
    ),
    (
        "service-unknown-port-name",
        lambda o: _set(find(o, "Service", "postgres")["spec"]["ports"][0], "targetPort", "pg"),
        policy.R_SERVICE,
    ),
    (
        "secret-in-configmap-key",
        lambda o: _set(find(o, "ConfigMap", "backend-config")["data"], "GROQ_API_KEY", "x"),
        policy.R_SECRET,
    ),
    (
        "credential-url-in-configmap",
        lambda o: _set(
            find(o, "ConfigMap", "backend-config")["data"],
            "FRONTEND_URL",
            "postgresql://todo:hunter2hunter2@db/todo",
        ),
        policy.R_SECRET,
    ),
    (
        "literal-secret-env",
        lambda o: (
            backend(o).setdefault("env", []).append({"name": "AUTH_SECRET", "value": "x" * 40})
        ),
        policy.R_SECRET,
    ),
    (
        "groq-key-literal",
        lambda o: (
            backend(o).setdefault("env", []).append({"name": "NOTE", "value": "gsk_" + "a1" * 20})
        ),
        policy.R_SECRET,
    ),
    (
        "real-secret-stringdata",
        lambda o: add_secret(o, "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        policy.R_SECRET,
    ),
    (
        "real-secret-data",
        lambda o: add_secret(o, "9f8e7d6c5b4a39281706f5e4d3c2b1a0", encoded=True),
        policy.R_SECRET,
    ),
    (
        "unknown-field",
        lambda o: _set(backend(o), "imagePullPolicyy", "IfNotPresent"),
        policy.R_SCHEMA,
    ),
    (
        "wrong-type",
        lambda o: _set(find(o, "Deployment", "frontend")["spec"], "replicas", "two"),
        policy.R_SCHEMA,
    ),
    (
        "bad-probe-shape",
        lambda o: _set(backend(o)["livenessProbe"], "httpGet", {"path": "/health"}),
        policy.R_SCHEMA,
    ),
]


@pytest.fixture(scope="module")
def local(rendered: dict[str, Objs]) -> Objs:
    objs = rendered["local"]
    assert policy.all_violations(objs) == [], "the baseline must be compliant"
    return objs


@pytest.mark.parametrize(
    ("mutate", "rule"), [(m, r) for _, m, r in MUTATIONS], ids=[i for i, _, _ in MUTATIONS]
)
def test_policy_catches(local: Objs, mutate: Callable[[Objs], None], rule: str) -> None:
    objs = copy.deepcopy(local)
    mutate(objs)
    with pytest.raises(policy.PolicyError) as info:
        policy.check_all(objs)
    found = info.value.violations
    assert rule in policy.rules(found), (
        f"expected a {rule} violation, got {[str(v) for v in found]}"
    )
    assert f"[{rule}]" in str(info.value)


def test_every_rule_is_exercised() -> None:
    """Each rule id in the module has at least one mutation above that proves it fires."""
    declared = {v for k, v in vars(policy).items() if k.startswith("R_")}
    assert declared == {r for _, _, r in MUTATIONS}


def test_exemption_is_scoped_to_its_component(local: Objs) -> None:
    """The postgres uid exemption does not let an app workload run as 999."""
    objs = copy.deepcopy(local)
    sc = pod(objs, "Deployment", "backend")["securityContext"]
    sc.update(runAsUser=999, runAsGroup=999, fsGroup=999)
    assert {v.where for v in policy.workload_violations(objs) if v.rule == policy.R_UID} == {
        "Deployment/backend"
    }


def test_hpa_min_replicas_count_as_replicas(local: Objs) -> None:
    objs = copy.deepcopy(local)
    find(objs, "Deployment", "backend")["spec"].pop("replicas")
    assert policy.R_REPLICAS in policy.rules(policy.workload_violations(objs))
    objs.append(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "backend"},
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "backend",
                },
                "minReplicas": 2,
                "maxReplicas": 5,
            },
        }
    )
    assert policy.R_REPLICAS not in policy.rules(policy.workload_violations(objs))


@pytest.mark.parametrize(
    ("pre_stop", "seconds"),
    [
        ({"sleep": {"seconds": 5}}, 5),
        ({"exec": {"command": ["sleep", "7"]}}, 7),
        ({"exec": {"command": ["/bin/sleep", "4"]}}, 4),
        ({"exec": {"command": ["/bin/sh", "-c", "sleep 6"]}}, 6),
        ({"exec": {"command": ["/bin/sh", "-c", "rm -rf /data; sleep 6"]}}, None),
        ({"httpGet": {"path": "/drain", "port": 80}}, None),
    ],
)
def test_prestop_forms(pre_stop: policy.Obj, seconds: int | None) -> None:
    assert policy._prestop_seconds({"lifecycle": {"preStop": pre_stop}}) == seconds


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("100m", "cpu", 0.1),
        ("1", "cpu", 1.0),
        ("0.5", "cpu", 0.5),
        ("128Mi", "memory", 128 * 2**20),
        ("1Gi", "memory", 2**30),
        ("500M", "memory", 5e8),
        (1024, "memory", 1024.0),
    ],
)
def test_quantities(value: object, kind: str, expected: float) -> None:
    assert policy.quantity(value, kind) == pytest.approx(expected)


def test_quantity_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="bad memory"):
        policy.quantity("lots", "memory")


def test_parse_yaml_flattens_lists_and_skips_empty_documents() -> None:
    text = "---\n---\nkind: List\napiVersion: v1\nitems:\n- {kind: A}\n- {kind: B}\n---\nkind: C\n"
    assert [o["kind"] for o in policy.parse_yaml(text)] == ["A", "B", "C"]


@pytest.mark.parametrize(
    "value",
    ["CHANGE_ME", "postgresql://todo:CHANGE_ME@postgres:5432/todo", "<your-groq-api-key>", ""],
)
def test_placeholders_pass(value: str) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"K": base64.b64encode(value.encode()).decode()},
    }
    assert policy.secret_violations([secret]) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PASSWORD", "hunter2"),
        ("URL", "postgresql://todo:s3cret@db/todo"),
        ("K", "gsk_" + "Ab1" * 10 + " CHANGE_ME"),
        ("NOTE", "c9f0e1a27b3d4e5f60718293a4b5c6d7"),
    ],
)
def test_real_looking_values_fail(key: str, value: str) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {key: value},
    }
    assert policy.rules(policy.secret_violations([secret])) == {policy.R_SECRET}


def test_image_helpers() -> None:
    assert policy.image_repo("reg.example:5000/team/todo-backend:1.2@sha256:ab") == "todo-backend"
    assert policy.image_tag("reg.example:5000/team/todo-backend:1.2") == "1.2"
    assert policy.image_tag("reg.example:5000/todo-backend") is None
