"""`nanochat data prepare RECIPE.toml`: sources -> filtered, deduplicated, decontaminated corpus -> BPE -> shards.

Output: CACHE/data/<hash of the data section>/{tokenizer.json, train.bin, val.bin, manifest.json}. The
directory is built under a temporary name and renamed into place, so it is either complete or absent;
a re-run with the same data section finds it and reuses it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nanochat_cli.data import dedup, filters, shards, sources
from nanochat_cli.data.decontaminate import MATCHER_VERSION, Decontaminator, evaluation_prompts
from nanochat_cli.data.tokenizer import EOT, load_tokenizer, save_tokenizer, train_tokenizer
from nanochat_cli.errors import NanochatError
from nanochat_cli.evaluate.sources import file_sha256
from nanochat_cli.recipes import Recipe, data_key

MANIFEST = "manifest.json"


@dataclass
class PreparedData:
    """A built corpus directory and its manifest."""

    dir: Path
    manifest: dict

    @property
    def tokenizer_path(self) -> Path:
        return self.dir / "tokenizer.json"

    def tokenizer(self):
        return load_tokenizer(self.tokenizer_path)

    def tokens(self, split: str) -> np.ndarray:
        return shards.open_shard(self.dir / f"{split}.bin", self.manifest["token_dtype"])

    def bytes_per_token(self, split: str) -> float:
        return float(self.manifest["bytes_per_token"][split])


def data_dir(recipe: Recipe) -> Path:
    return Path(recipe.data.cache_dir).expanduser() / "data" / data_key(recipe.data)


def load_prepared(recipe: Recipe, check_eval: bool = True) -> PreparedData | None:
    """The prepared corpus for this recipe's data section, or None when it has not been built (or was
    decontaminated against other evaluation prompts than the current ones; check_eval=False skips that check)."""
    d = data_dir(recipe)
    m = d / MANIFEST
    if not m.is_file():
        return None
    manifest = json.loads(m.read_text())
    if recipe.data.decontaminate and check_eval:
        # the cache key is the data section only: a corpus cleaned against another evaluation set (e.g. built
        # before the MultiPL-E files were present) must be rebuilt, not reused
        stored = manifest.get("decontamination", {})
        prompts = evaluation_prompts()
        if stored.get("eval_sha256", _prompts_sha256(prompts)) != _prompts_sha256(prompts) or \
                stored.get("eval_prompts") != Decontaminator(prompts).count:
            return None
    return PreparedData(d, manifest)


def _prompts_sha256(prompts: list[str]) -> str:
    # the matcher's version is part of the key: a corpus cleaned by an older, laxer matcher is rebuilt
    return hashlib.sha256(json.dumps([MATCHER_VERSION, sorted(prompts)]).encode()).hexdigest()



@contextmanager
def _progress(console: Console, enabled: bool):
    """Progress bars that stay on screen after success but vanish on an error, so the error is the one line left."""
    if not enabled:
        yield None
        return
    prog = Progress(
        TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
    )
    prog.start()
    try:
        yield prog
    except BaseException:
        prog.live.transient = True
        raise
    finally:
        prog.stop()


def _counter(update, total: int):
    """A progress callback that adds up the documents encoded so far."""
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        update(done[0], total)

    return step


def prepare_data(recipe: Recipe, show_progress: bool = True, force: bool = False) -> PreparedData:
    """Build (or reuse) the recipe's corpus, tokenizer and shards; returns the prepared directory."""
    existing = None if force else load_prepared(recipe)
    if existing is not None:
        return existing
    data = recipe.data
    cache = Path(data.cache_dir).expanduser()
    out = data_dir(recipe)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NanochatError(f"cannot create the data cache {out.parent}: {e.strerror}; set data.cache_dir to a writable place") from None
    console = Console(stderr=True)
    t0 = time.time()
    with _progress(console, show_progress) as prog:

        def bar(name: str):
            task = prog.add_task(name, total=None) if prog else None

            def update(done: int, total: int | None = None, _label: str = ""):
                if prog:
                    prog.update(task, completed=done, total=total)

            return update

        # 1. find crates
        fetch_bar = bar("fetch crates")
        crates = sources.collect_crates(data, cache, fetch_bar)
        fetch_bar(len(crates), len(crates))
        if not crates:
            raise NanochatError(sources.no_sources_message(list(data.sources)))

        # 2. read + filter
        files = [(c, p) for c in crates for p in sources.rust_files(c)]
        if not files:
            raise NanochatError(sources.no_sources_message(list(data.sources)) + " (the sources hold no .rs files)")
        rejected: Counter = Counter()
        docs: list[tuple[sources.CrateDir, Path, str]] = []
        read_bar = bar("read + filter")
        for i, (crate, path) in enumerate(files):
            raw = path.read_bytes()
            reason = filters.reject_reason(raw, data)
            if reason:
                rejected[reason] += 1
            else:
                docs.append((crate, path, raw.decode("utf-8")))
            if i % 200 == 0 or i == len(files) - 1:
                read_bar(i + 1, len(files))
        if data.max_files and len(docs) > data.max_files:
            random.Random(data.seed).shuffle(docs)
            docs = sorted(docs[: data.max_files], key=lambda d: (d[0].source, d[0].name, str(d[1])))
            rejected["over_max_files"] += len(files) - sum(rejected.values()) - len(docs)

        # 3. exact and near duplicates
        seen: set[str] = set()
        unique = []
        for d in docs:
            k = dedup.exact_key(filters.normalize_for_hash(d[2]))
            if k not in seen:
                seen.add(k)
                unique.append(d)
        n_exact = len(docs) - len(unique)
        dedup_bar = bar("near-duplicates")
        near = dedup.near_duplicates([d[2] for d in unique], data.near_dup_threshold)
        dedup_bar(len(unique), len(unique))
        docs = [d for i, d in enumerate(unique) if i not in near]

        # 4. decontamination
        dropped: list[str] = []
        n_prompts, eval_sha256 = 0, None
        if data.decontaminate:
            prompts = evaluation_prompts()
            eval_sha256 = _prompts_sha256(prompts)
            deco = Decontaminator(prompts)
            n_prompts = deco.count
            kept = []
            for d in docs:
                if deco.is_contaminated(d[2]):
                    dropped.append(str(d[1]))
                else:
                    kept.append(d)
            docs = kept

        # 5. split by crate
        names = sorted({d[0].name for d in docs})
        if len(names) < 2:
            raise NanochatError(
                f"only {len(names)} crate(s) left after filtering; a train/val split by crate needs at least 2 — "
                "add sources or raise data.max_crates"
            )
        order = sorted(names, key=lambda n: hashlib.sha256(f"{data.seed}:{n}".encode()).hexdigest())
        n_val = min(len(names) - 1, max(1, round(data.val_fraction * len(names))))
        val_names = set(order[:n_val])
        split_docs = {
            "train": [d[2] for d in docs if d[0].name not in val_names],
            "val": [d[2] for d in docs if d[0].name in val_names],
        }

        # 6. tokenizer + shards, built in a temp dir renamed into place at the end
        tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        tok_bar = bar("train tokenizer")
        tok = train_tokenizer(split_docs["train"], data.vocab_size)
        tok_bar(1, 1)
        save_tokenizer(tok, tmp / "tokenizer.json")
        dtype = shards.token_dtype(data.vocab_size)
        tokens, nbytes = {}, {}
        for split, texts in split_docs.items():
            tokens[split] = shards.write_shard(
                tmp / f"{split}.bin", tok, texts, dtype, tok.token_to_id(EOT), _counter(bar(f"encode {split}"), len(texts)),
            )
            nbytes[split] = sum(len(t.encode("utf-8")) for t in texts)

    manifest = {
        "format": 1,
        "data_key": data_key(data),
        "data": asdict(data),
        "sources": sorted({c.source for c in crates}),
        "crates": {
            "train": sorted(set(names) - val_names),
            "val": sorted(val_names),
        },
        "crate_dirs": sorted({str(c.path) for c in crates}),
        "files": {
            "found": len(files),
            "kept": len(docs),
            "train": len(split_docs["train"]),
            "val": len(split_docs["val"]),
        },
        "rejected": dict(sorted(rejected.items())),
        "duplicates": {"exact": n_exact, "near": len(near)},
        "decontamination": {"eval_prompts": n_prompts, "eval_sha256": eval_sha256, "dropped": len(dropped), "dropped_files": dropped},
        "bytes": nbytes,
        "tokens": tokens,
        # bits per byte = loss_nats / ln 2 / bytes_per_token; <|endoftext|> tokens count, their bytes do not
        "bytes_per_token": {s: nbytes[s] / max(tokens[s], 1) for s in tokens},
        "vocab_size": tok.get_vocab_size(),
        "token_dtype": dtype,
        "hashes": {f: file_sha256(tmp / f) for f in ("tokenizer.json", "train.bin", "val.bin")},
        "seconds": round(time.time() - t0, 1),
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    if out.exists():  # a forced rebuild replaces the old one
        shutil.rmtree(out)
    os.replace(tmp, out)
    return PreparedData(out, manifest)


def summary(p: PreparedData) -> dict:
    """The manifest's headline numbers (what `nanochat data prepare` prints)."""
    m = p.manifest
    return {
        "dir": str(p.dir),
        "crates": {k: len(v) for k, v in m["crates"].items()},
        "files": m["files"],
        "rejected": m["rejected"],
        "duplicates": m["duplicates"],
        "decontaminated": m["decontamination"]["dropped"],
        "bytes": m["bytes"],
        "tokens": m["tokens"],
        "bytes_per_token": {k: round(v, 3) for k, v in m["bytes_per_token"].items()},
        "vocab_size": m["vocab_size"],
    }
