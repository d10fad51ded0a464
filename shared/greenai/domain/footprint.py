"""Footprint arithmetic: the Cloud Carbon Footprint model for Lambda, embodied carbon and the SCI score (pure).

Coefficients are Cloud Carbon Footprint's published AWS figures (cloud-carbon-footprint.org methodology); each is a
named constant so the report can print what it used.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def ccf_lambda_kwh(shape: LambdaShape, runtime_s: float, cpu_utilisation: float, pue: float = AWS_PUE) -> float:
    """Cloud Carbon Footprint's energy estimate for a Lambda run, PUE included."""
    util = min(max(cpu_utilisation, 0.0), 1.0)
    arch = shape.architecture if shape.architecture in CCF_MIN_WATTS_PER_VCPU else "x86_64"
    low, high = CCF_MIN_WATTS_PER_VCPU[arch], CCF_MAX_WATTS_PER_VCPU[arch]
    hours = runtime_s / 3600.0
    compute_kwh = shape.vcpus * (low + util * (high - low)) * hours / 1000.0
    memory_kwh = (shape.memory_mb / 1024.0) * hours * CCF_MEMORY_KWH_PER_GB_HOUR
    return (compute_kwh + memory_kwh) * pue


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
