"""An engagement's scoring configuration as a typed value, with the defaults in one place.

One of an engagement's terms (PRODUCT.md §7): the weights of the scoring model's
dimensions, the band limits, the survey threshold and the grace days a period stays
open for late records after its last day (PRODUCT.md §6). Pure: the stored overrides
live in `relationships.models.ScoringConfig`, which reads them through `config_values`.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_WEIGHTS = {
    "reliance": 30.0,
    "contact": 15.0,
    "transparency": 15.0,
    "dedication": 15.0,
    "alignment": 15.0,
    "sentiment": 10.0,
}
DIMENSIONS = tuple(DEFAULT_WEIGHTS)
BAND_LIMITS = ("healthy_at", "watch_at", "min_coverage")


@dataclass(frozen=True)
class ScoringConfigValues:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    healthy_at: float = 75.0
    watch_at: float = 50.0
    min_coverage: float = 0.4
    survey_threshold: int = 3
    grace_days: int = 5

    def as_dict(self) -> dict:
        # dataclasses.asdict recurses and deep-copies: a tenth of a recompute's time (RESULTS.md).
        return {**vars(self), "weights": dict(self.weights)}


DEFAULTS = ScoringConfigValues()


def config_values(
    weights: Mapping | None = None,
    band_limits: Mapping | None = None,
    survey_threshold: int | None = None,
    grace_days: int | None = None,
) -> ScoringConfigValues:
    """Merge an engagement's overrides with the defaults; ValueError names what is wrong."""
    merged = dict(DEFAULT_WEIGHTS)
    for name, raw in (weights or {}).items():
        if name not in DIMENSIONS:
            raise ValueError(f"Unknown dimension '{name}'; use one of {', '.join(DIMENSIONS)}.")
        merged[name] = _finite(raw, f"weight of {name}", 0, 1000)
    if sum(merged.values()) <= 0:
        raise ValueError("At least one dimension needs a weight above 0.")
    limits = {name: getattr(DEFAULTS, name) for name in BAND_LIMITS}
    for name, raw in (band_limits or {}).items():
        if name not in limits:
            raise ValueError(f"Unknown band limit '{name}'; use one of {', '.join(limits)}.")
        limits[name] = _finite(raw, name, 0, 1 if name == "min_coverage" else 100)
    if limits["watch_at"] > limits["healthy_at"]:
        raise ValueError("watch_at cannot be above healthy_at.")
    threshold = DEFAULTS.survey_threshold if survey_threshold is None else survey_threshold
    if not _whole_in(threshold, 1, 1000):
        raise ValueError("The survey threshold must be a whole number from 1 to 1000.")
    grace = DEFAULTS.grace_days if grace_days is None else grace_days
    if not _whole_in(grace, 0, 14):
        raise ValueError("The grace days must be a whole number from 0 to 14.")
    return ScoringConfigValues(
        weights=merged, survey_threshold=threshold, grace_days=grace, **limits
    )


def setting_problem(name: str, value) -> str | None:
    """What is wrong with one setting (`weights`, `band_limits`, `survey_threshold` or
    `grace_days`) taken on its own, or None: a field's error in a form or the API."""
    try:
        config_values(**{name: value})
    except (ValueError, TypeError, AttributeError) as error:
        return str(error)
    return None


def differences(old: ScoringConfigValues, new: ScoringConfigValues) -> list[tuple]:
    """What changed from `old` to `new`, as (what, old value, new value), in a fixed order."""
    changed = [
        (f"{name} weight", old.weights[name], new.weights[name])
        for name in DIMENSIONS
        if old.weights[name] != new.weights[name]
    ]
    for name in (*BAND_LIMITS, "survey_threshold", "grace_days"):
        if getattr(old, name) != getattr(new, name):
            changed.append((name.replace("_", " "), getattr(old, name), getattr(new, name)))
    return changed


def _whole_in(value, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _finite(raw, what: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"The {what} must be a number.") from None
    if isinstance(raw, bool) or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"The {what} must be a number from {low:g} to {high:g}.")
    return value
