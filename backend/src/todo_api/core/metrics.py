"""Prometheus metrics, labelled by route template (never the raw path, which would explode)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

REGISTRY = CollectorRegistry(auto_describe=True)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BOUNDS = [*(str(float(b)) for b in LATENCY_BUCKETS), "+Inf"]  # the `le` labels


class _Route:
    """One (method, route template)'s figures: requests by status, latency histogram."""

    __slots__ = ("buckets", "by_status", "seconds")

    def __init__(self) -> None:
        self.by_status: dict[int, int] = {}
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # per bucket (not cumulative); +Inf last
        self.seconds = 0.0


class RequestMetrics:
    """`http_requests_total` (by method, route template, status) and
    `http_request_duration_seconds` (by method, route template), recorded in plain ints.

    Every request records here, so it is kept cheap: a dict lookup and three additions, where
    prometheus_client's Counter and Histogram take a lock per value (the largest part of the
    middleware's cost on /health, bench/findings.md). No lock is needed: each worker process
    records and serves /metrics from one event loop thread. The collector builds the usual
    families when Prometheus scrapes.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], _Route] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        figures = self._routes.get((method, route))
        if figures is None:
            figures = self._routes[(method, route)] = _Route()
        figures.by_status[status] = figures.by_status.get(status, 0) + 1
        figures.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        figures.seconds += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "http_requests",
            "HTTP requests by method, route template and status code",
            labels=["method", "route", "status"],
        )
        latency = HistogramMetricFamily(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            labels=["method", "route"],
        )
        for (method, route), figures in list(self._routes.items()):
            for status, count in sorted(figures.by_status.items()):
                requests.add_metric([method, route, str(status)], count)
            cumulative = itertools.accumulate(figures.buckets)
            buckets = list(zip(_BOUNDS, cumulative, strict=True))
            latency.add_metric([method, route], buckets, figures.seconds)
        yield requests
        yield latency


HTTP_METRICS = RequestMetrics()
REGISTRY.register(HTTP_METRICS)
HTTP_IN_FLIGHT = Gauge("http_requests_in_flight", "Requests being served", registry=REGISTRY)
# The middleware counts in a plain int, like RequestMetrics; the gauge reads it at scrape time.
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
