"""CodeCarbon's OfflineEmissionsTracker set up for Lambda: /tmp only, no network, no silent None, method named.

Only this module imports codecarbon, and only when a measurement starts, so the check function never pays for it.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from greenai.domain.footprint import AWS_PUE

T = TypeVar("T")

# What CodeCarbon's CPU modes mean, for the energy_method column.
_CPU_METHODS = {
    "intel_rapl": "RAPL (measured)",
    "intel_power_gadget": "Intel Power Gadget (measured)",
    "windows_emi": "Windows EMI (measured)",
    "cpu_load": "CPU load x TDP model (estimated: no RAPL)",
    "constant": "constant TDP (estimated: no RAPL, CPU unknown)",
}


class MeasurementError(RuntimeError):
    """CodeCarbon produced no usable result: never reported as zero energy."""


@dataclass(frozen=True)
class Measurement:
    """Energy of the measured block and how it was obtained."""

    kwh: float  # CodeCarbon's total, PUE applied
    cpu_kwh: float
    ram_kwh: float
    gpu_kwh: float
    runtime_s: float
    cpu_utilisation: float  # process CPU seconds / (wall seconds × visible CPUs), 0..1
    energy_method: str
    cpu_model: str
    pue: float


def _prepare_lambda_environment() -> str:
    """Lambda's file system is read-only but for /tmp; CodeCarbon wants a writable HOME and output dir."""
    writable = os.environ.get("GREENAI_TMP_DIR", "/tmp")
    if not os.environ.get("HOME") or not os.access(os.environ["HOME"], os.W_OK):
        os.environ["HOME"] = writable
    return writable


def _energy_method(tracker: Any) -> str:
    parts = []
    for hardware in getattr(tracker, "_hardware", []):
        kind = type(hardware).__name__
        if kind == "CPU":
            parts.append("CPU: " + _CPU_METHODS.get(getattr(hardware, "_mode", ""), str(getattr(hardware, "_mode", "?"))))
        elif kind == "GPU":
            parts.append("GPU: NVML (measured)")
        elif kind == "RAM":
            parts.append("RAM: CodeCarbon RAM power model (estimated)")
    return "codecarbon " + "; ".join(parts) if parts else "codecarbon (hardware unknown)"


_warmed_up = False


def _warm_up(options: dict[str, Any]) -> None:
    """The first tracker in a process spends 1-2 s finding the hardware; do that once, outside any measured run, so
    the first run of a cold start is not measured differently from the next ones."""
    global _warmed_up
    if _warmed_up:
        return
    from codecarbon import OfflineEmissionsTracker

    tracker = OfflineEmissionsTracker(**options)
    tracker.start()
    tracker.stop()
    _warmed_up = True


def measure(work: Callable[[], T], *, intensity_gco2_kwh: float | None = None, country_iso_code: str = "GBR",
            measure_power_secs: float = 0.1) -> tuple[T, Measurement]:
    """Run `work` under an OfflineEmissionsTracker; raise MeasurementError rather than report a missing result."""
    from codecarbon import OfflineEmissionsTracker  # heavy (pandas): imported only where energy is measured

    output_dir = _prepare_lambda_environment()
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    options: dict[str, Any] = {
        "country_iso_code": country_iso_code,
        "save_to_file": False,
        "output_dir": output_dir,
        "measure_power_secs": measure_power_secs,
        "log_level": "error",
        "tracking_mode": "process",
        "pue": AWS_PUE,
        "allow_multiple_runs": True,
    }
    if intensity_gco2_kwh is not None:
        options["force_carbon_intensity_g_co2e_kwh"] = float(intensity_gco2_kwh)
    _warm_up(options)
    tracker = OfflineEmissionsTracker(**options)
    tracker.start()
    # Timed from after start(): the first tracker in a process spends 1-2 s starting up, which is not the work's.
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_start = time.perf_counter()
    try:
        result = work()
    finally:
        wall_s = time.perf_counter() - wall_start
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        emissions = tracker.stop()
    data = getattr(tracker, "final_emissions_data", None)
    if emissions is None or data is None or data.energy_consumed is None:
        raise MeasurementError("CodeCarbon returned no result (tracker failed to start or to write its output)")
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    cpus = os.cpu_count() or 1
    return result, Measurement(
        kwh=float(data.energy_consumed),
        cpu_kwh=float(data.cpu_energy or 0.0),
        ram_kwh=float(data.ram_energy or 0.0),
        gpu_kwh=float(data.gpu_energy or 0.0),
        runtime_s=wall_s,
        cpu_utilisation=min(cpu_s / (wall_s * cpus), 1.0) if wall_s > 0 else 0.0,
        energy_method=_energy_method(tracker),
        cpu_model=str(getattr(data, "cpu_model", "") or "unknown"),
        pue=float(getattr(data, "pue", AWS_PUE) or AWS_PUE),
    )
