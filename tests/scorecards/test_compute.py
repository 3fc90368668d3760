from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relationships.scoring_config import config_values
from scorecards import scoring
from scorecards.compute import SCORE_FIELDS, compute_chunk, inputs_digest, load_inputs
from scorecards.inputs import deserialise, serialise
from scorecards.models import Alert, OutboxEvent, Scorecard
from tests.factories import ActionItemFactory, CheckInFactory, EngagementFactory, IssueFactory
from tests.scorecards.conftest import APRIL_10, MARCH, make_engagements


def _compute(engagements, today=APRIL_10):
    return compute_chunk([e.pk for e in engagements], "month", MARCH, today)


@pytest.mark.django_db
def test_inputs_cover_every_dimension_on_both_sides(rich_engagement):
    inputs = load_inputs([rich_engagement], "month", MARCH, APRIL_10)[rich_engagement.pk]
    assert inputs.as_of == date(2026, 3, 31)
    assert len(inputs.slas) == 4 and {s.measurements for s in inputs.slas} == {3}
    assert {s.met for s in inputs.slas} == {3}
    assert inputs.contact.held == 5
    assert inputs.contact.last_checkin_on == date(2026, 3, 30)
    assert set(inputs.transparency) == set(inputs.dedication) == {"client", "provider"}
    assert inputs.pulse["client"].respondents == 3
    assert inputs.pulse["client"].answer_total == 3 * 6 * 4
    assert inputs.goals[0].latest_percent == 30


def _query_counts(action, sizes=(10, 50)) -> list[int]:
    counts = []
    for size in sizes:
        engagements = make_engagements(size)
        with CaptureQueriesContext(connection) as captured:
            action(engagements)
        counts.append(len(captured.captured_queries))
    return counts


@pytest.mark.django_db
def test_reading_inputs_takes_the_same_queries_for_10_and_50_engagements():
    counts = _query_counts(lambda engagements: load_inputs(engagements, "month", MARCH, APRIL_10))
    # Seven queries for the records, the SLA terms in force for the period, and the
    # survey's: thresholds in force, published answers.
    assert counts == [10, 10]


@pytest.mark.django_db
def test_computing_takes_the_same_queries_for_10_and_50_engagements(require_postgres):
    # PostgreSQL only: SQLite splits bulk inserts into batches of 999 parameters.
    def compute_twice(engagements):
        assert _compute(engagements).scorecards_written == len(engagements)
        assert _compute(engagements).scorecards_written == 0  # the rerun writes nothing

    first, second = _query_counts(compute_twice)
    assert first == second


@pytest.mark.django_db
def test_stored_scores_are_the_model_result_and_match_the_explanation(rich_engagement):
    _compute([rich_engagement])
    scorecard = Scorecard.objects.get(engagement=rich_engagement)
    inputs = load_inputs([rich_engagement], "month", MARCH, APRIL_10)[rich_engagement.pk]
    expected = scoring.score_engagement(inputs, config_values(), None).stored_fields()
    stored = {name: getattr(scorecard, name) for name in expected}
    assert stored == expected
    assert scoring.recompute_from_explanation(scorecard.explanation) == stored
    assert scorecard.reliance == 100 and scorecard.contact == 100
    assert scorecard.model_version == scoring.MODEL_VERSION
    assert scorecard.config["survey_threshold"] == 3


@pytest.mark.django_db
def test_a_stored_scorecard_rescored_from_its_data_gives_its_values_and_explanation(
    rich_engagement,
):
    _compute([rich_engagement])
    scorecard = Scorecard.objects.get(engagement=rich_engagement)
    inputs, config, previous = deserialise(scorecard.explanation["data"])
    result = scoring.score_engagement(inputs, config, previous)
    assert result.stored_fields() == {name: getattr(scorecard, name) for name in SCORE_FIELDS}
    assert result.explanation == scorecard.explanation
    assert inputs_digest(serialise(inputs, config, None)) == scorecard.inputs_digest


