"""Render the report's artifacts from evidence and decisions: each function returns the file's bytes."""

from __future__ import annotations

import csv
import html
import io
import json
import operator
from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

from greenai.domain import footprint as fp
from greenai.domain.evidence import DECISION_FIELDS, EVIDENCE_COLUMNS, DecisionRecord, EvidenceRecord
from greenai.reporting.figures import ModeFigures, Savings, by_mode, savings

ARTIFACT_NAMES = (
    "evidence.csv", "carbon_aware_decision.json", "FOOTPRINT.md", "impact_math.csv", "energy_co2_bars.png",
    "intensity_timeline.png", "savings.png", "data_card.md", "model_card.md", "index.html",
)  # fmt: skip

# Annual projections: how many runs a team makes a year in each scenario (the only assumption; per-run figures are measured).
SCENARIO_RUNS_PER_YEAR = {"low": 52, "medium": 365, "high": 3650}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def evidence_csv(records: Sequence[EvidenceRecord]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EVIDENCE_COLUMNS)
    columns = [operator.attrgetter(name) for name in EVIDENCE_COLUMNS]
    writer.writerows([("" if (v := get(r)) is None else v) for get in columns]
                     for r in sorted(records, key=lambda r: (r.timestamp_utc, r.run_id)))
    return out.getvalue().encode()


COMPACT = (",", ":")  # a decision's forecast is most of the file: no spaces in it


def write_decisions_json(decisions: Sequence[DecisionRecord], out: BinaryIO) -> int:
    """A JSON list, one decision per line, each with its forecast inline (DESIGN.md's contract), written as it goes:
    200,000 decisions make a file of a gigabyte or more, which never sits whole in memory. Returns the bytes written.

    Decisions of one check share one forecast: it is encoded once and spliced into each line, which keeps a report of
    hundreds of thousands of decisions to string joins instead of re-encoding the same 96 points each time."""
    ordered = sorted(decisions, key=lambda d: (d.at_utc, d.job_id, d.decision_id))
    encoded: dict[int, str] = {}
    written = out.write(b"[\n")
    batch: list[str] = []
    for index, d in enumerate(ordered):
        forecast = encoded.get(id(d.forecast))
        if forecast is None:
            forecast = encoded[id(d.forecast)] = json.dumps(d.forecast, separators=COMPACT)
        head = json.dumps({name: getattr(d, name) for name in DECISION_FIELDS if name != "forecast"}
                          | {"policy": d.policy, "forecast_key": d.forecast_key}, separators=COMPACT)
        batch.append(f'{head[:-1]},"forecast":{forecast}}}' + (",\n" if index < len(ordered) - 1 else "\n"))
        if len(batch) >= 2000:
            written += out.write("".join(batch).encode())
            batch.clear()
    written += out.write(("".join(batch) + "]\n").encode())
    return written


def decisions_json(decisions: Sequence[DecisionRecord]) -> bytes:
    out = io.BytesIO()
    write_decisions_json(decisions, out)
    return out.getvalue()


