"""Profiles: which rule set is in force, the seeds' (2023) or today's platform's.

A profile is the outermost choice of the specification. It fixes the values the rule set
gives outright (the interactive window, the unused-session timeout, the default and upper
bound of ``max_time``) and says which interpretation points are open in it, which it fixes
to one option and which do not arise in it at all; it may add points of its own. The
lifecycle declaration (:mod:`model.spec.lifecycles`) selects its states, transitions and
timers by profile, and :class:`model.spec.interpretations.Interpretation` carries the
profile with its choices, so every reader of an interpretation reads the profile too.

``seeds`` is the default: under it every trace, diagram and message is what it was before
profiles existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

SEEDS: Literal["seeds"] = "seeds"
PLATFORM: Literal["platform"] = "platform"


class ProfileError(ValueError):
    """A profile name the catalogue does not know."""


@dataclass(frozen=True)
class Profile:
    """One rule set's fixed values and the interpretation points open in it.

    ``points`` are the points a user chooses within the profile (in catalogue order is not
    required; the catalogue's order is kept wherever they are listed); ``fixed`` maps a point
    to the one option the profile's own rules settle; a point in neither does not arise under
    the profile (its typed policy value is the point's default, which no code under the
    profile reads).
    """

    name: str
    title: str
    doc: str
    interactive_timeout: float
    """The interactive window in seconds (TTL-INTERACTIVE-VALUE, PLATFORM-ITTL-60S)."""
    unused_timeout: float | None
    """Seconds without a submitted job after which a session closes by itself (None: never)."""
    default_max_time: str
    """How a session's max_time is chosen when the client gives none (prose; the engine reads the points)."""
    upper_max_time: str
    """The upper bound of an explicit max_time (prose; the backend's system_max_time is the number)."""
    points: tuple[str, ...]
    fixed: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))
        overlap = set(self.points) & set(self.fixed)
        if overlap:
            raise AssertionError(f"profile {self.name}: points both open and fixed: {sorted(overlap)}")

    def arises(self, point_id: str) -> bool:
        """Whether the point is open or fixed under this profile (else it does not arise in it)."""
        return point_id in self.points or point_id in self.fixed


_SEED_POINTS = (
    "INT-MAXTIME-DEFAULT", "INT-MAXTIME-UPPER-BOUND", "INT-MAXTIME-JOB-BOUND", "INT-EXPIRY-TIE",
    "INT-IDLE-DEVICE", "INT-OTHER-SESSION-JOB", "INT-EXPIRY-RUNNING-JOB", "INT-CLOSE-RUNNING-JOB",
    "INT-FIRST-JOB-CANCEL", "INT-INTERACTIVE-WINDOW",
    "INT-FIRST-JOB-FAILURE", "INT-SIMULATOR-MAXTIME", "INT-MAXTIME-CLOCK", "INT-DEADLINE-REQUEST",
)

PROFILES: dict[str, Profile] = {
    SEEDS: Profile(
        SEEDS,
        "the seeds (2023)",
        "Sessions as the two seed documents describe them: close fails unfinished jobs, a fixed "
        "five-minute interactive window, no unused-session timeout, no session cancel.",
        interactive_timeout=300.0,
        unused_timeout=None,
        default_max_time="INT-MAXTIME-DEFAULT (the system limit, or the first job's)",
        upper_max_time="the backend's system max_time (INT-MAXTIME-UPPER-BOUND)",
        points=_SEED_POINTS,
    ),
    PLATFORM: Profile(
        PLATFORM,
        "today's platform",
        "Sessions as IBM's documentation describes them since 2024: close stops accepting jobs and "
        "drains them, cancel_session cancels the queued ones, a 60 s interactive window after each "
        "job, an unused session closes after 30 minutes, at max_time running jobs finish.",
        interactive_timeout=60.0,
        unused_timeout=1800.0,
        default_max_time="the backend's system max_time (8 h on paid plans)",
        upper_max_time="the backend's system max_time, inclusive",
        points=(
            "INT-EXPIRY-TIE", "INT-CANCEL-RUNNING-JOB", "INT-PLATFORM-FIRST-JOB-CANCEL", "INT-EXECUTION-LANES",
        ),
        fixed={
            "INT-MAXTIME-DEFAULT": "system_limit",
            "INT-MAXTIME-UPPER-BOUND": "inclusive",
            "INT-MAXTIME-JOB-BOUND": "allow",
            "INT-IDLE-DEVICE": "hold",
            "INT-EXPIRY-RUNNING-JOB": "finish",
            "INT-INTERACTIVE-WINDOW": "session_idle",
        },
    ),
}
"""Every profile by name; the first is the default."""

DEFAULT_PROFILE = SEEDS
PROFILE_NAMES: tuple[str, ...] = tuple(PROFILES)


def profile(name: str) -> Profile:
    """The profile of that name; an unknown name raises :class:`ProfileError` listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ProfileError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
