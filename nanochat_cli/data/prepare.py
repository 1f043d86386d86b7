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

from nanochat_cli.console import make_console
from nanochat_cli.data import corpus_sources, dedup, filters, shards
from nanochat_cli.data.decontaminate import (
    MATCHER_VERSION,
    Decontaminator,
    SnippetDecontaminator,
    evaluation_bodies,
    evaluation_prompts,
)
from nanochat_cli.data.fim import apply_fim
from nanochat_cli.data.snippet_corpus import build_snippet_corpus
from nanochat_cli.data.tokenizer import EOT, load_tokenizer, save_tokenizer, train_tokenizer
from nanochat_cli.errors import NanochatError
from nanochat_cli.file_hash import file_sha256
from nanochat_cli.recipes import Recipe

MANIFEST = "manifest.json"
# data keys added with the verified corpus; left out of a file-only corpus's key (see corpus_key)
VERIFIED_CORPUS_KEYS = ("verify", "verify_timeout", "synthetic_programs", "max_snippets", "tokenizer_from", "fim_rate",
                        "renamed_copies", "retyped_copies", "doc_examples", "composed_programs")
VERIFY_LOG = "verify.jsonl"  # one line per verified snippet: source, group, origin, kind, status, first error


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


def resolve_tokenizer(data, prepare_missing: bool = False) -> Path | None:
    """The tokenizer.json that data.tokenizer_from names (None when it is "": a new BPE is trained).

    A recipe .toml stands for its prepared tokenizer: prepared first when prepare_missing, else None while
    it is not built. A path that holds no tokenizer is one NanochatError naming the accepted forms."""
    spec = data.tokenizer_from
    if not spec:
        return None
    p = Path(spec).expanduser()
    if p.suffix == ".toml":
        from nanochat_cli.recipes import load_recipe

        if not p.is_file():
            raise NanochatError(f"data.tokenizer_from: recipe {spec} not found; give a recipe .toml, a tokenizer.json "
                                "or a directory holding one (checkpoint, prepared data)")
        other = load_recipe(p)
        if Path(other.data.tokenizer_from or "").expanduser().resolve() == p.resolve():
            raise NanochatError(f"data.tokenizer_from: recipe {spec} takes its tokenizer from itself; set it to \"\" there")
        prepared = load_prepared(other, check_eval=False)
        if prepared is None and prepare_missing:
            prepared = prepare_data(other)
        return prepared.tokenizer_path if prepared else None
    if p.is_dir():
        p = p / "tokenizer.json"
    if not p.is_file():
        raise NanochatError(f"data.tokenizer_from: {spec} holds no tokenizer.json; give a tokenizer.json, a directory "
                            "holding one (checkpoint, prepared data) or a recipe .toml")
    return p


def corpus_key(data, tokenizer_sha256: str | None = None) -> str:
    """The prepared directory's name: a hash of the data section (cache_dir and verify_jobs aside), with the
    reused tokenizer's sha256. A file-only corpus that uses none of the verified-corpus keys hashes as it did
    before they existed (recipes.data_key), so adding them renamed no existing corpus."""
    d = asdict(data)
    d.pop("cache_dir")
    d.pop("verify_jobs")  # how many rustc run at once changes nothing in the corpus
    for key in ("renamed_copies", "retyped_copies", "doc_examples"):
        if not d.get(key):
            d.pop(key, None)  # the keys came later: corpora without copies keep their names
    if "composed" in data.sources:  # the generator's version: a changed grammar gives other programs
        from nanochat_cli.data.synthetic_composed import VERSION

        d["composed_version"] = VERSION
    else:
        d.pop("composed_programs", None)  # a recipe without the source hashes as it did before the key existed
    if any(s in corpus_sources.SNIPPET_SOURCES for s in data.sources) or data.tokenizer_from or data.fim_rate:
        d["tokenizer_sha256"] = tokenizer_sha256
        d["snippet_order"] = "shuffled"  # a snippet corpus written in the older, unshuffled order is not reused
        if "synthetic" in data.sources:  # added or removed families change the programs a recipe draws
            from nanochat_cli.data.synthetic_rust import FAMILIES

            d["synthetic_families"] = hashlib.sha256(" ".join(FAMILIES).encode()).hexdigest()[:12]
    else:
        for k in VERIFIED_CORPUS_KEYS:
            d.pop(k, None)
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def data_dir(recipe: Recipe) -> Path:
    """CACHE/data/<key>; with data.tokenizer_from the key holds that tokenizer's hash (a stand-in when it is
    not built yet, which no prepared directory has)."""
    data = recipe.data
    sha = None
    if data.tokenizer_from:
        tok = resolve_tokenizer(data)
        sha = file_sha256(tok) if tok else "missing"
    return Path(data.cache_dir).expanduser() / "data" / corpus_key(data, sha)


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
        sha, count = _eval_fingerprint(recipe.data, evaluation_prompts())
        if stored.get("eval_sha256", sha) != sha or stored.get("eval_prompts") != count:
            return None
    return PreparedData(d, manifest)


