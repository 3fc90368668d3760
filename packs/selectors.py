"""What a review pack shows (PRODUCT.md §10), defined once: `pack_content` reads it for the
print view (templates/packs/pack.html) and the PDF (packs/typst/pack.typ) alike.

The content is plain JSON values, every figure already written as text, so the two
renderings cannot differ in a number's rounding. The scorecard's figures, explanation
lines, SLA attainment, goals and check-ins come from the scorecard as stored (its
explanation's data is what it was computed from, the record both sides signed); the
rest (issues, contribution reviews, alerts, the survey report, the sign-off block) from
the selectors the period page reads.
"""

from datetime import UTC, date, timedelta
from decimal import Decimal

from django.db.models import Prefetch

from feedback.models import SURVEY_TEXTS
from feedback.selectors import contribution_reviews, survey_report
from feedback.survey_report import HIDDEN_STRENGTH
from relationships import disputes
from relationships.models import Engagement, KeyContact, Side
from relationships.people import person_name
from relationships.periods import CLOSED, MONTH, QUARTER, Period, period_starting
from relationships.scoring_config import DIMENSIONS
from relationships.selectors import contact_continuity
from scorecards.inputs import deserialise
from scorecards.models import Band, Scorecard, ScorecardReview
from scorecards.scoring import checkins_expected, day_text, goal_actual, goal_expected
from scorecards.selectors import dimensions_of, reviews_by_side, signoff_state


class NoPack(Exception):
    """There is no review pack of that period; the message says why (pages and the API
    answer 404 with it)."""


# The pack's layout version: part of each stored pack's key, so a new layout makes new files.
LAYOUT_VERSION = 2
CHART_PERIODS = 12
NONE = "–"
SIDES = dict(Side.choices)
BANDS = dict(Band.choices)


# ---------------------------------------------------------------- which periods
def pack_scope(engagement: Engagement, start: date, *, quarter: bool = False) -> Period:
    """The period a pack covers: the engagement's closed period starting on `start`, or with
    `quarter` the closed quarter starting on `start` of a monthly engagement. NoPack saying
    why there is no pack otherwise."""
    try:
        if quarter:
            if engagement.scorecard_period != MONTH:
                raise ValueError("Quarter packs are made for monthly engagements only.")
            scope = period_starting(QUARTER, start)
            # Its last month is the engagement's (begun, not before the engagement started).
            last = engagement.period_starting(scope.end.replace(day=1))
        else:
            scope = last = engagement.period_starting(start)
    except ValueError as exc:
        raise NoPack(str(exc)) from None
    if engagement.period_state(last) != CLOSED:
        raise NoPack(
            f"{scope.title} has not closed yet: its review pack is made once it has closed."
        )
    return scope


def _scorecards(engagement: Engagement, scope: Period) -> list[Scorecard]:
    """The final scorecards of the engagement's own periods within `scope`, oldest first,
    with their reviews."""
    return list(
        engagement.scorecards.filter(
            period_kind=engagement.scorecard_period,
            period_start__range=(scope.start, scope.end),
            status=Scorecard.Status.FINAL,
        )
        .prefetch_related(
            Prefetch(
                "reviews",
                ScorecardReview.objects.select_related("user").order_by("side", "-created_at"),
            )
        )
        .order_by("period_start")
    )


# ---------------------------------------------------------------- text of values
def _number(value) -> str:
    return NONE if value is None else str(value)


def _score(value: float | None) -> str:
    """A float of an explanation, as the stored one-decimal scores read."""
    return NONE if value is None else str(Decimal(str(value)).quantize(Decimal("0.1")))


def _trend(value) -> str:
    return NONE if value is None else f"{value:+}"


