"""Backtesting: score the planning policies — the same code the check function runs — on intensity history."""