@pytest.mark.django_db
def test_the_digest_of_a_scorecard_with_a_previous_score_leaves_that_score_out(
    rich_engagement,
):
    compute_chunk([rich_engagement.pk], "month", date(2026, 2, 1), APRIL_10)
    _compute([rich_engagement])
    scorecard = Scorecard.objects.get(engagement=rich_engagement, period_start=MARCH)
    inputs, config, previous = deserialise(scorecard.explanation["data"])
    assert previous is not None and scorecard.previous_band
    # The digest is of the inputs alone: a changed previous score is not a changed input.
    assert scorecard.inputs_digest == inputs_digest(serialise(inputs, config, None))
    assert _compute([rich_engagement]).scorecards_written == 0


@pytest.mark.django_db
def test_rerun_gives_identical_rows_and_no_duplicate_events():
    engagements = make_engagements(3)
    _compute(engagements)
    rows = list(Scorecard.objects.order_by("pk").values())
    alerts = list(Alert.objects.order_by("pk").values())
    events = OutboxEvent.objects.count()
    assert OutboxEvent.objects.filter(kind="scorecard.computed").count() == 3
    result = _compute(engagements)
    assert result.scorecards_written == 0 and result.alerts_raised == 0
    assert list(Scorecard.objects.order_by("pk").values()) == rows
    assert list(Alert.objects.order_by("pk").values()) == alerts
    assert OutboxEvent.objects.count() == events


@pytest.mark.django_db
def test_computed_event_payload(rich_engagement, settings):
    settings.SITE_URL = "https://accord.example"
    _compute([rich_engagement])
    event = OutboxEvent.objects.get(kind="scorecard.computed")
    scorecard = Scorecard.objects.get()
    assert event.payload["engagement"] == {
        "id": rich_engagement.pk,
        "name": "Service desk",
        "client": "Northwind Retail",
        "provider": "Contoso Services",
    }
    assert event.payload["scorecard"]["id"] == scorecard.pk
    assert event.payload["scorecard"]["overall"] == float(scorecard.overall)
    assert event.payload["scorecard"]["period_end"] == "2026-03-31"
    assert event.payload["scorecard"]["url"] == (
        f"https://accord.example/engagements/{rich_engagement.pk}/"
    )


@pytest.mark.django_db
def test_contact_counts_days_with_a_check_in_from_the_engagements_start(engagement):
    engagement.start_date = date(2026, 3, 5)
    engagement.save()
    for day, hour in ((4, 10), (9, 10), (9, 15), (20, 10)):
        CheckInFactory(engagement=engagement, occurred_at=datetime(2026, 3, day, hour, tzinfo=UTC))
    contact = load_inputs([engagement], "month", MARCH, APRIL_10)[engagement.pk].contact
    # Two check-ins on the 9th count once; the 4th is before the engagement's start.
    assert (contact.span_start, contact.held) == (date(2026, 3, 5), 2)


@pytest.mark.django_db
def test_no_scorecard_before_the_engagement_starts(engagement):
    engagement.start_date = date(2026, 4, 1)
    engagement.save()
    assert _compute([engagement]).scorecards_written == 0
    assert not Scorecard.objects.exists()


