"""Several `nanochat rl` runs' curves in one figure, one line per run in each panel.

Run: `python benchmarks/rl_curves.py runs/rl_grpo_v4 runs/rl_maxrl_v4 runs/rl_rest_v4 -o docs/rl_curves.png`
(each argument a run directory holding metrics.jsonl; `NAME=DIR` labels a run). Panels, top to bottom: reward,
compile rate, test pass rate, the share of completions the generic-body guard zeroed, k3 KL to the base, and
the mean completion length in tokens, each against the step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nanochat_cli.train.plot import panels_figure, save_png

PANELS = [("reward", "reward"), ("compile rate", "compile_rate"), ("test pass rate", "pass_rate"),
          ("generic-body share", "generic_share"), ("KL to base (k3)", "kl"),
          ("mean completion tokens", "completion_tokens")]


def run_records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="run directories, or NAME=DIR")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args()
    merged: dict[int, dict] = {}
    names = []
    for spec in args.runs:
        name, _, path = spec.rpartition("=")
        run = Path(path)
        name = name or run.name
        names.append(name)
        for r in run_records(run):
            row = merged.setdefault(int(r["step"]), {"step": int(r["step"])})
            row.update({f"{name}\0{key}": r[key] for _, key in PANELS if key in r})
    records = [merged[s] for s in sorted(merged)]
    panels = [(label, [(f"{n}\0{key}", n) for n in names]) for label, key in PANELS]
    save_png(panels_figure(records, panels, title="nanochat rl"), args.output, args.output.name)
    print(f"wrote {args.output} ({len(names)} runs, {len(records)} steps)")


if __name__ == "__main__":
    main()
