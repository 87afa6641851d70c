"""Production-grade policy for the project's Kubernetes objects (plain manifests and Helm output).

Every function takes a list of parsed Kubernetes objects (plain dicts, as `yaml.safe_load_all`
gives them) and either returns a list of `Violation`s (`*_violations`) or raises `PolicyError`
listing all of them (`check_*`). Typical use from a test:

    import policy                                   # tests/deploy is on sys.path for its tests
    objs = policy.parse_yaml(rendered_text)         # kubectl kustomize / helm template output
    policy.check_all(objs)                          # every rule below, schemas included
    # or one family at a time:
    policy.check_workloads(objs)                    # pod/container rules for every workload
    policy.check_services_match_pods(objs)          # selectors, targetPorts, headless services
    policy.check_image_contracts(objs)              # ports + probe paths the images really serve
    policy.check_pdbs(objs)                         # a PodDisruptionBudget per workload
    policy.check_labels(objs)                       # app.kubernetes.io/* on every object
    policy.check_network_policies(objs)             # NetworkPolicy selectors/ports hit real pods
    policy.check_no_real_secrets(objs)              # placeholders only; none in ConfigMaps/env
    policy.validate_schemas(objs, "1.37")           # kubernetes-validate --strict, offline

Violations carry a rule id (the `R_*` constants) so a test can assert that a specific rule fires:

    assert policy.R_READONLY_ROOT in policy.rules(policy.workload_violations(mutated))

Exceptions are never silent: `DEFAULT_EXEMPTIONS` lists each one with the component it applies to
(the `app.kubernetes.io/component` label) and why. Pass `exemptions=` to use another list. The
in-cluster PostgreSQL must carry `app.kubernetes.io/component: database` for its exemptions to
apply; every other workload gets the full rule set.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

Obj = dict[str, Any]

# ---------------------------------------------------------------------------------- the contract
#: uid/gid every project pod runs as (the images create this user).
APP_UID = 1001
#: Labels every object carries (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
)
#: Pull policies that work with images loaded into the node (`minikube image load`, no registry).
ALLOWED_PULL_POLICIES = ("IfNotPresent", "Never")


@dataclass(frozen=True)
class ImageContract:
    """What an image serves: the policy checks ports and probe paths against it."""

    port: int
    liveness: str  # must not touch dependencies: a DB outage must not restart every pod
    readiness: str
    startup: tuple[str, ...]
    writable: tuple[str, ...] = ("/tmp",)  # paths that need an emptyDir (read-only root fs)
    shutdown_seconds: int = 10  # the server's own graceful-shutdown time after SIGTERM


#: Keyed by the image repository's last path component (`reg/x/todo-backend:1.2` -> todo-backend).
IMAGE_CONTRACTS: dict[str, ImageContract] = {
    # uvicorn: `todo-api serve --graceful-timeout 20` (default) lets in-flight requests finish.
    "todo-backend": ImageContract(
        port=8001,
        liveness="/health",
        readiness="/ready",
        startup=("/health",),
        shutdown_seconds=20,
    ),
    # Next.js standalone server: writes its image/fetch cache under /app/.next/cache.
    "todo-frontend": ImageContract(
        port=3000,
        liveness="/health",
        readiness="/health",
        startup=("/health",),
        writable=("/tmp", "/app/.next/cache"),
    ),
}

# ---------------------------------------------------------------------------------- rule ids
R_AUTOMOUNT = "automount-sa-token"
R_RUN_AS_NON_ROOT = "run-as-non-root"
R_UID = "uid-gid"
R_SECCOMP = "seccomp-runtime-default"
R_PRIV_ESC = "no-privilege-escalation"
R_READONLY_ROOT = "readonly-root-fs"
R_CAPS = "drop-all-capabilities"
R_PRIVILEGED = "not-privileged"
R_HOST = "no-host-namespaces-or-paths"
R_WRITABLE = "emptydir-for-writable-paths"
R_RESOURCES = "requests-and-limits"
R_PROBES = "probes"
R_PROBE_TIMING = "probe-timings"
R_PRESTOP = "prestop-and-grace-period"
R_STRATEGY = "rolling-update"
R_REPLICAS = "replicas"
R_SELECTOR = "selector"
R_IMAGE = "image-tag-and-pull-policy"
R_JOB = "job-limits"
R_STATEFUL = "statefulset-storage"
R_PDB = "pod-disruption-budget"
R_LABELS = "labels"
R_SERVICE = "service-matches-pods"
R_CONTRACT = "image-contract"
R_SECRET = "no-real-secrets"
R_SCHEMA = "schema"
R_NETPOL = "network-policy"


@dataclass(frozen=True)
class Exemption:
    """An explicit, justified exception to one rule for one component."""

    rule: str
    component: str  # value of app.kubernetes.io/component
    reason: str
    value: Any = None  # replaces the expected value where a rule has one (e.g. the uid)


DEFAULT_EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption(
        R_UID,
        "database",
        value=999,
        reason="the official postgres image owns its files as postgres (uid/gid 999) and its "
        "entrypoint only runs initdb as a uid that exists in /etc/passwd; running it as 999 keeps "
        "the image unmodified. Still non-root, read-only root fs, no capabilities.",
    ),
    Exemption(
        R_PRESTOP,
        "database",
        reason="no Service load-balances to PostgreSQL: clients hold connections, so a preStop "
        "delay drains nothing. The image's STOPSIGNAL (SIGINT = fast shutdown) plus a long "
        "terminationGracePeriodSeconds (checked instead) give a clean checkpoint.",
    ),
    Exemption(
        R_PDB,
        "database",
        reason="a single-replica database: a PDB either blocks every node drain (minAvailable 1) "
        "or permits the eviction anyway (maxUnavailable 1). It has none; a managed database "
        "(Neon overlay) is the highly available option.",
    ),
    Exemption(
        R_REPLICAS,
        "database",
        reason="one PostgreSQL primary: replication needs an operator, out of scope for the "
        "local overlay.",
    ),
)


@dataclass(frozen=True)
class Violation:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.message}"


class PolicyError(AssertionError):
    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{len(violations)} policy violation(s):\n{lines}")


def rules(violations: Iterable[Violation]) -> set[str]:
    """The rule ids among `violations` (handy in assertions)."""
    return {v.rule for v in violations}


def _raise(violations: list[Violation]) -> None:
    if violations:
        raise PolicyError(violations)


# ---------------------------------------------------------------------------------- parsing
def parse_yaml(text: str) -> list[Obj]:
    """All objects of a multi-document YAML stream; `kind: List` items are flattened."""
    out: list[Obj] = []
    for doc in yaml.safe_load_all(text):
        if not doc:
            continue
        if doc.get("kind") == "List" or (doc.get("kind", "").endswith("List") and "items" in doc):
            out.extend(item for item in doc.get("items") or [] if item)
        else:
            out.append(doc)
    return out


# ---------------------------------------------------------------------------------- helpers
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
BATCH = ("Job", "CronJob")


def ident(obj: Obj) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def labels(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def pod_template(obj: Obj) -> Obj | None:
    """The pod template (metadata + spec) of a workload, or the Pod itself."""
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    if kind == "CronJob":
        return (((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get(
            "template"
        )
    if kind in LONG_RUNNING or kind == "Job":
        return (obj.get("spec") or {}).get("template")
    return None


def workloads(objs: Iterable[Obj]) -> Iterator[tuple[Obj, Obj]]:
    """(workload, pod template) for every object that runs pods."""
    for obj in objs:
        tpl = pod_template(obj)
        if tpl is not None:
            yield obj, tpl


def component(obj: Obj) -> str:
    tpl = pod_template(obj)
    return labels(obj).get("app.kubernetes.io/component") or (
        labels(tpl).get("app.kubernetes.io/component", "") if tpl else ""
    )


def _exempt(exemptions: Iterable[Exemption], rule: str, obj: Obj) -> Exemption | None:
    comp = component(obj)
    return next((e for e in exemptions if e.rule == rule and e.component == comp), None)


def image_repo(image: str) -> str:
    """`reg:5000/a/todo-backend:1.0@sha256:..` -> `todo-backend`."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def image_tag(image: str) -> str | None:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def containers(spec: Obj, *, init: bool = True) -> list[tuple[str, Obj]]:
    out = [("container", c) for c in spec.get("containers") or []]
    if init:
        out += [("initContainer", c) for c in spec.get("initContainers") or []]
    return out