def _prompts_sha256(prompts: list[str]) -> str:
    # the matcher's version is part of the key: a corpus cleaned by an older, laxer matcher is rebuilt
    return hashlib.sha256(json.dumps([MATCHER_VERSION, sorted(prompts)]).encode()).hexdigest()


def _eval_fingerprint(data, prompts: list[str]) -> tuple[str, int]:
    """(sha256, count) of what the corpus is cleaned against: the prompts, and for snippet sources the bodies."""
    if not any(s in corpus_sources.SNIPPET_SOURCES for s in data.sources):
        return _prompts_sha256(prompts), Decontaminator(prompts).count
    bodies = evaluation_bodies()
    sha = hashlib.sha256(json.dumps([MATCHER_VERSION, "snippets", sorted(prompts), sorted(bodies)]).encode()).hexdigest()
    return sha, SnippetDecontaminator(prompts, bodies).count


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


class PhasedBar:
    """One progress bar fed by callbacks `(done, total, label)` that may run in phases and never counts backwards.

    A callee reports each phase from 1 again (debian: download, then unpack; snippets: one source after another).
    A call whose label differs, or whose `done` is below the last one, starts a new phase that continues from
    where the previous one ended, so the bar only moves forward; the label shows beside the bar's name.
    """

    def __init__(self, prog: Progress | None, name: str):
        self.prog, self.name = prog, name
        self.task = prog.add_task(name, total=None) if prog else None
        self.offset, self.done, self.total, self.label = 0, 0, None, None

    def __call__(self, done: int, total: int | None = None, label: str = "") -> None:
        if self.label is not None and (label != self.label or done < self.done):
            self.offset += max(self.done, self.total or 0)
        self.done, self.total, self.label = done, total, label
        if self.prog:
            self.prog.update(self.task, completed=self.offset + done,
                             total=None if total is None else self.offset + total,
                             description=f"{self.name}: {label}" if label else self.name)

    def finish(self) -> None:
        """Mark the bar complete at its current count (the last phase may have stopped short of its total)."""
        if self.prog:
            end = self.offset + max(self.done, self.total or 0)
            self.prog.update(self.task, completed=end, total=max(end, 1), description=self.name)


def _counter(update, total: int):
    """A progress callback that adds up the documents encoded so far."""
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        update(done[0], total)

    return step


@dataclass
class _FileCorpus:
    """The file half of a corpus: whole .rs files split by crate."""

    train: list[str]
    val: list[str]
    manifest: dict
    sides: dict[str, str]  # crate -> "train" | "val"


