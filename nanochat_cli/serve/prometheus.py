"""ServerMetrics: the Prometheus series `GET /metrics` exposes, in a registry owned by one app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Buckets span a loaded CPU server: first tokens in ms..s, whole requests up to minutes.
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class ServerMetrics:
    """Counters, histograms and gauges of one server; a private registry so several apps can coexist (tests)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("nanochat_requests", "HTTP requests answered", ["endpoint", "status"], registry=r)
        self.prompt_tokens = Counter("nanochat_prompt_tokens", "Prompt tokens received", registry=r)
        self.generated_tokens = Counter("nanochat_generated_tokens", "Tokens generated", registry=r)
        self.reused_prompt_tokens = Counter("nanochat_prompt_tokens_reused",
                                            "Prompt tokens served from a slot's cached prefix", registry=r)
        self.ttft = Histogram("nanochat_time_to_first_token_seconds", "Request arrival to first generated token",
                              buckets=TTFT_BUCKETS, registry=r)
        self.latency = Histogram("nanochat_request_latency_seconds", "Request arrival to last token",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.slots_busy = Gauge("nanochat_slots_busy", "Slots holding a request", registry=r)
        self.slots_total = Gauge("nanochat_slots", "Slots (requests decoded together)", registry=r)
        self.queue_depth = Gauge("nanochat_queue_depth", "Requests waiting for a slot", registry=r)
        self.decode_batch = Histogram("nanochat_decode_batch_size", "Slots in each batched decode step",
                                      buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64), registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
