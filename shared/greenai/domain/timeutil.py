"""UTC time helpers shared by the domain: parsing ISO-8601, formatting, half-hour alignment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# datetime.UTC is 3.11+; this module also runs in SageMaker's scikit-learn image (Python 3.10).
UTC = timezone.utc  # noqa: UP017

HALF_HOUR = timedelta(minutes=30)


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 timestamp ('2023-03-15T08:00Z', '+00:00' or naive = UTC) into an aware UTC datetime."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"not a timestamp: {text!r}")
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """Format as 'YYYY-MM-DDThh:mm:ssZ' (seconds kept, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_half_hour(moment: datetime) -> datetime:
    """The start of the half-hour slot that contains `moment`."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=30 if moment.minute >= 30 else 0, second=0, microsecond=0)