_CPU_RE = re.compile(r"^([0-9.]+(?:e[0-9]+)?)(m?)$")
_MEM_UNITS = {
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "m": 1e-3,
}
_MEM_RE = re.compile(r"^([0-9.]+(?:e[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$")


def quantity(value: Any, kind: str) -> float:
    """A Kubernetes quantity as a float (cpu in cores, memory in bytes). ValueError if malformed."""
    text = str(value).strip()
    if kind == "cpu":
        m = _CPU_RE.match(text)
        if not m:
            raise ValueError(f"bad cpu quantity {value!r}")
        return float(m.group(1)) / (1000 if m.group(2) else 1)
    m = _MEM_RE.match(text)
    if not m:
        raise ValueError(f"bad memory quantity {value!r}")
    return float(m.group(1)) * _MEM_UNITS[m.group(2) or ""]


def _as_int(value: Any, default: int) -> int:
    """An integer field, or `default` when it is malformed (the schema check reports that)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _int_or_percent_is_zero(value: Any) -> bool:
    return str(value).strip() in {"0", "0%"}


def _pod_replicas(objs: list[Obj], obj: Obj) -> int:
    """Replicas of a workload, or the minReplicas of an HPA that targets it."""
    name = obj.get("metadata", {}).get("name")
    for hpa in objs:
        if hpa.get("kind") != "HorizontalPodAutoscaler":
            continue
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") == obj.get("kind") and ref.get("name") == name:
            return _as_int((hpa.get("spec") or {}).get("minReplicas", 1), 1)
    return _as_int((obj.get("spec") or {}).get("replicas", 1), 1)


def selector_matches(selector: Obj | None, pod_labels: dict[str, str]) -> bool:
    """matchLabels + matchExpressions (In, NotIn, Exists, DoesNotExist) against pod labels."""
    if not selector:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if pod_labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and pod_labels.get(key) not in values:
            return False
        if op == "NotIn" and pod_labels.get(key) in values:
            return False
        if op == "Exists" and key not in pod_labels:
            return False
        if op == "DoesNotExist" and key in pod_labels:
            return False
    return True


def _prestop_seconds(container: Obj) -> int | None:
    """Seconds of a preStop delay: the native `sleep` action or an exec of `sleep N`."""
    pre = ((container.get("lifecycle") or {}).get("preStop")) or {}
    if "sleep" in pre:
        secs = (pre["sleep"] or {}).get("seconds")
        return secs if isinstance(secs, int) else None
    cmd = [str(c) for c in ((pre.get("exec") or {}).get("command") or [])]
    if cmd and cmd[0].rsplit("/", 1)[-1] == "sleep" and len(cmd) == 2 and cmd[1].isdigit():
        return int(cmd[1])
    if len(cmd) == 3 and cmd[0].rsplit("/", 1)[-1] in {"sh", "bash"} and cmd[1] == "-c":
        m = re.fullmatch(r"\s*(?:exec\s+)?sleep\s+(\d+)\s*", cmd[2])
        if m:
            return int(m.group(1))
    return None


# ---------------------------------------------------------------------------------- workloads
def workload_violations(
    objs: list[Obj],
    *,
    exemptions: Iterable[Exemption] = DEFAULT_EXEMPTIONS,
    uid: int = APP_UID,
    min_replicas: int = 2,
) -> list[Violation]:
    """Pod-level and container-level rules for every Deployment/StatefulSet/Job/CronJob/Pod.

    All pods: automountServiceAccountToken false; runAsNonRoot; runAsUser/runAsGroup/fsGroup =
    `uid`; seccomp RuntimeDefault; no host namespaces/hostPath; every container (init included):
    allowPrivilegeEscalation false, readOnlyRootFilesystem, capabilities drop ALL (no add), not
    privileged, cpu+memory requests and limits (requests <= limits), an image tag that is not
    `latest`, imagePullPolicy IfNotPresent/Never, an emptyDir at /tmp (and at the image's other
    writable paths). Long-running workloads: startup/liveness/readiness probes with sensible
    timings; a preStop delay and a grace period covering it plus the server's shutdown time;
    Deployment RollingUpdate maxUnavailable 0 / maxSurge >= 1, >= `min_replicas` replicas,
    selector without the version label; StatefulSet headless serviceName + volumeClaimTemplates.
    Jobs: backoffLimit and activeDeadlineSeconds, restartPolicy Never/OnFailure.
    """
    exemptions = tuple(exemptions)
    out: list[Violation] = []
    for obj, tpl in workloads(objs):
        out += _pod_violations(objs, obj, tpl, exemptions, uid, min_replicas)
    return out


def check_workloads(objs: list[Obj], **kwargs: Any) -> None:
    _raise(workload_violations(objs, **kwargs))


def _pod_violations(
    objs: list[Obj],
    obj: Obj,
    tpl: Obj,
    exemptions: tuple[Exemption, ...],
    uid: int,
    min_replicas: int,
) -> list[Violation]:
    out: list[Violation] = []
    where = ident(obj)
    kind = obj.get("kind")
    spec: Obj = tpl.get("spec") or {}
    long_running = kind in LONG_RUNNING

    def bad(rule: str, msg: str, at: str = where) -> None:
        out.append(Violation(rule, at, msg))

    # -- pod level ------------------------------------------------------------------------------
    if spec.get("automountServiceAccountToken") is not False:
        bad(R_AUTOMOUNT, "automountServiceAccountToken must be false (the app never calls the API)")
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            bad(R_HOST, f"{host} must not be set")
    for vol in spec.get("volumes") or []:
        if "hostPath" in vol:
            bad(R_HOST, f"volume {vol.get('name')!r} uses hostPath")

    psc: Obj = spec.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        bad(R_RUN_AS_NON_ROOT, "pod securityContext.runAsNonRoot must be true")
    ex = _exempt(exemptions, R_UID, obj)
    want_uid = ex.value if ex else uid
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        if psc.get(key) != want_uid:
            bad(R_UID, f"pod securityContext.{key} is {psc.get(key)!r}, expected {want_uid}")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")

    emptydirs = {v.get("name") for v in spec.get("volumes") or [] if "emptyDir" in v}

    # -- containers -----------------------------------------------------------------------------
    for role, c in containers(spec):
        at = f"{where} {role} {c.get('name')}"
        csc: Obj = c.get("securityContext") or {}
        if csc.get("allowPrivilegeEscalation") is not False:
            bad(R_PRIV_ESC, "securityContext.allowPrivilegeEscalation must be false", at)
        if csc.get("readOnlyRootFilesystem") is not True:
            bad(R_READONLY_ROOT, "securityContext.readOnlyRootFilesystem must be true", at)
        caps: Obj = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad(R_CAPS, "securityContext.capabilities.drop must contain ALL", at)
        if caps.get("add"):
            bad(R_CAPS, f"securityContext.capabilities.add must be empty, got {caps['add']}", at)
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                bad(R_HOST, f"port {port.get('containerPort')} uses hostPort (use a Service)", at)
        if csc.get("privileged"):
            bad(R_PRIVILEGED, "privileged must not be true", at)
        if csc.get("runAsNonRoot") is False:
            bad(R_RUN_AS_NON_ROOT, "container overrides runAsNonRoot to false", at)
        for key in ("runAsUser", "runAsGroup"):
            if key in csc and csc[key] != want_uid:
                bad(
                    R_UID,
                    f"container securityContext.{key} is {csc[key]!r}, expected {want_uid}",
                    at,
                )
        seccomp = (csc.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp != "RuntimeDefault":
            bad(R_SECCOMP, f"seccompProfile.type is {seccomp!r}, expected RuntimeDefault", at)

        # resources
        res: Obj = c.get("resources") or {}
        for section in ("requests", "limits"):
            for key in ("cpu", "memory"):
                if key not in (res.get(section) or {}):
                    bad(R_RESOURCES, f"resources.{section}.{key} is missing", at)
        for key in ("cpu", "memory"):
            req, lim = (res.get("requests") or {}).get(key), (res.get("limits") or {}).get(key)
            if req is None or lim is None:
                continue
            try:
                if quantity(req, key) > quantity(lim, key):
                    bad(R_RESOURCES, f"{key} request {req} exceeds limit {lim}", at)
                if quantity(req, key) <= 0:
                    bad(R_RESOURCES, f"{key} request {req} must be > 0", at)
            except ValueError as exc:
                bad(R_RESOURCES, str(exc), at)

        # image
        image = str(c.get("image") or "")
        tag = image_tag(image)
        if not image or (tag in (None, "latest") and "@sha256:" not in image):
            bad(R_IMAGE, f"image {image!r} needs an explicit tag other than latest", at)
        if c.get("imagePullPolicy") not in ALLOWED_PULL_POLICIES:
            bad(
                R_IMAGE,
                f"imagePullPolicy {c.get('imagePullPolicy')!r} must be one of "
                f"{ALLOWED_PULL_POLICIES} (images are built into the cluster's runtime)",
                at,
            )

        # writable paths on a read-only root
        contract = IMAGE_CONTRACTS.get(image_repo(image))
        writable = contract.writable if contract else ("/tmp",)
        mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
        for path in writable:
            if mounts.get(path) not in emptydirs:
                bad(R_WRITABLE, f"{path} must be an emptyDir volume mount (read-only root fs)", at)

        # long-running main containers: probes + graceful shutdown
        if long_running and role == "container":
            out += _probe_violations(c, at)
            secs = _prestop_seconds(c)
            grace = _as_int(spec.get("terminationGracePeriodSeconds", 30), 30)
            shutdown = contract.shutdown_seconds if contract else 10
            if _exempt(exemptions, R_PRESTOP, obj):
                if grace < shutdown + 20:
                    bad(R_PRESTOP, f"terminationGracePeriodSeconds {grace} < {shutdown + 20}", at)
            elif secs is None:
                bad(
                    R_PRESTOP,
                    "lifecycle.preStop must delay shutdown (sleep action or exec sleep N)",
                    at,
                )
            elif not 3 <= secs <= 30:
                bad(
                    R_PRESTOP, f"preStop sleep {secs}s should be 3..30 s (endpoint propagation)", at
                )
            elif grace < secs + shutdown:
                bad(
                    R_PRESTOP,
                    f"terminationGracePeriodSeconds {grace} < preStop {secs} + server shutdown "
                    f"{shutdown}: in-flight requests would be killed",
                    at,
                )

    # -- workload kind rules --------------------------------------------------------------------
    ospec: Obj = obj.get("spec") or {}
    tpl_labels = labels(tpl)
    if kind in LONG_RUNNING:
        selector = ospec.get("selector")
        if not selector_matches(selector, tpl_labels):
            bad(R_SELECTOR, "spec.selector does not match the pod template labels")
        sel_keys = set((selector or {}).get("matchLabels") or {})
        if "app.kubernetes.io/version" in sel_keys:
            bad(R_SELECTOR, "selector must not include app.kubernetes.io/version (immutable)")
        if not _exempt(exemptions, R_REPLICAS, obj) and kind != "DaemonSet":
            n = _pod_replicas(objs, obj)
            if n < min_replicas:
                bad(R_REPLICAS, f"{n} replica(s); at least {min_replicas} for zero downtime")
    if kind == "Deployment":
        strategy: Obj = ospec.get("strategy") or {}
        ru: Obj = strategy.get("rollingUpdate") or {}
        if strategy.get("type") != "RollingUpdate":
            bad(R_STRATEGY, f"strategy.type is {strategy.get('type')!r}, expected RollingUpdate")
        if not _int_or_percent_is_zero(ru.get("maxUnavailable", "25%")):
            bad(R_STRATEGY, "rollingUpdate.maxUnavailable must be 0")
        if _int_or_percent_is_zero(ru.get("maxSurge", "25%")):
            bad(R_STRATEGY, "rollingUpdate.maxSurge must be >= 1")
    if kind == "StatefulSet":
        us: Obj = ospec.get("updateStrategy") or {}
        if us.get("type", "RollingUpdate") != "RollingUpdate":
            bad(R_STRATEGY, "updateStrategy.type must be RollingUpdate")
        svc_name = ospec.get("serviceName")
        headless = [
            o
            for o in objs
            if o.get("kind") == "Service"
            and o.get("metadata", {}).get("name") == svc_name
            and (o.get("spec") or {}).get("clusterIP") == "None"
        ]
        if not headless:
            bad(
                R_STATEFUL,
                f"serviceName {svc_name!r} must name a headless Service (clusterIP None)",
            )
        vcts = ospec.get("volumeClaimTemplates") or []
        if not vcts:
            bad(R_STATEFUL, "volumeClaimTemplates missing: data would not survive a pod restart")
        for vct in vcts:
            storage = ((vct.get("spec") or {}).get("resources") or {}).get("requests", {})
            if "storage" not in storage:
                bad(
                    R_STATEFUL,
                    f"volumeClaimTemplate {vct.get('metadata', {}).get('name')} "
                    "has no storage request",
                )
    if kind in BATCH:
        jspec = ospec if kind == "Job" else ((ospec.get("jobTemplate") or {}).get("spec") or {})
        if "backoffLimit" not in jspec or _as_int(jspec["backoffLimit"], 99) > 10:
            bad(R_JOB, "backoffLimit must be set (<= 10)")
        if not jspec.get("activeDeadlineSeconds"):
            bad(R_JOB, "activeDeadlineSeconds must be set (a stuck job must not hang forever)")
    if kind in BATCH or kind == "Pod":
        if spec.get("restartPolicy") not in ("Never", "OnFailure"):
            bad(R_JOB, f"restartPolicy {spec.get('restartPolicy')!r} must be Never or OnFailure")
    return out


def _probe_violations(c: Obj, at: str) -> list[Violation]:
    out: list[Violation] = []

    def bad(msg: str, rule: str = R_PROBE_TIMING) -> None:
        out.append(Violation(rule, at, msg))

    probes = {k: c.get(f"{k}Probe") for k in ("startup", "liveness", "readiness")}
    for name, probe in probes.items():
        if not probe:
            bad(f"{name}Probe is missing", R_PROBES)
            continue
        period = _as_int(probe.get("periodSeconds", 10), 10)
        timeout = _as_int(probe.get("timeoutSeconds", 1), 1)
        if not 1 <= period <= 60:
            bad(f"{name}Probe.periodSeconds {period} should be 1..60")
        if timeout >= period and name != "startup":
            bad(f"{name}Probe.timeoutSeconds {timeout} must be below periodSeconds {period}")
    live, ready, start = probes["liveness"], probes["readiness"], probes["startup"]

    def budget(p: Obj) -> int:
        return _as_int(p.get("failureThreshold", 3), 3) * _as_int(p.get("periodSeconds", 10), 10)

    if live and budget(live) < 10:
        bad(f"livenessProbe tolerates only {budget(live)} s of failures; >= 10 s avoids restarts")
    if live and ready and budget(live) < budget(ready):
        bad(
            "livenessProbe must tolerate failures longer than readinessProbe (readiness acts first)"
        )
    if ready and _as_int(ready.get("periodSeconds", 10), 10) > 10:
        bad("readinessProbe.periodSeconds > 10: a broken pod stays in the Service too long")
    if start and not 20 <= budget(start) <= 600:
        bad(f"startupProbe budget {budget(start)} s should be 20..600 s")
    return out


# ---------------------------------------------------------------------------------- image contracts
def image_contract_violations(
    objs: list[Obj], contracts: dict[str, ImageContract] | None = None
) -> list[Violation]:
    """Ports and probe paths match what the images serve (IMAGE_CONTRACTS).

    For each container whose image has a contract: a containerPort equal to the contract port;
    `--port` in args (if given) and env PORT (if given) equal to it; httpGet probes on that port
    (by number or by the container port's name) with the contract's liveness/readiness/startup
    paths. A liveness probe that hits the readiness path (DB check) is a violation.
    """
    contracts = IMAGE_CONTRACTS if contracts is None else contracts
    out: list[Violation] = []
    found_any = False
    for obj, tpl in workloads(objs):
        for _role, c in containers(tpl.get("spec") or {}, init=False):
            contract = contracts.get(image_repo(str(c.get("image") or "")))
            if contract is None:
                continue
            found_any = True
            at = f"{ident(obj)} container {c.get('name')}"

            def bad(msg: str, at: str = at) -> None:
                out.append(Violation(R_CONTRACT, at, msg))

            ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
            serving = obj.get("kind") in LONG_RUNNING
            if serving and contract.port not in ports.values():
                bad(f"no containerPort {contract.port} (the image listens there)")
            args = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
            for i, a in enumerate(args):
                if a == "--port" and i + 1 < len(args) and args[i + 1] != str(contract.port):
                    bad(f"--port {args[i + 1]} but the contract port is {contract.port}")
                if a.startswith("--port=") and a.split("=", 1)[1] != str(contract.port):
                    bad(f"{a} but the contract port is {contract.port}")
            for env in c.get("env") or []:
                if (
                    env.get("name") == "PORT"
                    and "value" in env
                    and str(env["value"]) != str(contract.port)
                ):
                    bad(f"env PORT={env['value']} but the contract port is {contract.port}")
            if not serving:
                continue
            expected = {
                "liveness": (contract.liveness,),
                "readiness": (contract.readiness,),
                "startup": contract.startup,
            }
            for name, paths in expected.items():
                probe = c.get(f"{name}Probe") or {}
                http = probe.get("httpGet")
                if not http:
                    bad(f"{name}Probe must be an httpGet on {paths[0]}")
                    continue
                port = http.get("port")
                port_num = ports.get(port) if isinstance(port, str) else port
                if port_num != contract.port:
                    bad(f"{name}Probe port {port!r} is not {contract.port}")
                if http.get("path") not in paths:
                    bad(f"{name}Probe path {http.get('path')!r}, expected one of {paths}")
    if contracts and not found_any and any(True for _ in workloads(objs)):
        out.append(Violation(R_CONTRACT, "(all)", "no container uses a contracted image"))
    return out


def check_image_contracts(objs: list[Obj], **kwargs: Any) -> None:
    _raise(image_contract_violations(objs, **kwargs))


# ---------------------------------------------------------------------------------- services
def service_violations(objs: list[Obj]) -> list[Violation]:
    """Every Service with a selector selects the pods of exactly one component, and each of its
    ports' targetPort (number or name) is a containerPort of those pods."""
    out: list[Violation] = []
    pods = list(workloads(objs))
    for svc in objs:
        if svc.get("kind") != "Service":
            continue
        spec: Obj = svc.get("spec") or {}
        sel = spec.get("selector")
        where = ident(svc)
        if spec.get("type") == "ExternalName":
            continue
        if not sel:
            out.append(Violation(R_SERVICE, where, "no selector"))
            continue
        ns = svc.get("metadata", {}).get("namespace")
        matched = [
            (o, t)
            for o, t in pods
            if o.get("kind") in LONG_RUNNING
            and o.get("metadata", {}).get("namespace") == ns
            and all(labels(t).get(k) == v for k, v in sel.items())
        ]
        if not matched:
            out.append(Violation(R_SERVICE, where, f"selector {sel} matches no workload's pods"))
            continue
        comps = {labels(t).get("app.kubernetes.io/component") for _, t in matched}
        if len(matched) > 1 and len(comps) > 1:
            names = [ident(o) for o, _ in matched]
            out.append(
                Violation(R_SERVICE, where, f"selector {sel} matches several components {names}")
            )
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for o, t in matched:
                cports = [
                    p
                    for _, c in containers(t.get("spec") or {}, init=False)
                    for p in c.get("ports") or []
                ]
                ok = any(
                    (
                        p.get("name") == target
                        if isinstance(target, str)
                        else p.get("containerPort") == target
                    )
                    and p.get("protocol", "TCP") == port.get("protocol", "TCP")
                    for p in cports
                )
                if not ok:
                    out.append(
                        Violation(
                            R_SERVICE,
                            where,
                            f"targetPort {target!r} is not a containerPort of {ident(o)}",
                        )
                    )
    return out


def check_services_match_pods(objs: list[Obj]) -> None:
    _raise(service_violations(objs))


# ---------------------------------------------------------------------------------- PDBs
def pdb_violations(
    objs: list[Obj], *, exemptions: Iterable[Exemption] = DEFAULT_EXEMPTIONS
) -> list[Violation]:
    """Each Deployment/StatefulSet has a PodDisruptionBudget selecting its pods that keeps at
    least one pod up yet still lets a node drain (it must allow one disruption)."""
    exemptions = tuple(exemptions)
    out: list[Violation] = []
    pdbs = [o for o in objs if o.get("kind") == "PodDisruptionBudget"]
    for obj, tpl in workloads(objs):
        if obj.get("kind") not in ("Deployment", "StatefulSet") or _exempt(exemptions, R_PDB, obj):
            continue
        mine = [
            p for p in pdbs if selector_matches((p.get("spec") or {}).get("selector"), labels(tpl))
        ]
        if not mine:
            out.append(Violation(R_PDB, ident(obj), "no PodDisruptionBudget selects its pods"))
            continue
        n = _pod_replicas(objs, obj)
        for pdb in mine:
            spec: Obj = pdb.get("spec") or {}
            if "minAvailable" in spec:
                keeps = _pdb_count(spec["minAvailable"], n)
                allowed = n - keeps
            else:
                allowed = _pdb_count(spec.get("maxUnavailable", 1), n)
                keeps = n - allowed
            if allowed < 1:
                out.append(
                    Violation(
                        R_PDB, ident(pdb), f"allows no disruption with {n} replicas (blocks drains)"
                    )
                )
            if keeps < 1:
                out.append(
                    Violation(R_PDB, ident(pdb), f"keeps no pod available with {n} replicas")
                )
    return out


def _pdb_count(value: Any, replicas: int) -> int:
    """An int-or-percent PDB field as a pod count (percentages round up, as the API does)."""
    if isinstance(value, str) and value.endswith("%"):
        return -(-replicas * _as_int(value[:-1], 0) // 100)
    return _as_int(value, 0)


def check_pdbs(objs: list[Obj], **kwargs: Any) -> None:
    _raise(pdb_violations(objs, **kwargs))


# ------------------------------------------------------------------------------ network policies
def network_policy_violations(objs: list[Obj]) -> list[Violation]:
    """Each NetworkPolicy selects real pods, each `from.podSelector` matches real client pods,
    and each allowed port (number or name) is a containerPort of the selected pods. (Whether a
    policy admits every client the app needs is deployment-specific: test it next to the
    manifests.) An ipBlock or namespaceSelector peer is accepted as written."""
    out: list[Violation] = []
    pods = list(workloads(objs))
    for np in objs:
        if np.get("kind") != "NetworkPolicy":
            continue
        spec: Obj = np.get("spec") or {}
        where = ident(np)
        targets = [t for _, t in pods if selector_matches(spec.get("podSelector"), labels(t))]
        if not targets:
            out.append(Violation(R_NETPOL, where, "podSelector matches no workload's pods"))
            continue
        cports = [
            p
            for t in targets
            for _, c in containers(t.get("spec") or {}, init=False)
            for p in c.get("ports") or []
        ]
        for rule in spec.get("ingress") or []:
            for peer in rule.get("from") or []:
                sel = peer.get("podSelector")
                if (
                    sel is not None
                    and "namespaceSelector" not in peer
                    and not any(selector_matches(sel, labels(t)) for _, t in pods)
                ):
                    out.append(
                        Violation(R_NETPOL, where, f"from.podSelector {sel} matches no pods")
                    )
            for port in rule.get("ports") or []:
                want = port.get("port")
                if want is None:
                    continue
                if not any(
                    (
                        p.get("name") == want
                        if isinstance(want, str)
                        else p.get("containerPort") == want
                    )
                    for p in cports
                ):
                    out.append(
                        Violation(
                            R_NETPOL,
                            where,
                            f"port {want!r} is not a containerPort of the selected pods",
                        )
                    )
    return out


def check_network_policies(objs: list[Obj]) -> None:
    _raise(network_policy_violations(objs))


# ---------------------------------------------------------------------------------- labels
def label_violations(objs: list[Obj], required: Iterable[str] = REQUIRED_LABELS) -> list[Violation]:
    """Every object (and every pod template) carries the app.kubernetes.io/* labels, non-empty."""
    required = tuple(required)
    out: list[Violation] = []
    for obj in objs:
        if obj.get("kind") in ("Namespace", "CustomResourceDefinition"):
            continue
        for what, lbl in [("metadata.labels", labels(obj))] + (
            [("pod template labels", labels(pod_template(obj) or {}))]
            if pod_template(obj) and obj.get("kind") != "Pod"
            else []
        ):
            missing = [k for k in required if not str(lbl.get(k) or "").strip()]
            if missing:
                out.append(Violation(R_LABELS, ident(obj), f"{what} missing {missing}"))
        tpl = pod_template(obj)
        if tpl and obj.get("kind") != "Pod":
            for k in (
                "app.kubernetes.io/name",
                "app.kubernetes.io/component",
                "app.kubernetes.io/part-of",
            ):
                if labels(tpl).get(k) != labels(obj).get(k):
                    out.append(
                        Violation(
                            R_LABELS, ident(obj), f"pod template {k} differs from the workload's"
                        )
                    )
    return out


def check_labels(objs: list[Obj], **kwargs: Any) -> None:
    _raise(label_violations(objs, **kwargs))


# ---------------------------------------------------------------------------------- secrets
#: A value counts as a placeholder when it contains one of these markers (or is empty).
PLACEHOLDER_RE = re.compile(
    r"CHANGE[-_]?ME|REPLACE[-_]?ME|PLACEHOLDER|<[^<>]+>|\bexample\b|\bdummy\b|\bunset\b",
    re.IGNORECASE,
)
#: Variable/key names whose values are secrets (ACCESS_TOKEN_EXPIRE_MINUTES is not one).
SECRET_NAME_RE = re.compile(
    r"(SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|_TOKEN)$|^DATABASE_URL$|^TOKEN$",
    re.IGNORECASE,
)
#: Values that look like real credentials wherever they appear.
SECRET_VALUE_RES = (
    re.compile(
        r"[a-z][a-z0-9+.-]*://[^/\s:@]+:(?!\$\(|\{\{|<|CHANGE|REPLACE)[^@/\s]+@", re.I
    ),  # URL with a password
    re.compile(r"\bgsk_[A-Za-z0-9]{20,}"),  # Groq
    re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}"),  # OpenAI
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # JWT
)


def _looks_real(value: str) -> bool:
    return any(r.search(value) for r in SECRET_VALUE_RES)


def _random_looking(value: str) -> bool:
    """A token-like string: >= 16 characters, no spaces, letters and digits, high entropy."""
    v = value.strip()
    if len(v) < 16 or " " in v or not re.search(r"[A-Za-z]", v) or not re.search(r"\d", v):
        return False
    counts = [v.count(ch) / len(v) for ch in set(v)]
    return -sum(p * math.log2(p) for p in counts) >= 3.5


def secret_violations(objs: list[Obj]) -> list[Violation]:
    """No real secret anywhere in the objects.

    Secrets: no value (data decoded, stringData) looks like a credential (SECRET_VALUE_RES);
    secret-named keys (SECRET_NAME_RE) hold only placeholders (PLACEHOLDER_RE) or nothing; other
    keys (a user or database name) may hold plain words but nothing random-looking.
    ConfigMaps: no secret-named key (SECRET_NAME_RE) and no credential-looking value.
    Pod env: secret-named variables come from `valueFrom` only, never a literal `value`; no
    credential-looking literal.
    """
    out: list[Violation] = []
    for obj in objs:
        kind, where = obj.get("kind"), ident(obj)
        if kind == "Secret":
            items: dict[str, str] = {}
            for k, v in (obj.get("data") or {}).items():
                try:
                    items[k] = base64.b64decode(str(v), validate=True).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    out.append(Violation(R_SECRET, where, f"data.{k} is not valid base64 text"))
            items.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
            for k, v in items.items():
                if _looks_real(v):
                    out.append(Violation(R_SECRET, where, f"{k} looks like a real credential"))
                elif not v.strip() or PLACEHOLDER_RE.search(v):
                    continue
                elif SECRET_NAME_RE.search(k):
                    out.append(Violation(R_SECRET, where, f"{k} holds a non-placeholder value"))
                elif _random_looking(v):
                    out.append(Violation(R_SECRET, where, f"{k} holds a random-looking value"))
        elif kind == "ConfigMap":
            for k, v in (obj.get("data") or {}).items():
                if SECRET_NAME_RE.search(k):
                    out.append(
                        Violation(R_SECRET, where, f"secret-like key {k} belongs in a Secret")
                    )
                if _looks_real(str(v)):
                    out.append(Violation(R_SECRET, where, f"{k} holds a credential-looking value"))
        tpl = pod_template(obj)
        if tpl is None:
            continue
        for role, c in containers(tpl.get("spec") or {}):
            for env in c.get("env") or []:
                name, at = str(env.get("name")), f"{where} {role} {c.get('name')}"
                if "value" in env and SECRET_NAME_RE.search(name) and str(env["value"]).strip():
                    out.append(
                        Violation(
                            R_SECRET, at, f"env {name} is a literal; use valueFrom.secretKeyRef"
                        )
                    )
                if "value" in env and _looks_real(str(env["value"])):
                    out.append(
                        Violation(R_SECRET, at, f"env {name} holds a credential-looking literal")
                    )
    return out


def check_no_real_secrets(objs: list[Obj]) -> None:
    _raise(secret_violations(objs))


# ---------------------------------------------------------------------------------- schemas
_SCHEMA_CACHE_INSTALLED = False


def _kubernetes_validate() -> Any:
    """kubernetes_validate with its schema-file reads memoised.

    `kubernetes_validate.validate` re-reads and re-parses the JSON schema files (the shared
    definitions file is several MB) for every object; the files never change, so caching the
    reads makes validating hundreds of objects cheap. The validation itself is the package's.
    """
    global _SCHEMA_CACHE_INSTALLED
    import kubernetes_validate
    import kubernetes_validate.utils as kv_utils

    if not _SCHEMA_CACHE_INSTALLED:
        kv_utils.schema_contents = functools.lru_cache(maxsize=256)(kv_utils.schema_contents)
        _SCHEMA_CACHE_INSTALLED = True
    return kubernetes_validate


def latest_kubernetes_version() -> str:
    """Newest Kubernetes version whose schemas kubernetes-validate ships (offline)."""
    import kubernetes_validate

    return str(kubernetes_validate.latest_version())


def schema_violations(
    objs: list[Obj], k8s_version: str | None = None, *, strict: bool = True
) -> list[Violation]:
    """Validate each object against the Kubernetes OpenAPI schema (kubernetes-validate, offline).

    `strict` rejects unknown fields (same as `kubernetes-validate --strict`). A kind without a
    schema (a CRD) is a violation too: the project uses none.
    """
    kubernetes_validate = _kubernetes_validate()
    version = k8s_version or latest_kubernetes_version()
    out: list[Violation] = []
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, version, strict)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.path)
            out.append(
                Violation(
                    R_SCHEMA, ident(obj), f"k8s {version} at {path or '(root)'}: {exc.message}"
                )
            )
        except kubernetes_validate.SchemaNotFoundError as exc:
            out.append(Violation(R_SCHEMA, ident(obj), f"no schema in k8s {version}: {exc}"))
    return out


def validate_schemas(
    objs: list[Obj], k8s_version: str | None = None, *, strict: bool = True
) -> None:
    _raise(schema_violations(objs, k8s_version, strict=strict))


# ---------------------------------------------------------------------------------- everything
def all_violations(
    objs: list[Obj],
    k8s_version: str | None = None,
    *,
    exemptions: Iterable[Exemption] = DEFAULT_EXEMPTIONS,
) -> list[Violation]:
    exemptions = tuple(exemptions)
    return (
        schema_violations(objs, k8s_version)
        + workload_violations(objs, exemptions=exemptions)
        + image_contract_violations(objs)
        + service_violations(objs)
        + pdb_violations(objs, exemptions=exemptions)
        + label_violations(objs)
        + network_policy_violations(objs)
        + secret_violations(objs)
    )


def check_all(objs: list[Obj], k8s_version: str | None = None, **kwargs: Any) -> None:
    """Every rule of this module; raises PolicyError listing all violations."""
    _raise(all_violations(objs, k8s_version, **kwargs))
