"""Footprint arithmetic: the Cloud Carbon Footprint model for Lambda and SageMaker instances, embodied carbon and the SCI score (pure).

Coefficients are Cloud Carbon Footprint's published AWS figures (cloud-carbon-footprint.org methodology); each is a
named constant so the report can print what it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

LAMBDA_MB_PER_VCPU = 1769.0  # Lambda allocates one full vCPU at 1,769 MB
CCF_MIN_WATTS_PER_VCPU = {"x86_64": 0.74, "arm64": 0.47}  # AWS average / Graviton
CCF_MAX_WATTS_PER_VCPU = {"x86_64": 3.5, "arm64": 1.69}
CCF_MEMORY_KWH_PER_GB_HOUR = 0.000392
AWS_PUE = 1.135
# Embodied emissions: CCF's approach — a typical m5 host, 1.2 tCO2e over 96 vCPUs, written off over 4 years.
EMBODIED_PLATFORM_KGCO2E = 1200.0
EMBODIED_PLATFORM_VCPUS = 96.0
EMBODIED_LIFESPAN_S = 4 * 365.25 * 24 * 3600
# AWS's reported water usage effectiveness for its data centres (litres per kWh of IT energy), 2023.
AWS_WUE_L_PER_KWH = 0.18


class MachineShape(Protocol):
    """What a run was given, as the footprint needs it: Lambda's memory share or SageMaker instances."""

    @property
    def vcpus(self) -> float: ...

    @property
    def memory_mb(self) -> int: ...

    @property
    def ccf_model(self) -> str: ...

    def describe(self) -> str: ...

    def ccf_kwh(self, runtime_s: float, cpu_utilisation: float) -> float: ...


@dataclass(frozen=True)
class LambdaShape:
    """What a run was given: memory, architecture and so the vCPU share."""

    memory_mb: int
    architecture: str = "x86_64"

    @property
    def vcpus(self) -> float:
        return self.memory_mb / LAMBDA_MB_PER_VCPU

    def describe(self) -> str:
        return f"AWS Lambda {self.architecture} {self.memory_mb} MB ({self.vcpus:.2f} vCPU)"

    @property
    def ccf_model(self) -> str:
        return "Cloud Carbon Footprint Lambda model (estimated)"

    def ccf_kwh(self, runtime_s: float, cpu_utilisation: float) -> float:
        return ccf_lambda_kwh(self, runtime_s, cpu_utilisation)


def _ccf_compute_and_memory_kwh(vcpus: float, memory_gb: float, architecture: str, runtime_s: float,
                                cpu_utilisation: float) -> float:
    """CCF's compute (per-vCPU watts between idle and full, by utilisation) plus memory, before PUE."""
    util = min(max(cpu_utilisation, 0.0), 1.0)
    arch = architecture if architecture in CCF_MIN_WATTS_PER_VCPU else "x86_64"
    low, high = CCF_MIN_WATTS_PER_VCPU[arch], CCF_MAX_WATTS_PER_VCPU[arch]
    hours = runtime_s / 3600.0
    return vcpus * (low + util * (high - low)) * hours / 1000.0 + memory_gb * hours * CCF_MEMORY_KWH_PER_GB_HOUR


def ccf_lambda_kwh(shape: LambdaShape, runtime_s: float, cpu_utilisation: float, pue: float = AWS_PUE) -> float:
    """Cloud Carbon Footprint's energy estimate for a Lambda run, PUE included."""
    return _ccf_compute_and_memory_kwh(shape.vcpus, shape.memory_mb / 1024.0, shape.architecture, runtime_s,
                                       cpu_utilisation) * pue


def embodied_kgco2e(runtime_s: float, vcpus_reserved: float) -> float:
    """SCI's M: total embodied × share of lifespan reserved × share of the platform reserved."""
    time_share = runtime_s / EMBODIED_LIFESPAN_S
    resource_share = min(vcpus_reserved / EMBODIED_PLATFORM_VCPUS, 1.0)
    return EMBODIED_PLATFORM_KGCO2E * time_share * resource_share


def operational_kgco2e(kwh: float, intensity_gco2_kwh: float) -> float:
    """E × I, in kg."""
    return kwh * intensity_gco2_kwh / 1000.0


def sci_kgco2e_per_unit(kwh: float, intensity_gco2_kwh: float, embodied_kg: float, units: float = 1.0) -> float:
    """SCI = (E × I + M) / R."""
    if units <= 0:
        raise ValueError("functional units must be positive")
    return (operational_kgco2e(kwh, intensity_gco2_kwh) + embodied_kg) / units


def water_litres(kwh: float) -> float:
    """On-site water estimated from energy with AWS's reported WUE (an estimate, labelled as such in notes)."""
    return kwh * AWS_WUE_L_PER_KWH


# GPU power: CCF's AWS model covers CPU and memory only, so GPUs use the maker's board power (TDP) at full load and
# 10% of it at idle — greenai's stated assumption, printed with every figure it feeds.
GPU_IDLE_SHARE_OF_TDP = 0.10


@dataclass(frozen=True)
class InstanceShape:
    """A SageMaker training instance (or several): what the CCF model prices instead of Lambda's memory share."""

    instance_type: str
    vcpus_per_instance: int
    memory_gb_per_instance: float
    gpus_per_instance: int = 0
    gpu_model: str = ""
    gpu_tdp_watts: float = 0.0
    count: int = 1
    architecture: str = "x86_64"

    @property
    def vcpus(self) -> float:
        return float(self.vcpus_per_instance * self.count)

    @property
    def memory_mb(self) -> int:
        return int(self.memory_gb_per_instance * 1024 * self.count)

    @property
    def gpus(self) -> int:
        return self.gpus_per_instance * self.count

    def describe(self) -> str:
        gpu = f", {self.gpus_per_instance}x {self.gpu_model}" if self.gpus_per_instance else ""
        return (f"SageMaker {self.count}x {self.instance_type} ({self.vcpus_per_instance} vCPU, "
                f"{self.memory_gb_per_instance:g} GiB{gpu})")

    @property
    def ccf_model(self) -> str:
        gpu = f" + GPU board power ({GPU_IDLE_SHARE_OF_TDP:.0%} idle .. TDP)" if self.gpus_per_instance else ""
        return f"Cloud Carbon Footprint instance model{gpu} (estimated)"

    def ccf_kwh(self, runtime_s: float, cpu_utilisation: float, gpu_utilisation: float | None = None,
                pue: float = AWS_PUE) -> float:
        """CCF's compute + memory estimate for every instance of the job, plus the GPU board-power model above. The GPU
        counts as idle unless its utilisation is given: the scikit-learn pipelines never use it (a GPU workload's
        energy is CodeCarbon's NVML figure, in kWh)."""
        gpu_util = 0.0 if gpu_utilisation is None else min(max(gpu_utilisation, 0.0), 1.0)
        idle = GPU_IDLE_SHARE_OF_TDP * self.gpu_tdp_watts
        gpu_kwh = self.gpus * (idle + gpu_util * (self.gpu_tdp_watts - idle)) * runtime_s / 3600.0 / 1000.0
        cpu_memory_kwh = _ccf_compute_and_memory_kwh(self.vcpus, self.memory_gb_per_instance * self.count,
                                                     self.architecture, runtime_s, cpu_utilisation)
        return (cpu_memory_kwh + gpu_kwh) * pue
