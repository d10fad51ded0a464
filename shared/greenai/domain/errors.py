"""The one error bad user input raises, naming the field to fix (re-exported by domain.jobs)."""

from __future__ import annotations


class ValidationError(ValueError):
    """Bad user input; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
