"""What the scoring model reads, as typed values and as the explanation's data.

The contract between the database side (compute.py) and the pure model
(scoring.py). Everything here is already filtered to current records of the
period, as PRODUCT.md §3 defines each dimension's population, and carries only
what scoring needs. `serialise` writes it as JSON values (the explanation's
data) and `deserialise` reads them back exactly: dates as ISO text, decimals as
their exact text, counts as integers; so a stored scorecard rescores to its values.
"""

import operator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from relationships.scoring_config import DEFAULTS, ScoringConfigValues


@dataclass(frozen=True)
class ContactInput:
    """Check-ins over the contact span: from span_start to as_of (inclusive)."""

    span_start: date  # the later of P's first day and the engagement's start
    cadence_days: int
    held: int  # distinct engagement-local days with a check-in within the span
    last_checkin_on: date | None  # latest check-in on or before as_of, ever (contact_gap)


@dataclass(frozen=True)
class SlaInput:
    """One SLA with current measurements whose period start is in P."""

    sla_id: int
    name: str
    side: str  # the owner: "client" | "provider"
    direction: str  # "higher_is_better" | "lower_is_better"
    target: Decimal
    weight: Decimal
    unit: str
    measurements: int  # current measurements with period start in P (>= 1)
    met: int  # of those, meeting target
    disputed: int = 0  # of those, under an open dispute by the owner (they still count)


@dataclass(frozen=True)
class GoalInput:
    """A goal in the alignment population (not cancelled, started on or before as_of, ...)."""

    goal_id: int
    title: str
    start_date: date
    due_date: date
    achieved_on: date | None
    latest_percent: int | None  # latest progress reported on or before as_of


@dataclass(frozen=True)
class RatioInput:
    """`hits` of `total` (>= 1): transparency (raised by self of issues) or dedication
    (on time of due)."""

    hits: int
    total: int


@dataclass(frozen=True)
class PulseInput:
    """A side's published responses for P (feedback.selectors.survey_publications): how many
    people and the sum of their answers. Nothing about an unpublished side is an input."""

    respondents: int
    answer_total: int  # sum over responses of the six answers
    # For the explanation's wording only (PRODUCT.md §8: not scored in model v1), and only
    # what the survey report publishes: the side's relationship NPS answers (promoters,
    # passives, detractors), and per statement its prediction of the other side's rating of
    # it beside that rating: (prediction sum, predictions, rating sum, ratings).
    nps: tuple[int, int, int] | None = None
    mirror: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class PreviousScore:
    """The previous period's stored overall and band, for trend and drop alerts."""

    overall: Decimal | None
    band: str


@dataclass(frozen=True)
class EngagementInputs:
    name: str
    as_of: date
    contact: ContactInput
    slas: tuple[SlaInput, ...] = ()
    transparency: dict[str, RatioInput] = field(default_factory=dict)  # by responsible side
    dedication: dict[str, RatioInput] = field(default_factory=dict)  # by owner side
    goals: tuple[GoalInput, ...] = ()
    pulse: dict[str, PulseInput] = field(default_factory=dict)  # by respondent side
    # P was closed when read (PRODUCT.md §6): its scorecard is final, its survey published.
    final: bool = True
    survey_threshold: int = DEFAULTS.survey_threshold  # in force for P


# The order in which SLAs and goals are explained (and serialised).
SLA_ORDER = operator.attrgetter("side", "name", "sla_id")
GOAL_ORDER = operator.attrgetter("due_date", "goal_id")


def _day(value: date | None) -> str | None:
    return value and value.isoformat()


def _from_day(text: str | None) -> date | None:
    return text and date.fromisoformat(text)


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)  # a Decimal 0 is false


def _decimal(text: str | None) -> Decimal | None:
    return text and Decimal(text)


