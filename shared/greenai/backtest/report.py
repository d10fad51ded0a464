"""Backtest output: a table, JSON or CSV of the policy scores, and an optional bar chart."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from greenai.backtest.engine import PolicyScore

COLUMNS = ("policy", "jobs", "job_hours", "deadline_hours", "emissions_run_now", "emissions_policy", "emissions_oracle",
           "saving_pct", "oracle_capture_pct", "gap_to_oracle_pct", "forced", "forecast")


def as_table(scores: Sequence[PolicyScore], title: str) -> str:
    lines = [title, f"{'policy':<16} {'saving %':>9} {'of oracle %':>12} {'gap %':>7} {'kgCO2e/kW':>11} {'forced':>7}  forecast"]
    for s in scores:
        lines.append(f"{s.policy:<16} {s.saving_pct:>9.2f} {s.oracle_capture_pct:>12.1f} {s.gap_to_oracle_pct:>7.2f} "
                     f"{s.emissions_policy:>11.1f} {s.forced:>7}  {s.forecast}")
    lines.append(f"{scores[0].jobs} jobs of {scores[0].job_hours:g} h, each to finish within {scores[0].deadline_hours:g} h of "
                 "arrival; savings vs starting at once, on actuals; kgCO2e for a 1 kW job.")
    return "\n".join(lines)


def as_json(scores: Sequence[PolicyScore]) -> str:
    return json.dumps([s.to_dict() for s in scores], indent=2)


def as_csv(scores: Sequence[PolicyScore]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for s in scores:
        writer.writerow(s.to_dict())
    return out.getvalue()


def plot(scores: Sequence[PolicyScore], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    names = [s.policy for s in scores]
    values = [s.saving_pct for s in scores]
    colours = ["#adb5bd" if n == "run-now" else "#495057" if n == "oracle" else "#2b8a3e" for n in names]
    bars = ax.bar(names, values, color=colours)
    for bar, s in zip(bars, scores, strict=True):
        label = f"{s.saving_pct:.1f} %" + ("" if s.policy in ("run-now", "oracle") else f"\n({s.oracle_capture_pct:.0f} % of oracle)")
        ax.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("emissions saved vs starting at once (%)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(0, max(values + [1.0]) * 1.25)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