def _file_corpus(data, cache: Path, bar, prompts: list[str] | None) -> _FileCorpus:
    # 1. find crates
    fetch_bar = bar("fetch crates")
    crates = corpus_sources.collect_crates(data, cache, fetch_bar)
    if fetch_bar.label is None:  # local directories: nothing to fetch, the bar just counts the crates found
        fetch_bar(len(crates), len(crates))
    fetch_bar.finish()
    if not crates:
        raise NanochatError(corpus_sources.no_sources_message([s for s in data.sources if s not in corpus_sources.SNIPPET_SOURCES]))

    # 2. read + filter
    files = [(c, p) for c in crates for p in corpus_sources.rust_files(c)]
    if not files:
        raise NanochatError(corpus_sources.no_sources_message(list(data.sources)) + " (the sources hold no .rs files)")
    rejected: Counter = Counter()
    docs: list[tuple[corpus_sources.CrateDir, Path, str]] = []
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
    if prompts is not None:
        deco = Decontaminator(prompts)
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
    train = [d[2] for d in docs if d[0].name not in val_names]
    val = [d[2] for d in docs if d[0].name in val_names]
    manifest = {
        "sources": sorted({c.source for c in crates}),
        "crates": {"train": sorted(set(names) - val_names), "val": sorted(val_names)},
        "crate_dirs": sorted({str(c.path) for c in crates}),
        "files": {"found": len(files), "kept": len(docs), "train": len(train), "val": len(val)},
        "rejected": dict(sorted(rejected.items())),
        "duplicates": {"exact": n_exact, "near": len(near)},
        "dropped_files": dropped,
    }
    return _FileCorpus(train, val, manifest, {n: "val" if n in val_names else "train" for n in names})


def _check_section(data) -> None:
    """The data keys a type check cannot judge (kept here, beside the code that reads them)."""
    for key in ("fim_rate", "doc_examples"):
        if not 0.0 <= getattr(data, key) <= 1.0:
            raise NanochatError(f"recipe key 'data.{key}' must be in [0, 1], got {getattr(data, key)}")
    for key in ("verify_jobs", "synthetic_programs", "composed_programs", "max_snippets", "renamed_copies", "retyped_copies"):
        if getattr(data, key) < 0:
            raise NanochatError(f"recipe key 'data.{key}' must be >= 0, got {getattr(data, key)}")
    if not data.verify_timeout > 0:
        raise NanochatError(f"recipe key 'data.verify_timeout' must be > 0 seconds, got {data.verify_timeout}")