def _sla_data(sla: SlaInput) -> dict:
    data = {**vars(sla), "target": str(sla.target), "weight": str(sla.weight)}
    if not sla.disputed:
        # Absent rather than 0, as in explanations stored before disputes: the inputs of a
        # period without disputes keep their digest, so its signed scorecard stays signed.
        del data["disputed"]
    return data


def _pulse_data(pulse: PulseInput) -> dict:
    # Absent rather than empty, as in explanations stored before the survey's version 2: a
    # period answered without mirrors or NPS keeps its digest, so its signature stays.
    data = {"respondents": pulse.respondents, "answer_total": pulse.answer_total}
    if pulse.nps:
        data["nps"] = list(pulse.nps)
    if pulse.mirror:
        data["mirror"] = {name: list(line) for name, line in sorted(pulse.mirror.items())}
    return data


def _pulse_input(data: dict) -> PulseInput:
    return PulseInput(
        respondents=data["respondents"],
        answer_total=data["answer_total"],
        nps=tuple(data["nps"]) if "nps" in data else None,
        mirror={name: tuple(line) for name, line in data.get("mirror", {}).items()},
    )


def serialise(
    inputs: EngagementInputs, config: ScoringConfigValues, previous: PreviousScore | None
) -> dict:
    """What a score is computed from, as JSON values in a fixed order: the explanation's data."""
    contact = inputs.contact
    return {
        "engagement": inputs.name,
        "as_of": inputs.as_of.isoformat(),
        "contact": {
            **vars(contact),
            "span_start": contact.span_start.isoformat(),
            "last_checkin_on": _day(contact.last_checkin_on),
        },
        "reliance": [_sla_data(s) for s in sorted(inputs.slas, key=SLA_ORDER)],
        "transparency": {side: {**vars(r)} for side, r in sorted(inputs.transparency.items())},
        "dedication": {side: {**vars(r)} for side, r in sorted(inputs.dedication.items())},
        "alignment": [
            {
                **vars(g),
                "start_date": g.start_date.isoformat(),
                "due_date": g.due_date.isoformat(),
                "achieved_on": _day(g.achieved_on),
            }
            for g in sorted(inputs.goals, key=GOAL_ORDER)
        ],
        "sentiment": {side: _pulse_data(p) for side, p in sorted(inputs.pulse.items())},
        "final": inputs.final,
        "survey_threshold": inputs.survey_threshold,
        "config": config.as_dict(),
        "previous": previous and {**vars(previous), "overall": _text(previous.overall)},
    }


def deserialise(data: dict) -> tuple[EngagementInputs, ScoringConfigValues, PreviousScore | None]:
    """`serialise`'s arguments back from its result."""
    contact = data["contact"]
    previous = data["previous"]
    inputs = EngagementInputs(
        name=data["engagement"],
        as_of=date.fromisoformat(data["as_of"]),
        contact=ContactInput(
            **{
                **contact,
                "span_start": date.fromisoformat(contact["span_start"]),
                "last_checkin_on": _from_day(contact["last_checkin_on"]),
            }
        ),
        slas=tuple(
            SlaInput(**{**s, "target": Decimal(s["target"]), "weight": Decimal(s["weight"])})
            for s in data["reliance"]
        ),
        transparency={side: RatioInput(**r) for side, r in data["transparency"].items()},
        dedication={side: RatioInput(**r) for side, r in data["dedication"].items()},
        goals=tuple(
            GoalInput(
                **{
                    **g,
                    "start_date": date.fromisoformat(g["start_date"]),
                    "due_date": date.fromisoformat(g["due_date"]),
                    "achieved_on": _from_day(g["achieved_on"]),
                }
            )
            for g in data["alignment"]
        ),
        pulse={side: _pulse_input(p) for side, p in data["sentiment"].items()},
        final=data["final"],
        survey_threshold=data["survey_threshold"],
    )
    return (
        inputs,
        ScoringConfigValues(**data["config"]),
        previous and PreviousScore(**{**previous, "overall": _decimal(previous["overall"])}),
    )