@pytest.mark.django_db
def test_each_engagement_is_read_up_to_its_own_as_of_and_local_dates(rich_engagement):
    ended = EngagementFactory(end_date=date(2026, 3, 15))
    IssueFactory(
        engagement=ended,
        responsible_side="client",
        raised_by_side="provider",
        detected_at=datetime(2026, 3, 20, tzinfo=UTC),
        raised_at=datetime(2026, 3, 20, 1, tzinfo=UTC),
    )
    ActionItemFactory(engagement=ended, owner_side="client", due_date=date(2026, 3, 14))
    ActionItemFactory(engagement=ended, owner_side="client", due_date=date(2026, 3, 16))
    CheckInFactory(engagement=ended, occurred_at=datetime(2026, 3, 10, 10, tzinfo=UTC))
    CheckInFactory(engagement=ended, occurred_at=datetime(2026, 3, 20, 10, tzinfo=UTC))
    # 23:30 UTC on 31 March is already 1 April in Auckland: not a March check-in there.
    auckland = EngagementFactory(time_zone="Pacific/Auckland")
    CheckInFactory(engagement=auckland, occurred_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    CheckInFactory(engagement=auckland, occurred_at=datetime(2026, 3, 2, 1, tzinfo=UTC))

    inputs = load_inputs([rich_engagement, ended, auckland], "month", MARCH, APRIL_10)
    assert inputs[ended.pk].as_of == date(2026, 3, 15)
    assert inputs[ended.pk].transparency == {}
    assert inputs[ended.pk].dedication["client"].total == 1
    assert inputs[ended.pk].contact.held == 1  # 10 March; not the 20th
    assert inputs[ended.pk].contact.last_checkin_on == date(2026, 3, 10)
    assert inputs[auckland.pk].contact.held == 1  # 2 March; not 1 April
    assert inputs[rich_engagement.pk].contact.last_checkin_on == date(2026, 3, 30)


@pytest.mark.django_db
def test_sla_attainment_reads_only_what_the_covering_index_holds(require_postgres):
    # Then PostgreSQL can answer it from the index alone (an index-only scan per SLA),
    # never visiting the table: the measurement read of a recompute.
    import re

    from relationships.models import Measurement
    from relationships.periods import period_starting
    from scorecards.compute import sla_attainment

    index = connection.introspection.get_constraints(
        connection.cursor(), Measurement._meta.db_table
    )["measurement_sla_period"]
    sql = str(sla_attainment([1, 2], period_starting("month", MARCH)).query)
    read = set(re.findall(r'"relationships_measurement"\."(\w+)"', sql))
    assert index["columns"] == ["sla_id", "period_start", "value", "superseded_at"]
    assert read == {"sla_id", "period_start", "value", "superseded_at"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'measurement_sla_period'")
        assert cursor.fetchone()[0].endswith("INCLUDE (value, superseded_at)")


@pytest.mark.django_db
def test_open_disputes_of_the_periods_values_are_counted_in_the_same_query(
    rich_engagement, django_assert_num_queries
):
    from relationships.models import Measurement, MeasurementDispute
    from relationships.periods import period_starting
    from scorecards.compute import sla_attainment

    def dispute(measurement, status="open"):
        return MeasurementDispute.objects.create(
            measurement=measurement,
            sla=measurement.sla,
            side="provider",
            reason="Wrong",
            status=status,
        )

    values = Measurement.objects.current().filter(sla__engagement=rich_engagement)
    sla = values.order_by("sla__name").first().sla
    in_march = list(values.filter(sla=sla).order_by("period_start"))
    dispute(in_march[0])
    dispute(in_march[1], status="withdrawn")
    dispute(in_march[2], status="corrected")
    other = values.exclude(sla=sla).order_by("sla__name").first()
    dispute(other)
    query = sla_attainment([rich_engagement.pk], period_starting("month", MARCH))
    # Grouped by the SLA alone: grouping by the count's subquery would run it per measurement.
    assert "SELECT" not in str(query.query).split("GROUP BY")[1]
    with django_assert_num_queries(1):
        rows = list(query)
    disputed = {row[1]: row[-1] for row in rows}
    assert disputed == {**dict.fromkeys(disputed, 0), sla.pk: 1, other.sla_id: 1}
    inputs = load_inputs([rich_engagement], "month", MARCH, APRIL_10)[rich_engagement.pk]
    assert {s.sla_id: s.disputed for s in inputs.slas if s.disputed} == {sla.pk: 1, other.sla_id: 1}
    assert {s.measurements for s in inputs.slas} == {3}  # disputed values keep counting