def prepare_data(recipe: Recipe, show_progress: bool = True, force: bool = False) -> PreparedData:
    """Build (or reuse) the recipe's corpus, tokenizer and shards; returns the prepared directory."""
    data = recipe.data
    _check_section(data)
    tok_file = resolve_tokenizer(data, prepare_missing=True)
    existing = None if force else load_prepared(recipe)
    if existing is not None:
        return existing
    cache = Path(data.cache_dir).expanduser()
    out = data_dir(recipe)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NanochatError(f"cannot create the data cache {out.parent}: {e.strerror}; set data.cache_dir to a writable place") from None
    tok = None
    if tok_file is not None:
        tok = load_tokenizer(tok_file)
        if tok.get_vocab_size() != data.vocab_size:
            raise NanochatError(f"data.tokenizer_from {data.tokenizer_from} has {tok.get_vocab_size()} tokens but "
                                f"data.vocab_size is {data.vocab_size}; set data.vocab_size = {tok.get_vocab_size()}")
    file_sources = [s for s in data.sources if s not in corpus_sources.SNIPPET_SOURCES]
    snippet_sources = [s for s in data.sources if s in corpus_sources.SNIPPET_SOURCES]
    console = make_console(stderr=True)
    t0 = time.time()
    seconds: dict[str, float] = {}
    with _progress(console, show_progress) as prog:

        def bar(name: str) -> PhasedBar:
            return PhasedBar(prog, name)

        prompts = evaluation_prompts() if data.decontaminate else None
        eval_sha256, n_prompts = _eval_fingerprint(data, prompts) if prompts is not None else (None, 0)
        files = None
        if file_sources:
            t1 = time.time()
            files = _file_corpus(data, cache, bar, prompts)
            seconds["files"] = round(time.time() - t1, 1)
        snippets = None
        if snippet_sources:
            t1 = time.time()
            candidates = corpus_sources.collect_snippets(data, cache, bar("collect snippets"))
            seconds["collect_snippets"] = round(time.time() - t1, 1)
            deco = SnippetDecontaminator(prompts, evaluation_bodies()) if prompts is not None else None
            snippets = build_snippet_corpus(data, candidates, deco, cache / "verify", files.sides if files else None, bar)
            seconds.update(snippets.seconds)

        # documents in a fixed order (files, then snippets by source), each labelled with its source for the counts
        split_docs: dict[str, list[str]] = {"train": [], "val": []}
        labels: dict[str, list[str]] = {"train": [], "val": []}
        for split in ("train", "val"):
            if files:
                split_docs[split] += getattr(files, split)
                labels[split] += ["files"] * len(getattr(files, split))
            if snippets:
                # in a seeded shuffle: side by side, a snippet and its renamed copy (or two programs of one family)
                # would teach every training window to write the previous program again
                docs = [(s.text, s.source) for s in getattr(snippets, split)]
                random.Random(f"{data.seed}:{split}").shuffle(docs)
                split_docs[split] += [text for text, _ in docs]
                labels[split] += [src for _, src in docs]

        # tokenizer + shards, built in a temp dir renamed into place at the end
        tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            t1 = time.time()
            if tok is None:
                tok_bar = bar("train tokenizer")
                tok = train_tokenizer(split_docs["train"], data.vocab_size)
                tok_bar(1, 1)
            save_tokenizer(tok, tmp / "tokenizer.json")
            seconds["tokenizer"] = round(time.time() - t1, 1)
            t1 = time.time()
            dtype = shards.token_dtype(data.vocab_size)
            tokens, nbytes, per_doc = {}, {}, {}
            for split, texts in split_docs.items():
                # val stays plain: its bits per byte must mean the same with and without FIM
                docs = apply_fim(texts, data.fim_rate, data.seed) if split == "train" else texts
                per_doc[split] = []
                tokens[split] = shards.write_shard(
                    tmp / f"{split}.bin", tok, docs, dtype, tok.token_to_id(EOT),
                    _counter(bar(f"encode {split}"), len(texts)), per_doc[split],
                )
                nbytes[split] = sum(len(t.encode("utf-8")) for t in texts)
            seconds["encode"] = round(time.time() - t1, 1)
            if snippets:
                with open(tmp / VERIFY_LOG, "w") as f:
                    f.writelines(json.dumps(r) + "\n" for r in snippets.records)
                for src, st in snippets.stats.items():
                    for split in ("train", "val"):
                        mine = [i for i, lab in enumerate(labels[split]) if lab == src]
                        st.setdefault("bytes", {})[split] = sum(len(split_docs[split][i].encode("utf-8")) for i in mine)
                        st.setdefault("tokens", {})[split] = sum(per_doc[split][i] for i in mine)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    fm = files.manifest if files else {"sources": [], "crates": {"train": [], "val": []}, "crate_dirs": [],
                                       "files": {"found": 0, "kept": 0, "train": 0, "val": 0}, "rejected": {},
                                       "duplicates": {"exact": 0, "near": 0}, "dropped_files": []}
    dropped = fm.pop("dropped_files")
    seconds["total"] = round(time.time() - t0, 1)
    manifest = {
        "format": 1,
        "data_key": corpus_key(data, file_sha256(tok_file) if tok_file else None),
        "data": asdict(data),
        **fm,
        "sources": fm["sources"] + snippet_sources,
        "snippets": snippets.stats if snippets else {},
        "documents": {s: len(split_docs[s]) for s in split_docs},
        "decontamination": {"eval_prompts": n_prompts, "eval_sha256": eval_sha256, "dropped": len(dropped), "dropped_files": dropped},
        "tokenizer": {"from": data.tokenizer_from, "sha256": file_sha256(tok_file) if tok_file else None},
        "fim_rate": data.fim_rate,
        "bytes": nbytes,
        "tokens": tokens,
        # bits per byte = loss_nats / ln 2 / bytes_per_token; <|endoftext|> tokens count, their bytes do not
        "bytes_per_token": {s: nbytes[s] / max(tokens[s], 1) for s in tokens},
        "vocab_size": tok.get_vocab_size(),
        "token_dtype": dtype,
        "hashes": {f: file_sha256(tmp / f) for f in ("tokenizer.json", "train.bin", "val.bin")},
        "timings": seconds,
        "seconds": seconds["total"],
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
        **({"snippets": {src: {k: st.get(k) for k in ("candidates", "checked", "compiled", "yield", "tokens")}
                         for src, st in m["snippets"].items()}} if m.get("snippets") else {}),
        **({"timings": m["timings"]} if "timings" in m else {}),
    }