def impact_math_csv(records: Sequence[EvidenceRecord]) -> bytes:
    """Annual low/medium/high projections from the measured per-run means and the measured timing saving."""
    modes = by_mode(records)
    saved = savings(records)
    timing_per_run = saved.timing_kg / saved.timing_runs if saved.timing_runs else 0.0
    columns = ["scenario", "mode", "runs_per_year", "kWh_per_run_measured", "kgCO2e_per_run_measured",
               "timing_saving_kgCO2e_per_run_measured", "annual_kWh", "annual_kgCO2e", "annual_timing_saving_kgCO2e",
               "annual_efficiency_saving_kgCO2e", "evidence_runs", "assumptions"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    baseline = modes.get("baseline")
    for scenario, runs in SCENARIO_RUNS_PER_YEAR.items():
        for mode, figures in modes.items():
            efficiency = 0.0
            if mode == "optimized" and baseline is not None:
                efficiency = (baseline.mean_kgco2e - figures.mean_kgco2e) * runs
            writer.writerow({
                "scenario": scenario,
                "mode": mode,
                "runs_per_year": runs,
                "kWh_per_run_measured": figures.mean_kwh,
                "kgCO2e_per_run_measured": figures.mean_kgco2e,
                "timing_saving_kgCO2e_per_run_measured": timing_per_run,
                "annual_kWh": figures.mean_kwh * runs,
                "annual_kgCO2e": figures.mean_kgco2e * runs,
                "annual_timing_saving_kgCO2e": timing_per_run * runs,
                "annual_efficiency_saving_kgCO2e": efficiency,
                "evidence_runs": figures.runs,
                "assumptions": f"{runs} runs/year like the measured {mode} runs; per-run means from {figures.runs} "
                               f"measured run(s); same grid mix and deferral behaviour as measured",
            })
    return out.getvalue().encode()


def energy_co2_bars_png(records: Sequence[EvidenceRecord]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = by_mode(records)
    names = list(modes)
    fig, (ax_energy, ax_co2) = plt.subplots(1, 2, figsize=(10, 4.2))
    x = range(len(names))
    width = 0.38
    ax_energy.bar([i - width / 2 for i in x], [modes[n].mean_kwh * 1000 for n in names], width, label="CodeCarbon / selected",
                  color="#2b8a3e")
    ax_energy.bar([i + width / 2 for i in x], [modes[n].mean_kwh_ccf * 1000 for n in names], width,
                  label="Cloud Carbon Footprint model", color="#a9e34b")
    ax_energy.set_xticks(list(x), names)
    ax_energy.set_ylabel("energy per run (Wh)")
    ax_energy.set_title("Energy per training run")
    ax_energy.legend(fontsize=8)
    actual = [modes[n].mean_kgco2e * 1000 for n in names]
    run_now = [(modes[n].mean_run_now_kgco2e or 0.0) * 1000 for n in names]
    ax_co2.bar([i - width / 2 for i in x], run_now, width, label="had it started at submission (run-now)", color="#adb5bd")
    ax_co2.bar([i + width / 2 for i in x], actual, width, label="as run (carbon-aware)", color="#1971c2")
    ax_co2.set_xticks(list(x), names)
    ax_co2.set_ylabel("operational emissions per run (gCO2e)")
    ax_co2.set_title("Emissions: run-now counterfactual vs actual")
    ax_co2.legend(fontsize=8)
    for ax, values in ((ax_energy, [modes[n].mean_kwh * 1000 for n in names]), (ax_co2, actual)):
        for i, v in enumerate(values):
            ax.annotate(f"{v:.3g}", (i + (width / 2 if ax is ax_co2 else -width / 2), v), ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"greenai: baseline vs optimized ({len(records)} measured runs; means per run)", fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def _mode_table(modes: dict[str, ModeFigures]) -> list[str]:
    lines = ["| mode | runs | MAE | runtime (s) | kWh (selected) | kWh (CCF model) | intensity (g/kWh) | run-now intensity | "
             "kgCO2e | embodied kgCO2e | SCI kgCO2e / run |", "|" + "---|" * 11]
    for m in modes.values():
        lines.append(f"| {m.mode} | {m.runs} | {m.mean_mae:.2f} | {m.mean_runtime_s:.2f} | {m.mean_kwh:.3g} | "
                     f"{m.mean_kwh_ccf:.3g} | {m.mean_intensity:.0f} | {_fmt(m.mean_run_now_intensity, 3)} | "
                     f"{m.mean_kgco2e:.3g} | {m.mean_embodied_kg:.3g} | {m.mean_sci_kg:.3g} |")
    return lines


def footprint_md(records: Sequence[EvidenceRecord], decisions: Sequence[DecisionRecord], generated: datetime) -> bytes:
    modes = by_mode(records)
    saved: Savings = savings(records)
    methods = sorted({r.energy_method for r in records})
    sources = sorted({r.intensity_source for r in records})
    hardware = sorted({r.hardware for r in records})
    ratios = [r.kWh / r.kWh_ccf_model for r in records if r.kWh_ccf_model > 0]
    waited = sum(1 for d in decisions if d.action == "wait")
    lines = [
        "# FOOTPRINT — Software Carbon Intensity of this deployment's training runs",
        "",
        f"Generated {generated:%Y-%m-%d %H:%M} UTC from {len(records)} measured run(s) and {len(decisions)} planning decision(s).",
        "",
        "## Method (Green Software Foundation SCI v1.1, ISO/IEC 21031:2024)",
        "`SCI = (E × I + M) / R`",
        "- **Functional unit R**: one training run (fit + hold-out scoring).",
        "- **Boundary**: the training work inside the function (data loading excluded), on the function's share of the host;"
        " networking, storage and the scheduler's own invocations are outside the boundary.",
        f"- **E, energy**: {'; '.join(methods)}. CodeCarbon's figure and the Cloud Carbon Footprint (CCF) Lambda model "
        f"(vCPU share = memory / {fp.LAMBDA_MB_PER_VCPU:g} MB, {fp.CCF_MIN_WATTS_PER_VCPU['x86_64']}–"
        f"{fp.CCF_MAX_WATTS_PER_VCPU['x86_64']} W per vCPU by utilisation, {fp.CCF_MEMORY_KWH_PER_GB_HOUR} kWh per GB-hour)"
        " are both recorded on every run; `kWh` is the selected one. Both include PUE "
        f"{fp.AWS_PUE}.",
        "- **Why CodeCarbon feeds `kWh` by default**: it follows the run's own CPU load sample by sample and names its"
        " method (RAPL where the host exposes it, NVML for GPUs, else its load × TDP model), so an optimisation that"
        " makes the work lighter shows up in the figure; CCF's Lambda model only sees runtime and memory size and uses"
        " fleet-average watts. Set `EnergySource=ccf` to feed CCF instead; both stay in the evidence either way.",
        f"- **I, intensity**: location-based, the mean over the half-hours each run spanned; sources: {', '.join(sources)}.",
        f"- **M, embodied**: {fp.EMBODIED_PLATFORM_KGCO2E:g} kgCO2e per host of {fp.EMBODIED_PLATFORM_VCPUS:g} vCPUs "
        f"(CCF's figure for a typical m5 host) written off over {fp.EMBODIED_LIFESPAN_S / (365.25 * 86400):g} years, "
        "times the run's share of time and of vCPUs.",
        f"- **Hardware**: {', '.join(hardware)}.",
        "",
        "## Results per run (means)",
        *_mode_table(modes),
        "",
        "## Savings, by cause (never conflated)",
        f"- **Timing** (same energy, intensity at the run-now window minus actual): {saved.timing_kg * 1000:.4g} gCO2e over "
        f"{saved.timing_runs} run(s), {_fmt(saved.timing_pct, 3)} % of what starting at submission would have emitted "
        f"({saved.run_now_total_kg * 1000:.4g} g vs {saved.actual_total_kg * 1000:.4g} g actual). {waited} decision(s) were to wait.",
        f"- **Efficiency** (optimized vs the mean baseline energy on the same data, at each optimized run's intensity): "
        f"{saved.efficiency_kg * 1000:.4g} gCO2e over {saved.efficiency_runs} optimized run(s).",
        "- The run-now counterfactual is the actual intensity of the window starting at submission where the source has"
        " actuals, else the forecast at decision time (each run's `notes` says which).",
        "",
        "## Uncertainty",
        f"- Energy: on Lambda there is no RAPL, so CodeCarbon models CPU power from load and TDP and RAM from a fixed figure;"
        f" CCF models from vCPU share. Their ratio on these runs spans "
        f"{_fmt(min(ratios) if ratios else None)}–{_fmt(max(ratios) if ratios else None)} (CodeCarbon / CCF): treat E as a"
        " range between the two.",
        "- Intensity forecasts err: the GB national forecast's MAE grows from about 12 gCO2/kWh (0–6 h ahead) to 33 (36–48 h);"
        " decisions use forecasts, savings are scored on actuals.",
        f"- Embodied M and water use ({fp.AWS_WUE_L_PER_KWH} L/kWh, AWS's reported WUE) are estimates from published averages.",
        "",
    ]
    return "\n".join(lines).encode()


def data_card_md(records: Sequence[EvidenceRecord]) -> bytes:
    lines = ["# Data card", "", "Filled from the datasets the measured runs actually used.", ""]
    seen: dict[str, EvidenceRecord] = {}
    for r in records:
        seen.setdefault(r.dataset, r)
    for name, r in sorted(seen.items()):
        d = r.details or {}
        runs = sum(1 for x in records if x.dataset == name)
        lines += [
            f"## {name}",
            f"- Source: {d.get('dataset_source', 'n/a')}",
            f"- Rows: {d.get('rows', 'n/a')}; columns: {len(d.get('columns', []))} ({', '.join(d.get('columns', []))})",
            f"- Target: `{d.get('target', 'n/a')}` (regression; mean {_fmt(d.get('target_mean'), 4)})",
            f"- Numeric features: {', '.join(d.get('numeric_features', [])) or 'none'}",
            f"- Categorical features: {', '.join(d.get('categorical_features', [])) or 'none'}",
            f"- Split: {d.get('rows_train', 'n/a')} train / {d.get('rows_test', 'n/a')} test rows (80/20, random_state 42)",
            f"- Used in {runs} measured run(s).",
            "",
        ]
    return "\n".join(lines).encode()


def model_card_md(records: Sequence[EvidenceRecord]) -> bytes:
    modes = by_mode(records)
    lines = ["# Model card", "", "Gradient-boosted regression trees (scikit-learn GradientBoostingRegressor), two pipelines;"
             " figures are means over the measured runs.", ""]
    for mode, m in modes.items():
        sample = next(r for r in records if r.phase == mode)
        d = sample.details or {}
        lines += [
            f"## {mode}",
            f"- Hyper-parameters: {json.dumps(d.get('hyperparameters', {}), sort_keys=True)}",
            f"- Preprocessing: {d.get('preprocessing', 'n/a')}",
            f"- Trained on: {sample.dataset}, target `{d.get('target', 'n/a')}`",
            f"- Quality: MAE {m.mean_mae:.2f} on the held-out split ({m.runs} run(s))",
            f"- Footprint per run: {m.mean_kwh:.3g} kWh ({sample.energy_method}), {m.mean_kgco2e * 1000:.3g} gCO2e at "
            f"{m.mean_intensity:.0f} g/kWh, SCI {m.mean_sci_kg * 1000:.3g} gCO2e per run including embodied",
            f"- Runtime: {m.mean_runtime_s:.2f} s on {sample.hardware}",
            "",
        ]
    if {"baseline", "optimized"} <= modes.keys():
        b, o = modes["baseline"], modes["optimized"]
        lines += ["## Trade-off", f"- Optimized vs baseline: energy {100 * (o.mean_kwh / b.mean_kwh - 1):+.1f} %, "
                  f"MAE {o.mean_mae - b.mean_mae:+.2f} ({100 * (o.mean_mae / b.mean_mae - 1):+.1f} %).", ""]
    lines += ["## Intended use and limits", "- Demonstration of carbon-aware training; not a clinical model."
              " MAE is measured on one fixed split, not cross-validated.", ""]
    return "\n".join(lines).encode()


def index_html(records: Sequence[EvidenceRecord], decisions: Sequence[DecisionRecord], generated: datetime,
               files: Sequence[str]) -> bytes:
    modes = by_mode(records)
    saved = savings(records)
    rows = "".join(
        f"<tr><td>{html.escape(m.mode)}</td><td>{m.runs}</td><td>{m.mean_mae:.2f}</td><td>{m.mean_kwh:.3g}</td>"
        f"<td>{m.mean_kgco2e * 1000:.3g}</td><td>{m.mean_intensity:.0f}</td><td>{_fmt(m.mean_run_now_intensity)}</td></tr>"
        for m in modes.values()
    )
    images = "".join(f'<figure><img src="{html.escape(f)}" alt="{html.escape(f)}"></figure>' for f in files if f.endswith(".png"))
    links = "".join(f'<li><a href="{html.escape(f)}">{html.escape(f)}</a></li>' for f in files)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>greenai report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#212529}}
table{{border-collapse:collapse}}td,th{{border:1px solid #dee2e6;padding:.3em .6em;text-align:right}}
.big{{font-size:1.4em;font-weight:600}}img{{max-width:100%}}</style></head><body>
<h1>greenai — carbon-aware training report</h1>
<p>Generated {generated:%Y-%m-%d %H:%M} UTC from {len(records)} measured runs and {len(decisions)} planning decisions.</p>
<p class="big">Timing saved {saved.timing_kg * 1000:.3g} gCO2e ({_fmt(saved.timing_pct)} % vs starting at submission);
efficiency saved {saved.efficiency_kg * 1000:.3g} gCO2e.</p>
<table><tr><th>mode</th><th>runs</th><th>MAE</th><th>kWh / run</th><th>gCO2e / run</th><th>intensity g/kWh</th>
<th>run-now g/kWh</th></tr>{rows}</table>
{images}
<h2>Files</h2><ul>{links}</ul>
<p>Method and uncertainty: <a href="FOOTPRINT.md">FOOTPRINT.md</a>.</p>
</body></html>
"""
    return page.encode()


def _figure_bytes(fig: object) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return buffer.getvalue()


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def savings_png(records: Sequence[EvidenceRecord]) -> bytes:
    """Cumulative gCO2e saved over time, timing and efficiency stacked (efficiency against the mean baseline run)."""
    from greenai.domain.timeutil import parse_utc
    from greenai.reporting.figures import by_mode, timing_saving_kg

    plt = _pyplot()
    ordered = sorted(records, key=lambda r: (r.finished_utc, r.run_id))
    baseline = by_mode(records).get("baseline")
    timing, efficiency = [0.0], [0.0]
    for r in ordered:
        timing.append(timing[-1] + (timing_saving_kg(r) or 0.0) * 1000)
        gain = (baseline.mean_kwh - r.kWh) * r.intensity_gco2_kwh if (
            r.phase == "optimized" and baseline is not None and r.task == "train") else 0.0
        efficiency.append(efficiency[-1] + gain)
    fig, ax = plt.subplots(figsize=(9, 4))
    runs = list(range(len(ordered) + 1))
    ax.stackplot(runs, timing, efficiency, labels=["timing (ran greener than at submission)",
                                                   "efficiency (optimized vs mean baseline energy)"],
                 colors=["#1971c2", "#2b8a3e"], alpha=0.85)
    ax.set_xlim(0, max(len(ordered), 1))
    ax.xaxis.get_major_locator().set_params(integer=True)
    span = f"{parse_utc(ordered[0].finished_utc):%Y-%m-%d} to {parse_utc(ordered[-1].finished_utc):%Y-%m-%d}" if ordered else ""
    ax.set_xlabel(f"runs in order of completion ({span})")
    ax.set_ylabel("cumulative gCO2e saved")
    ax.set_title(f"Savings over {len(ordered)} runs: {timing[-1]:.3g} g from timing, "
                 f"{efficiency[-1]:.3g} g from efficiency (against starting at submission / the baseline)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return _figure_bytes(fig)


def intensity_timeline_png(records: Sequence[EvidenceRecord], decisions: Sequence[DecisionRecord],
                           actuals: dict[str, list[tuple[datetime, float]]] | None = None, jobs: int = 4) -> bytes:
    """For recent jobs: the forecast at submission and at dispatch, the actual intensity, and the job's milestones."""
    from datetime import timedelta

    from greenai.domain.timeutil import parse_utc

    plt = _pyplot()
    trained = sorted((r for r in records if r.task == "train"), key=lambda r: r.timestamp_utc, reverse=True)[:jobs]
    fig, axes = plt.subplots(max(len(trained), 1), 1, figsize=(10, 2.8 * max(len(trained), 1)), squeeze=False)
    for ax, r in zip(axes[:, 0], trained, strict=False):
        mine = sorted((d for d in decisions if d.job_id == r.job_id), key=lambda d: d.at_utc)
        submitted, deadline = parse_utc(r.submitted_utc), parse_utc(r.deadline_utc)
        started, finished = parse_utc(r.timestamp_utc), parse_utc(r.finished_utc)
        for decision, style, label in ((mine[0] if mine else None, ":", "forecast at submission"),
                                       (mine[-1] if len(mine) > 1 else None, "--", "forecast at dispatch")):
            if decision is None or not decision.forecast:
                continue
            points = [(parse_utc(str(p["from"])), float(p["forecast"])) for p in decision.forecast]  # type: ignore[arg-type]
            points = [(t, v) for t, v in points if t <= deadline]
            ax.step([t for t, _ in points], [v for _, v in points], style, where="post", label=label, color="#495057")
        series = (actuals or {}).get(r.job_id)
        if series:
            ax.step([t for t, _ in series], [v for _, v in series], where="post", color="#e03131", label="actual")
        planned = next((parse_utc(d.planned_start_utc) for d in reversed(mine) if d.action == "wait"), None)
        if planned is not None:
            minutes = float((r.details or {}).get("expected_minutes", 15))
            ax.axvspan(planned, planned + timedelta(minutes=minutes), color="#a9e34b", alpha=0.5, label="last planned window")
        ax.axvspan(started, max(finished, started + timedelta(minutes=5)), color="#1971c2", alpha=0.8, label="actual run")
        ax.axvline(submitted, color="#f08c00", label="submitted")
        ax.axvline(deadline, color="#212529", label="deadline")
        ax.set_title(f"{r.job_id} ({r.phase}): ran at {r.intensity_gco2_kwh:.0f} g/kWh vs "
                     f"{r.run_now_intensity_gco2_kwh or float('nan'):.0f} had it started at submission", fontsize=9)
        ax.set_ylabel("gCO2/kWh")
        ax.legend(fontsize=7, loc="lower left", ncol=4)
    if not trained:
        axes[0, 0].text(0.5, 0.5, "no runs yet", ha="center", va="center")
    fig.autofmt_xdate()
    fig.tight_layout()
    return _figure_bytes(fig)
