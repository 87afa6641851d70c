"""Prometheus metrics, labelled by route template (never the raw path, which would explode)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route template and status code",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
HTTP_IN_FLIGHT = Gauge("http_requests_in_flight", "Requests being served", registry=REGISTRY)
# The middleware counts in a plain int (one event loop per process: no lock needed, unlike the
# gauge's own inc/dec); the gauge reads it at scrape time.
in_flight = [0]
HTTP_IN_FLIGHT.set_function(lambda: in_flight[0])
CHAT_TOOL_CALLS = Counter(
    "chat_tool_calls_total", "Tool calls made by the chat agent", ["tool", "ok"], registry=REGISTRY
)
LLM_REQUESTS = Counter(
    "llm_requests_total",
    "Requests to the LLM provider by outcome",
    ["provider", "outcome"],
    registry=REGISTRY,
)
