"""Clocks: the system clock on Lambda, a simulated one for replays; the process-wide current clock is injectable."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from greenai.domain.timeutil import UTC
from greenai.ports import Clock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to: a replayed day runs in seconds."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


_current: Clock = SystemClock()


def current_clock() -> Clock:
    """The clock handlers use: the system clock unless a local runtime installed a simulated one."""
    return _current


def use_clock(clock: Clock) -> None:
    global _current
    _current = clock
