"""Cooldown math for one auth profile (or one (profile, model) scope). Pure functions.

Two kinds of "not usable": a *cooldown* (transient trouble: 30 s, 60 s, then 5 min) and a
*disable* (billing: 5 h doubling to 24 h; revoked/invalid key: 10 min doubling to 60 min).
A cooling profile may get one throttled recovery probe (at most every 30 s) so a recovered
provider is used again before the window ends; a disabled profile gets no probe: a billing
or key problem needs a human, and probing it only burns requests.
Times are epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from orion.reliability.errors import ErrorClass

COOLDOWN_STEPS_S: tuple[float, ...] = (30.0, 60.0, 300.0)
FAILURE_WINDOW_S = 24 * 3600.0  # counters reset after this long without a failure
BILLING_DISABLE_S = 5 * 3600.0
BILLING_DISABLE_CAP_S = 24 * 3600.0
AUTH_PERMANENT_DISABLE_S = 10 * 60.0
AUTH_PERMANENT_DISABLE_CAP_S = 60 * 60.0
PROBE_INTERVAL_S = 30.0

COOLING_CLASSES: frozenset[ErrorClass] = frozenset(
    {
        ErrorClass.AUTH,
        ErrorClass.RATE_LIMIT,
        ErrorClass.OVERLOADED,
        ErrorClass.TIMEOUT,
        ErrorClass.NETWORK,
        ErrorClass.SERVER,
        ErrorClass.UNKNOWN,
        ErrorClass.MODEL_NOT_FOUND,
    }
)


@dataclass(frozen=True)
class CooldownSchedule:
    cooldown_steps_s: tuple[float, ...] = COOLDOWN_STEPS_S
    failure_window_s: float = FAILURE_WINDOW_S
    billing_disable_s: float = BILLING_DISABLE_S
    billing_disable_cap_s: float = BILLING_DISABLE_CAP_S
    auth_permanent_disable_s: float = AUTH_PERMANENT_DISABLE_S
    auth_permanent_disable_cap_s: float = AUTH_PERMANENT_DISABLE_CAP_S
    probe_interval_s: float = PROBE_INTERVAL_S

    def __post_init__(self) -> None:
        if not self.cooldown_steps_s or min(self.cooldown_steps_s) <= 0:
            raise ValueError("cooldown_steps_s must be a non-empty tuple of positive seconds")


DEFAULT_SCHEDULE = CooldownSchedule()


@dataclass(frozen=True)
class CooldownState:
    error_count: int = 0
    cooldown_until: float | None = None
    disabled_until: float | None = None
    reason: str = ""
    last_failure_at: float | None = None
    last_probe_at: float | None = None
    billing_disable_count: int = 0  # billing disables in a row: 5 h doubling to 24 h
    revoked_disable_count: int = 0  # revoked-key disables in a row: 10 min doubling to 60 min


def record_failure(
    state: CooldownState,
    error_class: ErrorClass,
    *,
    now: float,
    schedule: CooldownSchedule = DEFAULT_SCHEDULE,
    retry_after: float | None = None,
) -> CooldownState:
    """The state after a failure of `error_class` at `now`: apply this *event* to the
    row's current state (under its lock), never to a snapshot read earlier.

    Request-level classes (context_overflow, content_policy, format) are not the
    profile's fault and leave the state unchanged. An active cooldown is never extended.
    A new cooldown lasts the schedule's step, or the server's `retry_after` when that is
    longer (up to the last step, the cap). Billing and revoked-key disables double on
    their own counters. Counters reset after `failure_window_s` without failure, counted
    from the last failure or the end of a disable, whichever is later (a 24 h disable is
    not 24 h of quiet: a key that keeps failing stays at the cap until it succeeds).
    """
    if error_class not in COOLING_CLASSES and error_class not in (
        ErrorClass.BILLING,
        ErrorClass.AUTH_PERMANENT,
    ):
        return state
    quiet_since = max(
        (t for t in (state.last_failure_at, state.disabled_until) if t is not None), default=None
    )
    if quiet_since is not None and now - quiet_since >= schedule.failure_window_s:
        state = replace(state, error_count=0, billing_disable_count=0, revoked_disable_count=0)
    state = replace(state, reason=str(error_class), last_failure_at=now, last_probe_at=now)
    if error_class in COOLING_CLASSES:
        count = state.error_count + 1
        until = state.cooldown_until
        if until is None or until <= now:  # an active cooldown is never extended
            steps = schedule.cooldown_steps_s
            window = steps[min(count, len(steps)) - 1]
            if retry_after is not None and retry_after > window:
                window = min(retry_after, max(steps))
            until = now + window
        return replace(state, error_count=count, cooldown_until=until)
    if error_class is ErrorClass.BILLING:
        count = state.billing_disable_count + 1
        window = min(
            schedule.billing_disable_s * 2 ** min(count - 1, 32), schedule.billing_disable_cap_s
        )
        state = replace(state, billing_disable_count=count)
    else:
        count = state.revoked_disable_count + 1
        window = min(
            schedule.auth_permanent_disable_s * 2 ** min(count - 1, 32),
            schedule.auth_permanent_disable_cap_s,
        )
        state = replace(state, revoked_disable_count=count)
    until = now + window
    if state.disabled_until is not None and state.disabled_until > until:
        until = state.disabled_until  # never shorten a disable
    return replace(state, disabled_until=until)


def record_success(state: CooldownState) -> CooldownState:
    """A success clears everything: counters, cooldown and disable."""
    return CooldownState()


def is_cooling(state: CooldownState, *, now: float) -> bool:
    return state.cooldown_until is not None and state.cooldown_until > now


def is_disabled(state: CooldownState, *, now: float) -> bool:
    return state.disabled_until is not None and state.disabled_until > now


def is_usable(state: CooldownState, *, now: float) -> bool:
    return not is_cooling(state, now=now) and not is_disabled(state, now=now)


def probe_allowed(
    state: CooldownState, *, now: float, probe_interval: float = PROBE_INTERVAL_S
) -> bool:
    """May a cooling (not disabled) state be tried once now? False when usable anyway."""
    if not is_cooling(state, now=now) or is_disabled(state, now=now):
        return False
    return state.last_probe_at is None or now - state.last_probe_at >= probe_interval


def mark_probe(state: CooldownState, *, now: float) -> CooldownState:
    """The state once a recovery probe was claimed at `now`."""
    return replace(state, last_probe_at=now)


def expires_at(state: CooldownState) -> float | None:
    """When the cooldown and the disable are both over (None if neither was ever set)."""
    times = [t for t in (state.cooldown_until, state.disabled_until) if t is not None]
    return max(times) if times else None


def next_try_at(
    state: CooldownState, *, now: float, probe_interval: float = PROBE_INTERVAL_S
) -> float:
    """The earliest time this state lets a walker try: `now`, a probe slot, or expiry."""
    at = now
    if state.disabled_until is not None and state.disabled_until > now:
        at = state.disabled_until
    if state.cooldown_until is not None and state.cooldown_until > at:
        probe_at = at if state.last_probe_at is None else state.last_probe_at + probe_interval
        at = max(at, min(state.cooldown_until, probe_at))
    return at
