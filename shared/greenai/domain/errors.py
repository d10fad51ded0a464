"""Errors the domain names: bad user input (naming the field to fix; re-exported by domain.jobs), and a runner's
refusal of a job it will never take as it stands."""

from __future__ import annotations


class ValidationError(ValueError):
    """Bad user input; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DispatchRefused(Exception):
    """The runner will never take this job as it is (bad input it only sees at dispatch, a quota of zero): the job
    fails with the reason instead of going back to the queue to be refused again at every check."""
