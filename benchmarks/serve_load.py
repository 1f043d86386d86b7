"""Load test of `nanochat serve` on loopback: aggregate tokens/s with 1 vs 8 clients, TTFT, and 16 streaming clients.

Run: `python benchmarks/serve_load.py [--model model.gguf] [--repeats 3] [--max-tokens 64]`. Without --model it
builds a random-weight `small` model (tokenizer trained on Python's own sources) in a temp dir. It starts
`nanochat serve` as a subprocess on a free loopback port, checks every streamed response for exact SSE
framing and completeness, polls /health throughout, prints medians, and stops the server. Bounded: every
phase has a request count and a wall-clock limit (--time-limit). Record results in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import httpx

# ---- the model ----

def build_small_model(out_dir: Path, config: str) -> Path:
    """A random-weight model of a named size with a real byte-level BPE, written as a nanochat GGUF."""
    import torch

    from nanochat_cli.data.tokenizer import train_tokenizer
    from nanochat_cli.formats import model_weights, write_nanochat_gguf
    from nanochat_cli.model import TernaryLM, named_config

    cfg = named_config(config)
    lib = Path(sysconfig.get_paths()["stdlib"])
    texts = [p.read_text(errors="replace") for p in sorted(lib.glob("*.py"))[:200]]
    tok = train_tokenizer(texts, cfg.vocab_size)
    cfg = cfg.replace(vocab_size=tok.get_vocab_size())  # equal to the named size unless the corpus ran short
    torch.manual_seed(0)
    model = TernaryLM(cfg).eval()
    path = out_dir / f"{config}-random.gguf"
    write_nanochat_gguf(model_weights(model, tok.to_str(), f"random {config}"), path)
    return path


def engine_ceiling(model: Path, slots: int, temperature: float, threads: int, steps: int = 24,
                   repeats: int = 5, int8_head: bool = False) -> dict:
    """The same decode work with no HTTP: the engine and sampler alone, batch 1 vs batch `slots`, per CPU-second.

    This is the ceiling the server's 8-vs-1 ratio can approach; run in this process before the server starts."""
    import numpy as np

    from nanochat_cli.infer import Engine, Sampler, SamplingParams, load_model

    lm = load_model(model, threads=threads or None, int8_head=int8_head or None)
    engine = Engine(lm.model, slots, 512)
    prompt = lm.encode("def handler(request):\n    ")
    cpu_per_token = {}
    for n in (1, slots):
        samples = []
        for rep in range(repeats):
            samplers = [Sampler(SamplingParams(temperature=temperature, seed=rep * slots + i)) for i in range(n)]
            tokens = []
            for s in range(n):
                engine.reset(s)
                tokens.append(samplers[s](engine.prefill(s, prompt), []))
            c0 = time.process_time()
            for _ in range(steps):
                logits = engine.decode(list(range(n)), tokens)
                tokens = [samplers[i](logits[i], []) for i in range(n)]
            samples.append((time.process_time() - c0) / (steps * n))
        cpu_per_token[n] = float(np.median(samples))
    return {"engine_cpu_ms_per_token_batch_1": round(cpu_per_token[1] * 1e3, 2),
            f"engine_cpu_ms_per_token_batch_{slots}": round(cpu_per_token[slots] * 1e3, 2),
            f"engine_tokens_per_cpu_second_ratio_{slots}_vs_1": round(cpu_per_token[1] / cpu_per_token[slots], 2)}


# ---- the server ----

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: Path, parallel: int, ctx: int, threads: int, int8_head: bool = False
                 ) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "nanochat_cli.cli", "serve", str(model), "--port", str(port),
           "--parallel", str(parallel), "--ctx", str(ctx), "--max-queue", "256", "--threads", str(threads)]
    if int8_head:
        cmd.append("--int8-head")
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not become healthy in 300 s")


# ---- clients ----

class Stats:
    def __init__(self) -> None:
        self.ttft: list[float] = []
        self.tokens = 0
        self.errors: list[str] = []


TEMPERATURE = 0.8  # set from --temperature


async def stream_one(client: httpx.AsyncClient, url: str, prompt: str, max_tokens: int, stats: Stats) -> None:
    """One streaming completion; checks framing (data: blocks, role-free text chunks, finish, [DONE])."""
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": TEMPERATURE, "stream": True, "ignore_eos": True,
            "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    first = None
    buf = b""
    async with client.stream("POST", f"{url}/v1/completions", json=body) as r:
        if r.status_code != 200:
            stats.errors.append(f"status {r.status_code}: {(await r.aread())[:200]!r}")
            return
        async for piece in r.aiter_raw():
            if first is None and b'"text":"' in piece:
                first = time.perf_counter()
            buf += piece
    blocks = buf.decode().split("\n\n")
    if blocks[-1] != "" or blocks[-2] != "data: [DONE]":
        stats.errors.append(f"stream not closed by [DONE]: {buf[-80:]!r}")
        return
    chunks = [json.loads(b[6:]) for b in blocks[:-2] if b.startswith("data: ")]
    if any(not b.startswith(("data: ", ":")) for b in blocks[:-1]):
        stats.errors.append("a block is not a data: or comment line")
    finals = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    usage = chunks[-1].get("usage") or {}
    if finals[-1] != "length" or usage.get("completion_tokens") != max_tokens:
        stats.errors.append(f"incomplete: finish {finals[-1]}, usage {usage}")
        return
    stats.tokens += max_tokens
    stats.ttft.append((first or time.perf_counter()) - t0)


