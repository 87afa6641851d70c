"""core/metrics.RequestMetrics: the request counter and latency histogram Prometheus scrapes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from todo_api.core.metrics import RequestMetrics


def _samples(metrics: RequestMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(metrics)
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_requests_are_counted_by_status_and_timed_in_cumulative_buckets() -> None:
    metrics = RequestMetrics()
    for seconds in (0.001, 0.005, 0.02, 30.0):  # 0.005 is "le 0.005"; 30 s only in +Inf
        metrics.record("GET", "/api/tasks", 200, seconds)
    metrics.record("GET", "/api/tasks", 401, 0.002)
    metrics.record("POST", "/api/chat", 201, 0.3)
    samples = _samples(metrics)

    def labels(**kv: str) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(kv.items()))

    tasks = {"method": "GET", "route": "/api/tasks"}
    assert samples[("http_requests_total", labels(**tasks, status="200"))] == 4
    assert samples[("http_requests_total", labels(**tasks, status="401"))] == 1
    assert (
        samples[("http_requests_total", labels(method="POST", route="/api/chat", status="201"))]
        == 1
    )
    bucket = "http_request_duration_seconds_bucket"
    assert samples[(bucket, labels(**tasks, le="0.005"))] == 3
    assert samples[(bucket, labels(**tasks, le="0.025"))] == 4
    assert samples[(bucket, labels(**tasks, le="10.0"))] == 4
    assert samples[(bucket, labels(**tasks, le="+Inf"))] == 5
    assert samples[("http_request_duration_seconds_count", labels(**tasks))] == 5
    total = samples[("http_request_duration_seconds_sum", labels(**tasks))]
    assert abs(total - 30.028) < 1e-9