def moment_text(value) -> str | None:
    """A moment as the pack prints it, in UTC: "3 Dec 2026 13:20 UTC"; None stays None."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return f"{day_text(value.date())} {value:%H:%M} UTC"


def _lag(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} h"
    return f"{delta.days} days"


# ---------------------------------------------------------------- the content
def pack_content(engagement: Engagement, scope: Period) -> dict:
    """Everything a pack of `scope` shows (see the module), without its generation time
    (`generated_at` is added by whoever renders it). NoPack if no final scorecard exists."""
    scorecards = _scorecards(engagement, scope)
    if not scorecards:
        raise NoPack(f"{scope.title} has no final scorecard, so it has no review pack.")
    quarter = scope.kind == QUARTER and engagement.scorecard_period != QUARTER
    last = scorecards[-1]
    inputs = _inputs(last)
    columns = [_column(engagement, scorecard) for scorecard in scorecards]
    content = {
        "layout": LAYOUT_VERSION,
        "kind": "quarter" if quarter else "period",
        "engagement": engagement.name,
        "client": engagement.client.name,
        "provider": engagement.provider.name,
        "title": scope.title,
        "dates": f"{day_text(scope.start)} – {day_text(scope.end)}",
        "columns": columns,
        # The cover's figures, a row per figure and a column per scorecard.
        "figure_rows": [
            [label, [column["figures"][i][1] for column in columns]]
            for i, (label, _) in enumerate(columns[0]["figures"])
        ],
        "chart": _chart(engagement, last),
        "dimensions": _dimensions(scorecards),
        "goals": _goals(inputs) if inputs else [],
        "issues": _issues(engagement, scope),
        "contribution_reviews": _contribution_reviews(
            engagement, scope, inputs.as_of if inputs else last.as_of
        ),
        "alerts": _alerts(engagement, scorecards),
        "continuity": _continuity(engagement, scope.end),
        "digest": last.inputs_digest,
    }
    if not quarter:
        content |= {
            "slas": _slas(inputs) if inputs else [],
            "disputes": _disputes(engagement, scope),
            "checkins": _checkins(inputs) if inputs else None,
            "survey": _survey(engagement, scope),
            "summary": list(last.explanation.get("summary", [])),
        }
    return content


def _column(engagement: Engagement, scorecard: Scorecard) -> dict:
    """One scorecard's cover figures and sign-off block."""
    reviews = reviews_by_side(scorecard)
    inputs = _inputs(scorecard)
    checkins = _checkins(inputs) if inputs else None
    return {
        "title": scorecard.period.title,
        "digest": scorecard.inputs_digest,
        "state": signoff_state(reviews),
        "figures": [
            ("Overall", _number(scorecard.overall)),
            ("Band", BANDS.get(scorecard.band, scorecard.band)),
            ("Coverage", f"{round(scorecard.coverage * 100)}%"),
            ("Client side", _number(scorecard.client_score)),
            ("Provider side", _number(scorecard.provider_score)),
            ("Trend", _trend(scorecard.trend)),
            ("Perception gap", _number(scorecard.perception_gap)),
            (
                "Check-ins held",
                f"{checkins['held']} of {checkins['expected']}" if checkins else NONE,
            ),
        ],
        "signoff": {
            "sides": [
                {
                    "label": label,
                    "organization": engagement.organization_of(side).name,
                    "live": _review(reviews[side]["live"]),
                    "stale": [_review(review) for review in reviews[side]["stale"]],
                }
                for side, label in Side.choices
            ],
            "frozen": moment_text(scorecard.frozen_at),
            "changed_since_signoff": moment_text(scorecard.changed_since_signoff_at),
        },
    }


def _review(review: ScorecardReview | None) -> dict | None:
    if review is None:
        return None
    return {
        "decision": review.get_decision_display(),
        "by": person_name(review.user),
        "at": moment_text(review.created_at),
        "comment": review.comment,
        "stale_since": moment_text(review.stale_at),
    }


