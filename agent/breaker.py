"""A circuit breaker for the chat model provider, shared by every conversation.

A provider that accepts connections and never answers costs each turn its
whole model budget. Once it has shown that (one call the caller reports as
timed out) or failed `failures` calls in a row, the breaker opens: turns
skip the provider and go straight to the fallback, without waiting. After
`cooldown_s` it half-opens and lets one probe call through (with a short
deadline, `probe_timeout_s`); a probe that succeeds closes the breaker, one
that fails opens it for another cool-down. Other turns keep skipping the
provider while the probe is out.

The breaker judges whether the provider answers, not whether it likes the
request: a 4xx the provider sends back counts as an answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Admission(StrEnum):
    """How a call may go to the provider: a normal call, or the half-open probe."""

    CALL = "call"
    PROBE = "probe"


class CircuitBreaker:
    """Closed -> open (after failures or a timeout) -> half-open (one probe) -> closed."""

    def __init__(
        self,
        *,
        failures: int = 3,
        cooldown_s: float = 30.0,
        probe_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.failures = max(1, failures)
        self.cooldown_s = cooldown_s
        self.probe_timeout_s = probe_timeout_s
        self._clock = clock
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker whose cool-down has passed reads as half-open."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.cooldown_s:
            return BreakerState.HALF_OPEN
        return self._state

    def admit(self) -> Admission | None:
        """May a call go to the provider now? None means: use the fallback, don't wait."""
        if self._state is BreakerState.CLOSED:
            return Admission.CALL
        if self.state is BreakerState.HALF_OPEN and self._state is BreakerState.OPEN:
            self._set(BreakerState.HALF_OPEN)  # this caller carries the one probe
            return Admission.PROBE
        return None

    def succeeded(self) -> None:
        """The provider answered: reset the count and close."""
        self._consecutive = 0
        self._set(BreakerState.CLOSED)

    def failed(self, *, timed_out: bool = False) -> None:
        """A call failed for good; `timed_out`: it used up its deadline (the provider hung)."""
        self._consecutive += 1
        if timed_out or self._consecutive >= self.failures or self._state is BreakerState.HALF_OPEN:
            self._open()

    def abandoned(self, admission: Admission) -> None:
        """A call was cancelled before it could tell; a probe's slot goes back (open, cool-down passed)."""
        if admission is Admission.PROBE and self._state is BreakerState.HALF_OPEN:
            self._set(BreakerState.OPEN)  # _opened_at is unchanged: the next caller probes again

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        changed = state is not self._state
        self._state = state
        if changed and self._on_change is not None:
            self._on_change(state)
