"""Prometheus metrics, one registry per app (no process-global collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# HTTP servers accept any token as a method; a label per token would let anyone grow /metrics
# (and this process's memory) without bound, so every other method shares one label.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER_METHOD


class Metrics:
    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # `route` is a route template or a fixed word, never a raw path.
        method = method_label(method)
        # Children are looked up once per (route, method, status): labels() is not free.
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_upstream(self, method: str, outcome: int | str, attempt: int, retry: bool) -> None:
        label = f"{outcome // 100}xx" if isinstance(outcome, int) else outcome
        self.upstream_calls.labels(method, label).inc()
        if retry:
            self.upstream_retries.labels(method).inc()
        if not isinstance(outcome, int) or outcome >= 400:
            self.upstream_errors.labels(label).inc()

    def __init__(self) -> None:
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "bridge_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bridge_http_request_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.sessions_minted = Counter(
            "bridge_connect_sessions_minted", "Connect sessions minted", registry=self.registry
        )
        self.sources_created = Counter(
            "bridge_sources_created", "Stitch sources created for end users", registry=self.registry
        )
        self.upstream_calls = Counter(
            "bridge_upstream_calls",
            "Attempts at calling Stitch, by method and outcome (status class or transport error)",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.upstream_retries = Counter(
            "bridge_upstream_retries",
            "Attempts at calling Stitch that will be retried",
            ["method"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "bridge_upstream_errors",
            "Upstream calls that ended in an error, by error class",
            ["error"],
            registry=self.registry,
        )
        self.upstream_queue = Gauge(
            "bridge_upstream_queue_depth",
            "Calls in this process waiting for a slot of the upstream budget",
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "bridge_outbox_backlog", "Events not yet delivered", registry=self.registry
        )
        self.webhook_deliveries = Counter(
            "bridge_webhook_deliveries",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=self.registry,
        )