def _chart(engagement: Engagement, last: Scorecard) -> dict:
    """The last CHART_PERIODS final scores up to `last`'s period (overall and per side) as
    points in a unit square (x from the oldest to the newest period, y = score ÷ 100), a
    gap as None: both renderings draw the same lines."""
    rows = list(
        engagement.scorecards.filter(
            period_kind=last.period_kind,
            period_start__lte=last.period_start,
            status=Scorecard.Status.FINAL,
        )
        .order_by("-period_start")
        .values_list("period_start", "overall", "client_score", "provider_score")[:CHART_PERIODS]
    )[::-1]
    # x of each period: spread from 0 to 1, a single one in the middle.
    xs = [i / (len(rows) - 1) for i in range(len(rows))] if len(rows) > 1 else [0.5]
    series = []
    for index, name in enumerate(("Overall", "Client side", "Provider side"), start=1):
        points = [
            None if row[index] is None else [round(x, 4), round(float(row[index]) / 100, 4)]
            for x, row in zip(xs, rows, strict=True)
        ]
        series.append({"name": name, "points": points})
    return {
        "ticks": [
            [round(x, 4), Period(last.period_kind, row[0], row[0]).label]
            for x, row in zip(xs, rows, strict=True)
        ],
        "series": series,
    }


def _dimensions(scorecards: list[Scorecard]) -> list[dict]:
    """Each dimension's score per scorecard; the last scorecard's weight, side scores and
    lines in words."""
    per_scorecard = [dimensions_of(scorecard) for scorecard in scorecards]
    rows = []
    for index, name in enumerate(DIMENSIONS):
        last = per_scorecard[-1][index]
        rows.append(
            {
                "label": last["label"],
                "weight": _number(last["weight"]),
                "scores": [_number(dimensions[index]["score"]) for dimensions in per_scorecard],
                "client": _score(last["sides"].get("client")) if last["sides"] else "",
                "provider": _score(last["sides"].get("provider")) if last["sides"] else "",
                "why": list(last["why"]),
                "name": name,
            }
        )
    return rows


def _inputs(scorecard: Scorecard):
    """What the scorecard was computed from (its explanation's data); None if it was stored
    without them."""
    data = scorecard.explanation.get("data")
    return deserialise(data)[0] if data else None


def _slas(inputs) -> list[dict]:
    """SLA attainment per side, as scored: values met of those in the period, disputed ones."""
    rows = []
    for sla in inputs.slas:
        op = "≥" if sla.direction == "higher_is_better" else "≤"
        rows.append(
            {
                "side": SIDES[sla.side],
                "name": sla.name,
                "target": f"{op} {sla.target.normalize():f} {sla.unit}".strip(),
                "met": f"{sla.met} of {sla.measurements}",
                "attainment": f"{round(100 * sla.met / sla.measurements)}%",
                "disputed": str(sla.disputed),
            }
        )
    return rows


def _disputes(engagement: Engagement, scope: Period) -> list[dict]:
    return [
        {
            "sla": dispute.sla.name,
            "value": f"{dispute.measurement.value.normalize():f}",
            "by": SIDES[dispute.side],
            "status": dispute.get_status_display(),
            "reason": dispute.reason,
            "corrected": NONE
            if dispute.corrected_value is None
            else f"{dispute.corrected_value.normalize():f}",
        }
        for dispute in disputes.disputes_in_period(engagement, scope).order_by("created_at")
    ]


def _goals(inputs) -> list[dict]:
    """Goals expected vs actual as of the scorecard's day, as they were scored."""
    rows = []
    for goal in inputs.goals:
        expected = goal_expected(goal.start_date, goal.due_date, inputs.as_of)
        actual = goal_actual(goal.achieved_on, goal.latest_percent, inputs.as_of)
        rows.append(
            {
                "title": goal.title,
                "due": day_text(goal.due_date),
                "expected": f"{round(100 * expected)}%",
                "actual": f"{round(100 * actual)}%",
                "behind": actual < expected,
            }
        )
    return rows


def _issues(engagement: Engagement, scope: Period) -> list[dict]:
    issues = engagement.issues.filter(raised_on__range=(scope.start, scope.end)).order_by(
        "raised_at", "pk"
    )
    return [
        {
            "title": issue.title,
            "severity": issue.get_severity_display(),
            "responsible": SIDES[issue.responsible_side],
            "raised_by": SIDES[issue.raised_by_side],
            "raised_on": day_text(issue.raised_on),
            "lag": _lag(issue.disclosure_lag),
            "resolved": "yes" if issue.resolved_at else "no",
        }
        for issue in issues
    ]


