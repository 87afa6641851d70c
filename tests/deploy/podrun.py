"""Run a rendered pod's container on Docker with the same constraints the kubelet applies.

No cluster exists here, but Docker does: this turns one container of a rendered workload into a
`docker run` with the pod's uid/gid/fsGroup, read-only root filesystem, dropped capabilities,
no-new-privileges, memory/CPU limits, emptyDir volumes (tmpfs, mode 0777 as the kubelet creates
them), envFrom/env (ConfigMaps and Secrets resolved from given objects), command/args, and
Service names as network aliases. Probes run as the kubelet would run them (httpGet on the
published port, exec inside the container) within the probe's own failure budget.

What Docker cannot reproduce is said where it matters: the preStop hook (`sleep`) is not
run (only SIGTERM + the grace period are), and a PVC is a host directory (mode 0777, like
Minikube's hostPath provisioner).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import policy

Obj = policy.Obj


def docker(
    *args: str, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args[:3])} ... failed: {proc.stderr.strip()[-2000:]}"
        )
    return proc


def _config_values(objs: list[Obj], kind: str, name: str) -> dict[str, str]:
    for o in objs:
        if o.get("kind") == kind and o["metadata"]["name"] == name:
            if kind == "Secret":
                values = {k: base64.b64decode(v).decode() for k, v in (o.get("data") or {}).items()}
                values.update(o.get("stringData") or {})
                return values
            return dict(o.get("data") or {})
    raise AssertionError(f"{kind}/{name} referenced by a pod is not among the objects")


def container_env(objs: list[Obj], c: Obj) -> dict[str, str]:
    """The environment the kubelet would give the container (envFrom in order, then env)."""
    env: dict[str, str] = {}
    for ref in c.get("envFrom") or []:
        if "configMapRef" in ref:
            env.update(_config_values(objs, "ConfigMap", ref["configMapRef"]["name"]))
        else:
            env.update(_config_values(objs, "Secret", ref["secretRef"]["name"]))
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
        else:
            src = e["valueFrom"]
            if "secretKeyRef" in src:
                ref = src["secretKeyRef"]
                env[e["name"]] = _config_values(objs, "Secret", ref["name"])[ref["key"]]
            elif "configMapKeyRef" in src:
                ref = src["configMapKeyRef"]
                env[e["name"]] = _config_values(objs, "ConfigMap", ref["name"])[ref["key"]]
            else:
                raise AssertionError(f"unsupported valueFrom {src}")
    return env


def service_aliases(objs: list[Obj], pod_labels: dict[str, str]) -> list[str]:
    """Names of the Services whose selector matches these pod labels (DNS names in-cluster)."""
    return [
        o["metadata"]["name"]
        for o in objs
        if o.get("kind") == "Service"
        and (o.get("spec") or {}).get("selector")
        and all(pod_labels.get(k) == v for k, v in o["spec"]["selector"].items())
    ]


@dataclass
class PodContainer:
    """One container of a rendered pod, started on Docker."""

    workload: Obj
    name: str
    network: str
    volumes_dir: Path
    objs: list[Obj]
    container_id: str = ""
    ports: dict[int, int] = field(default_factory=dict)  # containerPort -> host port

    @property
    def template(self) -> Obj:
        tpl = policy.pod_template(self.workload)
        assert tpl is not None
        return tpl

    @property
    def spec(self) -> Obj:
        return self.template["spec"]  # type: ignore[no-any-return]

    @property
    def container(self) -> Obj:
        for _, c in policy.containers(self.spec):
            if c["name"] == self.name:
                return c
        raise AssertionError(f"no container {self.name}")

    def run_args(self) -> list[str]:
        c, spec = self.container, self.spec
        psc, csc = spec.get("securityContext") or {}, c.get("securityContext") or {}
        uid = csc.get("runAsUser", psc.get("runAsUser"))
        gid = csc.get("runAsGroup", psc.get("runAsGroup"))
        assert uid not in (None, 0), "runAsUser must be a non-root uid"
        args = ["--user", f"{uid}:{gid}"]
        if psc.get("fsGroup") is not None:
            args += ["--group-add", str(psc["fsGroup"])]
        if csc.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        for cap in (csc.get("capabilities") or {}).get("drop") or []:
            args += ["--cap-drop", cap]
        if csc.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        limits = (c.get("resources") or {}).get("limits") or {}
        if "memory" in limits:
            args += ["--memory", str(int(policy.quantity(limits["memory"], "memory")))]
        if "cpu" in limits:
            args += ["--cpus", str(policy.quantity(limits["cpu"], "cpu"))]
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        claims = {
            t["metadata"]["name"]
            for t in (self.workload.get("spec") or {}).get("volumeClaimTemplates") or []
        }
        for m in c.get("volumeMounts") or []:
            vol = volumes.get(m["name"])
            if vol is not None and "emptyDir" in vol:
                size = (vol["emptyDir"] or {}).get("sizeLimit")
                opts = f"type=tmpfs,dst={m['mountPath']},tmpfs-mode=0777"
                if size:
                    opts += f",tmpfs-size={int(policy.quantity(size, 'memory'))}"
                args += ["--mount", opts]
            elif m["name"] in claims:
                host = self.volumes_dir / f"{self.workload['metadata']['name']}-{m['name']}"
                host.mkdir(parents=True, exist_ok=True)
                host.chmod(0o777)
                args += ["--mount", f"type=bind,src={host},dst={m['mountPath']}"]
            else:
                raise AssertionError(f"volume {m['name']} has no Docker equivalent here")
        for key, value in container_env(self.objs, c).items():
            args += ["--env", f"{key}={value}"]
        for p in c.get("ports") or []:
            args += ["--publish", f"127.0.0.1::{p['containerPort']}"]
        args += ["--network", self.network]
        for alias in service_aliases(self.objs, self.template["metadata"].get("labels") or {}):
            args += ["--network-alias", alias]
        command = [str(x) for x in c.get("command") or []]
        if command:
            args += ["--entrypoint", command[0]]
        args.append(c["image"])
        args += command[1:] + [str(x) for x in c.get("args") or []]
        return args

    def start(self) -> PodContainer:
        name = f"podrun-{self.workload['metadata']['name']}-{self.name}-{uuid.uuid4().hex[:6]}"
        self.container_id = docker(
            "run", "--detach", "--name", name, *self.run_args()
        ).stdout.strip()
        for p in self.container.get("ports") or []:
            out = docker("port", self.container_id, f"{p['containerPort']}/tcp").stdout
            self.ports[p["containerPort"]] = int(out.strip().splitlines()[0].rsplit(":", 1)[1])
        return self

    # -- state --------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            docker("inspect", "-f", "{{json .State}}", self.container_id).stdout
        )
        return data

    def logs(self) -> str:
        proc = docker("logs", "--tail", "60", self.container_id, check=False)
        return proc.stdout + proc.stderr

    def wait_exit(self, timeout: float) -> int:
        proc = docker("wait", self.container_id, timeout=timeout)
        return int(proc.stdout.strip())

    def stop(self) -> tuple[int, float]:
        """SIGTERM (the image's STOPSIGNAL), SIGKILL after the grace period, like the kubelet."""
        grace = int(self.spec.get("terminationGracePeriodSeconds", 30))
        started = time.monotonic()
        docker("stop", "--time", str(grace), self.container_id, timeout=grace + 60)
        return int(self.state()["ExitCode"]), time.monotonic() - started

    def remove(self) -> None:
        if self.container_id:
            docker("rm", "--force", "--volumes", self.container_id, check=False)

    # -- probes -------------------------------------------------------------------------------
    def probe_once(self, probe: Obj) -> tuple[bool, str]:
        timeout = int(probe.get("timeoutSeconds", 1))
        if "httpGet" in probe:
            http = probe["httpGet"]
            port = http["port"]
            if isinstance(port, str):
                port = next(
                    p["containerPort"] for p in self.container["ports"] if p.get("name") == port
                )
            url = f"http://127.0.0.1:{self.ports[port]}{http.get('path', '/')}"
            try:
                with urllib.request.urlopen(url, timeout=timeout) as r:
                    return 200 <= r.status < 400, f"{r.status}"
            except urllib.error.HTTPError as exc:
                return False, f"{exc.code}"
            except OSError as exc:
                return False, f"{type(exc).__name__}: {exc}"
        if "exec" in probe:
            proc = docker(
                "exec",
                self.container_id,
                *probe["exec"]["command"],
                check=False,
                timeout=timeout + 30,
            )
            return proc.returncode == 0, (proc.stdout + proc.stderr).strip()[-200:]
        raise AssertionError(f"unsupported probe {probe}")

    def wait_probe(self, kind: str, budget: float | None = None) -> float:
        """Poll the probe until it succeeds, within its failureThreshold x periodSeconds budget
        (plus initialDelaySeconds). Returns the seconds it took."""
        probe = self.container[f"{kind}Probe"]
        if budget is None:
            budget = int(probe.get("initialDelaySeconds", 0)) + int(
                probe.get("failureThreshold", 3)
            ) * int(probe.get("periodSeconds", 10))
        started = time.monotonic()
        last = ""
        while time.monotonic() - started < budget:
            if not self.state()["Running"]:
                raise AssertionError(
                    f"{self.name} exited ({self.state()['ExitCode']}):\n{self.logs()}"
                )
            ok, last = self.probe_once(probe)
            if ok:
                return time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(
            f"{self.name} {kind}Probe failed for {budget}s (last: {last}):\n{self.logs()}"
        )
