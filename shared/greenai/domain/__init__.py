"""The pure domain: jobs, forecasts, planning policies and footprint arithmetic (no I/O, no AWS)."""