def _contribution_reviews(engagement: Engagement, scope: Period, as_of: date) -> list[dict]:
    """Reviews of the issues raised in `scope`, with each side's follow-through on its
    action items as of `as_of`."""
    rows = []
    for review in contribution_reviews(engagement):
        if not scope.start <= review.issue.raised_on <= scope.end:
            continue
        sides = []
        for _side, label, items in review.sides:
            done = [item for item in items if item.completed_on]
            on_time = [item for item in done if item.completed_on <= item.due_date]
            overdue = [item for item in items if not item.completed_on and item.due_date < as_of]
            sides.append(
                {
                    "label": label,
                    "text": f"{len(done)} of {len(items)} done, {len(on_time)} on time, "
                    f"{len(overdue)} overdue",
                }
            )
        rows.append({"issue": review.issue.title, "summary": review.summary, "sides": sides})
    return rows


def _checkins(inputs) -> dict:
    contact = inputs.contact
    span_days = (inputs.as_of - contact.span_start).days + 1
    return {
        "held": str(contact.held),
        "expected": str(checkins_expected(span_days, contact.cadence_days)),
        "span": f"{day_text(contact.span_start)} – {day_text(inputs.as_of)}",
        "cadence": f"every {contact.cadence_days} days",
    }


def _survey(engagement: Engagement, scope: Period) -> dict:
    """The published survey report: only what feedback.selectors.survey_report publishes."""
    report = survey_report(engagement, scope)
    sides = []
    for side, label in Side.choices:
        published = report.sides.get(side)
        if published is None:
            sides.append(
                {
                    "label": label,
                    "published": False,
                    "note": f"Not published: fewer than {report.threshold} answered.",
                }
            )
            continue
        rnps = published.rnps
        sides.append(
            {
                "label": label,
                "published": True,
                "note": f"{published.respondents} respondents rated the "
                f"{published.other_label.lower()}.",
                "statements": [
                    [rating.question, f"{float(rating.mean):.2f}"]
                    for rating in published.statements
                ],
                "rnps": f"{rnps.score:.0f} (90% interval {rnps.low:.0f} to {rnps.high:.0f})"
                if rnps
                else f"fewer than {report.threshold} answered",
                "blind_spots": [line.question for line in published.blind_spots],
                "hidden_strengths": [
                    line.question
                    for line in published.mirror
                    if line.gap and line.gap.category == HIDDEN_STRENGTH
                ],
                "texts": [
                    [question, published.texts[field]]
                    for field, question in SURVEY_TEXTS
                    if published.texts[field]
                ],
            }
        )
    return {"threshold": str(report.threshold), "sides": sides}


def _continuity(engagement: Engagement, on: date) -> dict:
    """Each side's contact continuity over the twelve months ending the pack's last day
    (relationships.continuity; shown, not scored)."""
    sides = contact_continuity(engagement, on)
    figures = next(iter(sides.values()))
    return {
        "window": f"{day_text(figures.window_start)} – {day_text(figures.window_end)}",
        "sides": [
            [
                label,
                "no key contacts in these months"
                if (c := sides[side]).share is None
                else f"{round(100 * c.share)}% ({len(c.kept)} of {c.roles} roles kept"
                + (f"; changed hands or left: {_roles(c.changed)})" if c.changed else ")"),
            ]
            for side, label in Side.choices
        ],
    }


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join(KeyContact.ContactRole(role).label.lower() for role in roles)


def _alerts(engagement: Engagement, scorecards: list[Scorecard]) -> list[dict]:
    starts = [scorecard.period_start for scorecard in scorecards]
    alerts = (
        engagement.alerts.filter(period_kind=scorecards[0].period_kind, period_start__in=starts)
        .select_related("acknowledged_by")
        .order_by("period_start", "kind", "side")
    )
    return [
        {
            "message": alert.message,
            "kind": alert.get_kind_display(),
            "raised": moment_text(alert.raised_at),
            "state": "resolved"
            if alert.resolved_at
            else (
                f"acknowledged by {person_name(alert.acknowledged_by)}"
                if alert.acknowledged_at
                else "open"
            ),
        }
        for alert in alerts
    ]
