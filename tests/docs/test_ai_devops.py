"""deploy/kagent and deploy/kubectl-ai: the manifests and configs the AI-DevOps guide applies.

kagent's resources are custom (kagent.dev/v1alpha2, kagent 0.x), so no Kubernetes OpenAPI schema
covers them: they are rendered with `kubectl kustomize`, parsed, and checked for the fields and
enums kagent's CRDs require, and against this repository (the backend Service, port and /mcp
route, the tools the app serves, the backend's Groq defaults). Core objects (the Secret the token
script writes) are validated with kubernetes-validate --strict. The token script runs for real
against a backend on 127.0.0.1 and its token must open /mcp.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from docscheck import REPO

from testsupport.tools import free_port, require_tool

KAGENT = REPO / "deploy" / "kagent"
KUBECTL_AI = REPO / "deploy" / "kubectl-ai"
TOKEN_SCRIPT = KAGENT / "mcp-token-secret.sh"
API = "kagent.dev/v1alpha2"
# Enums of kagent's v1alpha2 CRDs (RemoteMCPServer.spec.protocol, ModelConfig.spec.provider,
# Agent.spec.type, tools[].type, ValueSource.type).
PROTOCOLS = {"SSE", "STREAMABLE_HTTP"}
PROVIDERS = {
    "Anthropic",
    "OpenAI",
    "AzureOpenAI",
    "Ollama",
    "Gemini",
    "GeminiVertexAI",
    "AnthropicVertexAI",
    "Bedrock",
    "SAPAICore",
    "Foundry",
}
PROVIDER_BLOCK = {"OpenAI": "openAI", "Ollama": "ollama", "Anthropic": "anthropic"}
#: kagent's built-in tool server (installed with kagent) and the read-only tools the agent uses.
BUILTIN_SERVER = "kagent-tool-server"
READ_ONLY_K8S_TOOLS = {
    "k8s_get_resources",
    "k8s_describe_resource",
    "k8s_get_events",
    "k8s_get_pod_logs",
    "k8s_get_resource_yaml",
}
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.fixture(scope="module")
def kagent_objs() -> list[dict[str, Any]]:
    kubectl = require_tool("kubectl")
    out = subprocess.run(
        [kubectl, "kustomize", str(KAGENT)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def one(objs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    hits = [o for o in objs if o["kind"] == kind]
    assert len(hits) == 1, f"expected one {kind}, found {len(hits)}"
    return hits[0]


def test_every_kagent_file_is_in_the_kustomization(kagent_objs: list[dict[str, Any]]) -> None:
    listed = yaml.safe_load((KAGENT / "kustomization.yaml").read_text())["resources"]
    on_disk = sorted(p.name for p in KAGENT.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk
    assert sorted(o["kind"] for o in kagent_objs) == ["Agent", "ModelConfig", "RemoteMCPServer"]
    for obj in kagent_objs:
        assert obj["apiVersion"] == API
        assert DNS1123.match(obj["metadata"]["name"]), obj["metadata"]["name"]
        assert obj["metadata"]["namespace"] == "kagent"
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "todo-chatbot"
        assert "status" not in obj


def backend_service() -> tuple[str, int, str]:
    """(Service name, port, namespace) of the backend as scripts/minikube.sh deploys it."""
    rendered = (REPO / "deploy/k8s/base/backend/generated.yaml").read_text()
    service = next(o for o in yaml.safe_load_all(rendered) if o and o["kind"] == "Service")
    script = (REPO / "scripts/minikube.sh").read_text()
    m = re.search(r"^NAMESPACE=\$\{NAMESPACE:-([\w-]+)\}", script, re.M)
    assert m, "scripts/minikube.sh no longer sets a default NAMESPACE"
    return service["metadata"]["name"], service["spec"]["ports"][0]["port"], m.group(1)


def test_remote_mcp_server_points_at_the_backends_mcp(kagent_objs: list[dict[str, Any]]) -> None:
    spec = one(kagent_objs, "RemoteMCPServer")["spec"]
    assert set(spec) <= {
        "description",
        "url",
        "protocol",
        "headersFrom",
        "timeout",
        "sseReadTimeout",
        "terminateOnClose",
        "allowedNamespaces",
        "tls",
    }
    assert spec["description"].strip() and spec["url"], "description and url are required"
    assert spec["protocol"] in PROTOCOLS and spec["protocol"] == "STREAMABLE_HTTP"
    assert re.fullmatch(r"\d+(ms|s|m)", spec["timeout"])
    name, port, namespace = backend_service()
    url = urlsplit(spec["url"])
    assert url.scheme == "http" and "tls" not in spec  # kagent rejects tls with an http:// URL
    assert url.hostname == f"{name}.{namespace}.svc.cluster.local"
    assert url.port == port
    assert url.path == "/mcp"


def test_the_backend_serves_mcp_at_that_path(
    backend: str, kagent_objs: list[dict[str, Any]]
) -> None:
    path = urlsplit(one(kagent_objs, "RemoteMCPServer")["spec"]["url"]).path
    answer = httpx.post(f"{backend}{path}", content="{}", timeout=10)
    assert answer.status_code == 401, answer.text  # the MCP endpoint, asking for its Bearer token
    assert answer.headers["www-authenticate"] == "Bearer"
    assert httpx.post(f"{backend}{path}x", content="{}", timeout=10).status_code == 404


def test_bearer_header_comes_from_the_token_scripts_secret(
    kagent_objs: list[dict[str, Any]],
) -> None:
    headers = one(kagent_objs, "RemoteMCPServer")["spec"]["headersFrom"]
    assert len(headers) == 1
    header = headers[0]
    assert header["name"] == "Authorization"
    assert "value" not in header, "the token must come from a Secret, never inline"
    source = header["valueFrom"]
    assert set(source) == {"type", "name", "key"} and source["type"] == "Secret"
    script = TOKEN_SCRIPT.read_text()
    assert f"NAME={source['name']}\n" in script, "mcp-token-secret.sh writes another Secret"
    assert "Authorization=Bearer " in script and source["key"] == "Authorization"


def llm_defaults() -> tuple[dict[str, str], dict[str, str]]:
    """DEFAULT_BASE_URLS and DEFAULT_MODELS of the backend's LLM provider, read from the source
    (importing it would import the openai SDK: seconds, for two literals)."""
    tree = ast.parse((REPO / "backend/src/todo_api/agent/llm.py").read_text())
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in {"DEFAULT_BASE_URLS", "DEFAULT_MODELS"}:
                found[node.targets[0].id] = ast.literal_eval(node.value)
    return found["DEFAULT_BASE_URLS"], found["DEFAULT_MODELS"]


def test_model_config_matches_the_backends_groq_defaults(
    kagent_objs: list[dict[str, Any]],
) -> None:
    DEFAULT_BASE_URLS, DEFAULT_MODELS = llm_defaults()

    spec = one(kagent_objs, "ModelConfig")["spec"]
    assert spec["model"], "model is required"
    assert spec["provider"] in PROVIDERS
    for provider, block in PROVIDER_BLOCK.items():
        assert block not in spec or spec["provider"] == provider, f"{block} needs {provider}"
    assert bool(spec.get("apiKeySecret")) == bool(spec.get("apiKeySecretKey"))
    assert spec["provider"] == "OpenAI"
    assert spec["openAI"]["baseUrl"] == DEFAULT_BASE_URLS["groq"]
    assert spec["model"] == DEFAULT_MODELS["groq"]
    assert spec["apiKeySecretKey"] == "GROQ_API_KEY"
    guide = (REPO / "docs" / "AI-DEVOPS.md").read_text()
    create = (
        f"create secret generic {spec['apiKeySecret']} --from-literal={spec['apiKeySecretKey']}="
    )
    assert create in guide, "docs/AI-DEVOPS.md must show how to create the model's Secret"


def test_agent_uses_only_tools_that_exist(kagent_objs: list[dict[str, Any]]) -> None:
    from todo_api.agent.tools import TOOL_NAMES

    agent = one(kagent_objs, "Agent")
    spec = agent["spec"]
    assert spec["type"] == "Declarative" and "declarative" in spec and "byo" not in spec
    declarative = spec["declarative"]
    assert declarative["modelConfig"] == one(kagent_objs, "ModelConfig")["metadata"]["name"]
    assert declarative["systemMessage"].strip()
    assert "systemMessageFrom" not in declarative
    tools = declarative["tools"]
    assert 0 < len(tools) <= 20
    servers = {}
    for tool in tools:
        assert tool["type"] == "McpServer" and "agent" not in tool
        ref = tool["mcpServer"]
        assert ref["apiGroup"] == "kagent.dev" and ref["kind"] == "RemoteMCPServer"
        assert ref["toolNames"], "name the tools explicitly"
        servers[ref["name"]] = set(ref["toolNames"])
    ours = one(kagent_objs, "RemoteMCPServer")["metadata"]["name"]
    assert set(servers) == {ours, BUILTIN_SERVER}
    assert servers[ours] <= TOOL_NAMES, f"unknown app tools: {servers[ours] - TOOL_NAMES}"
    assert {"add_task", "list_tasks", "complete_task"} <= servers[ours]
    assert servers[BUILTIN_SERVER] <= READ_ONLY_K8S_TOOLS, "diagnosis must stay read-only"
    for word in ("todo-chatbot", "backend", "frontend", "/ready", "configuration error"):
        assert word in declarative["systemMessage"]


# ------------------------------------------------------------------------- kubectl-ai
KUBECTL_AI_KEYS = {
    "llm-provider",
    "model",
    "skip-verify-ssl",
    "custom-tools-config",
    "skip-permissions",
    "enable-tool-use-shim",
    "mcp-server",
    "mcp-client",
    "external-tools",
    "max-iterations",
    "quiet",
    "remove-workdir",
    "kubeconfig",
    "user-interface",
    "ui-listen-address",
    "prompt-template-file-path",
    "extra-prompt-paths",
    "trace-path",
}


def test_kubectl_ai_config() -> None:
    DEFAULT_BASE_URLS, DEFAULT_MODELS = llm_defaults()

    config = yaml.safe_load((KUBECTL_AI / "config.yaml").read_text())
    assert set(config) <= KUBECTL_AI_KEYS, f"unknown keys: {set(config) - KUBECTL_AI_KEYS}"
    assert config["llm-provider"] == "openai" and config["model"] == DEFAULT_MODELS["groq"]
    assert config["skip-permissions"] is False, "kubectl-ai must ask before changing the cluster"
    assert [Path(p).name for p in config["custom-tools-config"]] == ["tools.yaml"]
    header = (KUBECTL_AI / "config.yaml").read_text()
    assert f"OPENAI_ENDPOINT={DEFAULT_BASE_URLS['groq']}" in header


def test_kubectl_ai_tools_and_mcp() -> None:
    tools = yaml.safe_load((KUBECTL_AI / "tools.yaml").read_text())
    assert isinstance(tools, list) and tools
    for tool in tools:
        assert set(tool) == {"name", "description", "command", "command_desc"}
        assert shutil.which(tool["command"]) or tool["command"] == "helm"
    mcp = yaml.safe_load((KUBECTL_AI / "mcp.yaml").read_text())
    (server,) = mcp["servers"]
    assert urlsplit(server["url"]).path == "/mcp"
    assert server["auth"] == {"type": "bearer", "token": "${TODO_MCP_TOKEN}"}


# ------------------------------------------------------------------------- the token script
def run_script(*args: str, password: str) -> subprocess.CompletedProcess[str]:
    require_tool("curl")
    require_tool("kubectl")
    env = {**os.environ, "TODO_MCP_PASSWORD": password}
    return subprocess.run(
        [str(TOKEN_SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_token_script_usage_and_refusals(tmp_path: Path) -> None:
    help_out = run_script("--help", password="")
    assert help_out.returncode == 0 and "--api-url" in help_out.stdout
    no_password = run_script("--output", str(tmp_path / "x.yaml"), password="short")
    assert no_password.returncode == 1 and "TODO_MCP_PASSWORD" in no_password.stderr
    unknown = run_script("--bogus", password="long-enough-password")
    assert unknown.returncode == 1 and "unknown argument: --bogus" in unknown.stderr
    unreachable = run_script(
        "--api-url",
        f"http://127.0.0.1:{free_port()}",
        "--output",
        str(tmp_path / "y.yaml"),
        password="long-enough-password",
    )
    assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "y.yaml").exists()


def test_token_script_secret_opens_mcp(backend: str, tmp_path: Path) -> None:
    import kubernetes_validate

    from todo_api.agent.tools import TOOL_NAMES

    password = "kagent-docs-test-password"
    first, again = tmp_path / "first.yaml", tmp_path / "again.yaml"
    signup = run_script("--api-url", backend, "--output", str(first), password=password)
    assert signup.returncode == 0, signup.stderr
    assert "signing up" in signup.stdout and "logged in as kagent@example.com" in signup.stdout
    login = run_script("--api-url", backend + "/", "--output", str(again), password=password)
    assert login.returncode == 0, login.stderr
    assert "signing up" not in login.stdout
    assert (first.stat().st_mode & 0o777) == 0o600

    secret = yaml.safe_load(first.read_text())
    kubernetes_validate.validate(secret, str(kubernetes_validate.latest_version()), True)
    assert secret["kind"] == "Secret" and secret["metadata"] == {
        "name": "todo-mcp-auth",
        "namespace": "kagent",
    }
    header = base64.b64decode(secret["data"]["Authorization"]).decode()
    scheme, token = header.split(" ")
    assert scheme == "Bearer" and token.count(".") == 2
    for output in (signup.stdout + signup.stderr, login.stdout + login.stderr):
        assert token not in output and password not in output

    answer = httpx.post(
        f"{backend}/mcp",
        headers={
            "Authorization": header,
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        },
        content=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    tools = {t["name"] for t in answer.json()["result"]["tools"]}
    assert tools == set(TOOL_NAMES)
    refused = httpx.post(
        f"{backend}/mcp",
        headers={"Authorization": "Bearer not-a-token", "Content-Type": "application/json"},
        content="{}",
        timeout=10,
    )
    assert refused.status_code == 401

    wrong = run_script(
        "--api-url", backend, "--output", str(tmp_path / "wrong.yaml"), password="another-password"
    )
    assert wrong.returncode == 1 and "409" in wrong.stderr
    assert not (tmp_path / "wrong.yaml").exists()


def test_token_script_is_shellcheck_clean() -> None:
    shellcheck = require_tool("shellcheck", str(REPO / "backend" / ".venv" / "bin" / "shellcheck"))
    proc = subprocess.run(
        [shellcheck, "--severity=style", str(TOKEN_SCRIPT)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout
