"""The verified corpus: candidate snippets -> deduplicated, decontaminated, rustc-verified, split by group.

`build_snippet_corpus` is the snippet half of `nanochat data prepare` (prepare.py does the files, the
tokenizer and the shards). Every step is counted per source for the manifest.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nanochat_cli.data.decontaminate import SnippetDecontaminator, body_lines
from nanochat_cli.data.snippet import Snippet
from nanochat_cli.data.verify import VerifyOptions, verify_snippets
from nanochat_cli.errors import NanochatError


@dataclass
class SnippetCorpus:
    train: list[Snippet]
    val: list[Snippet]
    stats: dict[str, dict]  # per source: candidates, duplicates, decontaminated, verified statuses, compiled, ...
    records: list[dict] = field(default_factory=list)  # one per verified snippet (verify.jsonl)
    seconds: dict[str, float] = field(default_factory=dict)


def snippet_keys(text: str) -> tuple[str, str]:
    """(exact, normalized-body) keys: the second ignores comments and spacing, so reformatted copies collide."""
    exact = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    body = hashlib.sha256("\n".join(body_lines(text)).encode("utf-8", "surrogatepass")).hexdigest()
    return exact, body


def in_val(name: str, seed: int, val_fraction: float) -> bool:
    """A group's side from a seeded hash of its name alone, so one name (a crate) lands on the same side in
    every source that has it, whatever else the sources hold."""
    h = int(hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:15], 16) / 16**15
    return h < val_fraction


def split_groups(groups: list[str], seed: int, val_fraction: float, fixed: dict[str, str]) -> set[str]:
    """The val groups: fixed[g] ("train"/"val") first, then the seeded hash; at least one group on each side
    when there are two or more (a single group goes to train)."""
    val = {g for g in groups if fixed.get(g, "val" if in_val(g, seed, val_fraction) else "train") == "val"}
    free = sorted((g for g in groups if g not in fixed), key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
    if len(groups) >= 2 and not val and free:
        val.add(free[0])
    if len(groups) >= 2 and len(val) == len(groups) and free:
        val.discard(free[-1])
    return val


def build_snippet_corpus(
    data, candidates: dict[str, list[Snippet]], deco: SnippetDecontaminator | None, verify_cache: Path | None,
    fixed_split: dict[str, str] | None = None, bar: Callable[[str], Callable] | None = None,
) -> SnippetCorpus:
    """Dedup (exact, then normalized body; across sources, first listed wins), decontaminate, cap at
    data.max_snippets per source, verify (when data.verify), split by (source, group)."""
    bar = bar or (lambda _name: lambda *a, **k: None)
    stats: dict[str, dict] = {}
    kept: list[Snippet] = []
    seen_exact: set[str] = set()
    seen_body: set[str] = set()
    t0 = time.time()
    for source, snippets in candidates.items():
        st = stats[source] = {"candidates": len(snippets), "duplicates": {"exact": 0, "normalized": 0},
                              "too_large": 0, "decontaminated": 0, "decontaminated_origins": [], "over_max_snippets": 0}
        mine = []
        for s in snippets:
            if len(s.text.encode("utf-8", "surrogatepass")) > data.max_file_bytes:
                st["too_large"] += 1
                continue
            exact, body = snippet_keys(s.text)
            if exact in seen_exact or body in seen_body:
                st["duplicates"]["exact" if exact in seen_exact else "normalized"] += 1
                continue
            seen_exact.add(exact)
            seen_body.add(body)
            if deco is not None and deco.is_contaminated(s.text):
                st["decontaminated"] += 1
                st["decontaminated_origins"].append(s.origin or s.group)
                continue
            mine.append(s)
        if data.max_snippets and len(mine) > data.max_snippets:
            pick = set(random.Random(f"{data.seed}:{source}").sample(range(len(mine)), data.max_snippets))
            st["over_max_snippets"] = len(mine) - data.max_snippets
            mine = [s for i, s in enumerate(mine) if i in pick]
        kept += mine
    seconds = {"dedup_decontaminate": round(time.time() - t0, 1)}

    records: list[dict] = []
    if data.verify:
        t0 = time.time()
        options = VerifyOptions(jobs=data.verify_jobs, timeout_s=data.verify_timeout, cache=verify_cache)
        # retyped copies are checked after everything else, so the others fall into the same batches (and hit the
        # same cached results) as in a corpus built without them
        order = sorted(range(len(kept)), key=lambda i: "(retyped " in kept[i].origin)
        verdicts = verify_snippets([kept[i] for i in order], options, bar("verify (rustc)"))
        verdicts = [v for _, v in sorted(zip(order, verdicts), key=lambda p: p[0])]
        records = [v.record() for v in verdicts]
        statuses: dict[str, Counter] = {src: Counter() for src in stats}
        for v in verdicts:
            statuses[v.snippet.source][v.status] += 1
        for src, st in stats.items():
            st["verified"] = dict(sorted(statuses[src].items()))
        kept = [v.snippet for v in verdicts if v.passed]
        seconds["verify"] = round(time.time() - t0, 1)

    by_source = Counter(s.source for s in kept)
    for src, st in stats.items():
        checked = st["candidates"] - st["too_large"] - sum(st["duplicates"].values()) - st["decontaminated"] - st["over_max_snippets"]
        st["checked"] = checked
        st["compiled"] = by_source[src]  # passed verification (or kept unchecked when data.verify is false)
        st["yield"] = round(by_source[src] / checked, 4) if checked else 0.0

    groups = sorted({(s.source, s.group) for s in kept})
    # crate snippets follow their crate's side in the file corpus: its files hold the same doc-tests
    fixed = {f"debian-snippets\0{crate}": side for crate, side in (fixed_split or {}).items()}
    names = [f"{src}\0{g}" for src, g in groups]
    val_names = split_groups(names, data.seed, data.val_fraction, fixed)
    if len(names) < 2:
        raise NanochatError(
            f"only {len(names)} snippet group(s) left after verification; a train/val split by group needs at "
            "least 2 — add snippet sources, raise data.max_snippets, or check rustc with `rustc --version`"
        )
    train = [s for s in kept if f"{s.source}\0{s.group}" not in val_names]
    val = [s for s in kept if f"{s.source}\0{s.group}" in val_names]
    for src, st in stats.items():
        mine = [n for n in names if n.startswith(src + "\0")]
        st["groups"] = {"train": sum(n not in val_names for n in mine), "val": sum(n in val_names for n in mine)}
        st["documents"] = {"train": sum(s.source == src for s in train), "val": sum(s.source == src for s in val)}
    return SnippetCorpus(train, val, stats, records, seconds)