async def run_clients(url: str, clients: int, per_client: int, max_tokens: int, time_limit: float) -> tuple[Stats, float, list]:
    stats = Stats()
    health: list[int] = []
    done = asyncio.Event()

    async def client_loop(i: int, client: httpx.AsyncClient) -> None:
        for j in range(per_client):
            await stream_one(client, url, f"def handler_{i}_{j}(request):\n    ", max_tokens, stats)

    async def poll_health(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            try:
                r = await client.get(f"{url}/health", timeout=5)
                health.append(r.status_code)
            except httpx.TransportError as e:
                health.append(-1)
                stats.errors.append(f"/health failed: {e!r}")
            await asyncio.sleep(0.25)

    limits = httpx.Limits(max_connections=clients + 4)
    async with httpx.AsyncClient(timeout=httpx.Timeout(time_limit), limits=limits) as client:
        poller = asyncio.create_task(poll_health(client))
        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client_loop(i, client) for i in range(clients))), time_limit)
        elapsed = time.perf_counter() - t0
        done.set()
        await poller
    return stats, elapsed, health


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: tokens per CPU-second is robust to other jobs on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def decode_batch_totals(url: str) -> tuple[float, float]:
    """(sum, count) of the server's decode batch size histogram: their deltas give the mean batch of a phase."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("nanochat_decode_batch_size_"))
    return float(values["nanochat_decode_batch_size_sum"]), float(values["nanochat_decode_batch_size_count"])


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a nanochat GGUF; default: a random-weight model of --config")
    ap.add_argument("--config", default="small", help="named size for the random model (default small)")
    ap.add_argument("--parallel", type=int, default=8, help="server slots")
    ap.add_argument("--threads", type=int, default=0, help="server kernel threads (0 = the kernels' default)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--per-client", type=int, default=2, help="requests per client in each throughput phase")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds any one phase may take")
    ap.add_argument("--temperature", type=float, default=0.8, help="sampling temperature of every request (0 = greedy)")
    ap.add_argument("--int8-head", action="store_true", help="serve --int8-head (and the engine-alone ceiling with it)")
    args = ap.parse_args()
    global TEMPERATURE
    TEMPERATURE = args.temperature

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or build_small_model(Path(tmp), args.config)
        ceiling = engine_ceiling(model, args.parallel, args.temperature, args.threads, int8_head=args.int8_head)
        print(f"engine alone: {ceiling}", file=sys.stderr)
        proc, url = start_server(model, args.parallel, 512, args.threads, args.int8_head)
        try:
            print(f"server {url}, model {model.name}, {args.parallel} slots, {os.cpu_count()} CPUs, load average "
                  f"{os.getloadavg()[0]:.1f}", file=sys.stderr)
            asyncio.run(run_clients(url, 1, 1, 8, args.time_limit))  # warm-up
            ratios, tps1, tps8, ttft, batch_means, cpu_ratios = [], [], [], [], [], []
            for rep in range(args.repeats):
                c0 = cpu_seconds(proc.pid)
                s1, e1, _ = asyncio.run(run_clients(url, 1, args.per_client, args.max_tokens, args.time_limit))
                c1 = cpu_seconds(proc.pid)
                before = decode_batch_totals(url)
                s8, e8, _ = asyncio.run(run_clients(url, 8, args.per_client, args.max_tokens, args.time_limit))
                after = decode_batch_totals(url)
                c8 = cpu_seconds(proc.pid)
                cpu_ratios.append((s8.tokens / (c8 - c1)) / (s1.tokens / (c1 - c0)))
                batch_means.append((after[0] - before[0]) / max(after[1] - before[1], 1))
                for s in (s1, s8):
                    if s.errors:
                        raise SystemExit(f"errors: {s.errors[:5]}")
                tps1.append(s1.tokens / e1)
                tps8.append(s8.tokens / e8)
                ratios.append(tps8[-1] / tps1[-1])
                ttft += s8.ttft
                print(f"repeat {rep}: 1 client {tps1[-1]:.1f} tok/s, 8 clients {tps8[-1]:.1f} tok/s, "
                      f"ratio {ratios[-1]:.2f}x, tokens per server CPU-second ratio {cpu_ratios[-1]:.2f}x, "
                      f"mean decode batch {batch_means[-1]:.2f}", file=sys.stderr)
            s16, e16, health = asyncio.run(run_clients(url, 16, 1, args.max_tokens, args.time_limit))
            result = {
                "model": model.name, "slots": args.parallel, "max_tokens": args.max_tokens, "threads": args.threads,
                "temperature": args.temperature,
                "load_average_1m_at_end": round(os.getloadavg()[0], 1),
                "tok_s_1_client_median": round(statistics.median(tps1), 1),
                "tok_s_8_clients_median": round(statistics.median(tps8), 1),
                "ratio_8_vs_1_median": round(statistics.median(ratios), 2),
                "ratios": [round(r, 2) for r in ratios],
                "tokens_per_cpu_second_ratio_8_vs_1_median": round(statistics.median(cpu_ratios), 2),
                **ceiling,
                "mean_decode_batch_8_clients": round(statistics.median(batch_means), 2),
                "ttft_8_clients_p50_s": round(pct(ttft, 0.5), 3), "ttft_8_clients_p99_s": round(pct(ttft, 0.99), 3),
                "16_clients": {"complete": 16 - len(s16.errors), "errors": s16.errors[:5],
                               "tok_s": round(s16.tokens / e16, 1), "ttft_p50_s": round(pct(s16.ttft, 0.5), 3),
                               "ttft_p99_s": round(pct(s16.ttft, 0.99), 3),
                               "health_polls": len(health), "health_ok": sum(h == 200 for h in health)},
            }
            print(json.dumps(result, indent=2))
            if s16.errors or any(h != 200 for h in health):
                raise SystemExit(1)
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
