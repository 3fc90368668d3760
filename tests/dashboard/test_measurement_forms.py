"""Recording one measurement, uploading a CSV of them, and reporting goal progress."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relationships.forms import MeasurementUploadForm
from relationships.measurements import MAX_BULK_ROWS
from relationships.models import GoalProgress, ImportBatch, Measurement
from tests.factories import SharedGoalFactory, SLAFactory

pytestmark = pytest.mark.django_db

MEASUREMENT = {"period_start": "2026-01-01", "period_end": "2026-01-31", "value": "99.7"}


def url(name, engagement):
    return reverse(name, args=[engagement.pk])


def csv_file(text: str, name="values.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# ---------------------------------------------------------------- one measurement
def test_manager_records_a_measurement(as_user, engagement, provider_manager, sla):
    response = as_user(provider_manager).post(
        url("measurement-create", engagement), {**MEASUREMENT, "sla": sla.pk, "source": "nagios"}
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get()
    assert (measurement.value, measurement.source, measurement.recorded_by) == (
        Decimal("99.7"),
        "nagios",
        provider_manager,
    )


def test_a_second_value_corrects_and_keeps_the_first(as_user, engagement, provider_manager, sla):
    client = as_user(provider_manager)
    client.post(url("measurement-create", engagement), {**MEASUREMENT, "sla": sla.pk})
    client.post(
        url("measurement-create", engagement), {**MEASUREMENT, "sla": sla.pk, "value": "98"}
    )
    assert Measurement.objects.count() == 2
    assert Measurement.objects.current().get().value == Decimal("98")


def test_period_end_before_start_is_a_field_error(as_user, engagement, provider_manager, sla):
    response = as_user(provider_manager).post(
        url("measurement-create", engagement),
        {**MEASUREMENT, "sla": sla.pk, "period_end": "2025-12-01"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["period_end"] == [
        "The period end cannot be before the period start."
    ]
    assert 'value="99.7"' in response.content.decode()
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("value", ["NaN", "abc", "1e30", ""])
def test_bad_values_are_refused(as_user, engagement, provider_manager, sla, value):
    response = as_user(provider_manager).post(
        url("measurement-create", engagement), {**MEASUREMENT, "sla": sla.pk, "value": value}
    )
    assert response.status_code == 400
    assert "value" in response.context["form"].errors
    assert not Measurement.objects.exists()


def test_sla_of_another_engagement_is_refused_even_when_writable_there(
    as_user, engagement, client_manager, foreign_engagement
):
    foreign = SLAFactory(engagement=foreign_engagement)
    response = as_user(client_manager).post(
        url("measurement-create", engagement), {**MEASUREMENT, "sla": foreign.pk}
    )
    assert response.status_code == 400
    assert "sla" in response.context["form"].errors
    assert not Measurement.objects.exists()


def test_viewer_cannot_record(as_user, engagement, provider_viewer, sla):
    response = as_user(provider_viewer).post(
        url("measurement-create", engagement), {**MEASUREMENT, "sla": sla.pk}
    )
    assert response.status_code == 403
    assert not Measurement.objects.exists()


# ---------------------------------------------------------------- CSV upload
def test_upload_imports_every_row_by_sla_name_or_id(as_user, engagement, provider_manager, sla):
    other = SLAFactory(engagement=engagement, name="P1 response", owner_side="provider")
    text = (
        "sla,period_start,period_end,value,source\n"
        "Availability,2026-01-01,2026-01-31,99.9,monitoring\n"
        f"{other.pk},2026-01-01,2026-01-31,45,\n"
    )
    response = as_user(provider_manager).post(
        url("measurement-upload", engagement), {"file": csv_file(text)}, follow=True
    )
    assert "2 rows imported: 2 new, 0 corrected, 0 unchanged." in response.content.decode()
    assert Measurement.objects.count() == 2
    assert ImportBatch.objects.get().source == "CSV upload values.csv"


def test_upload_with_one_bad_row_writes_nothing_and_names_the_row(
    as_user, engagement, provider_manager, sla
):
    text = (
        "sla,period_start,period_end,value\n"
        "Availability,2026-01-01,2026-01-31,99.9\n"
        "Availability,2026-02-01,2026-02-28,lots\n"
        "Availability,2026-03-31,2026-03-01,99\n"
    )
    response = as_user(provider_manager).post(
        url("measurement-upload", engagement), {"file": csv_file(text)}
    )
    assert response.status_code == 400
    errors = response.context["form"].non_field_errors()
    assert "Row 2: value: 'lots' is not a number." in errors
    assert "Row 3: period end: The period end cannot be before the period start." in errors
    assert not Measurement.objects.exists()
    assert not ImportBatch.objects.exists()


def test_upload_refuses_an_sla_of_another_engagement(
    as_user, engagement, client_manager, foreign_engagement
):
    foreign = SLAFactory(engagement=foreign_engagement)
    text = f"sla,period_start,period_end,value\n{foreign.pk},2026-01-01,2026-01-31,1\n"
    response = as_user(client_manager).post(
        url("measurement-upload", engagement), {"file": csv_file(text)}
    )
    assert response.status_code == 400
    assert any("no SLA" in error for error in response.context["form"].non_field_errors())
    assert not Measurement.objects.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00bad", "The CSV is not UTF-8 text."),
        (b"value,period_start\n1,2026-01-01\n", "The CSV header must name the columns"),
        (b"sla,period_start,period_end,value\n", "The file has no rows"),
    ],
)
def test_malformed_files_are_refused(as_user, engagement, provider_manager, sla, content, message):
    upload = SimpleUploadedFile("x.csv", content, content_type="text/csv")
    response = as_user(provider_manager).post(
        url("measurement-upload", engagement), {"file": upload}
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["file"])


def test_upload_reports_extra_values(as_user, engagement, provider_manager, sla):
    text = "sla,period_start,period_end,value\nAvailability,2026-01-01,2026-01-31,1,extra\n"
    response = as_user(provider_manager).post(
        url("measurement-upload", engagement), {"file": csv_file(text)}
    )
    assert response.context["form"].errors["file"] == ["CSV line 2 has 5 fields; the header has 4."]


def test_upload_with_a_quote_left_open_is_refused_and_stores_nothing(
    as_user, engagement, provider_manager, sla
):
    """Read as the API's bulk CSV is: strict quoting. A lax reader took the rest of the file
    as one value, "99\n", and stored it."""
    text = 'sla,period_start,period_end,value\nAvailability,2026-01-01,2026-01-31,"99\n'
    response = as_user(provider_manager).post(
        url("measurement-upload", engagement), {"file": csv_file(text)}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "Malformed CSV at line 2: unexpected end of data. A value that starts with a quote "
        "must end with one."
    ]
    assert not Measurement.objects.exists()
    assert not ImportBatch.objects.exists()


def test_upload_needs_a_file(as_user, engagement, provider_manager):
    response = as_user(provider_manager).post(url("measurement-upload", engagement), {})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


def test_upload_form_is_multipart(as_user, engagement, provider_manager):
    response = as_user(provider_manager).get(url("measurement-upload", engagement))
    assert 'enctype="multipart/form-data"' in response.content.decode()


# ---------------------------------------------------------------- goal progress
def test_goal_progress_reported(as_user, client_manager, goal):
    response = as_user(client_manager).post(
        reverse("goal-progress-create", args=[goal.pk]),
        {"date": "2026-01-15", "percent": "40", "note": "Design done."},
    )
    assert response.status_code == 302
    progress = GoalProgress.objects.get()
    assert (progress.percent, progress.reporter) == (40, client_manager)


def test_goal_progress_over_100_is_refused_and_kept(as_user, client_manager, goal):
    response = as_user(client_manager).post(
        reverse("goal-progress-create", args=[goal.pk]),
        {"date": "2026-01-15", "percent": "140", "note": "Design done."},
    )
    assert response.status_code == 400
    assert "percent" in response.context["form"].errors
    assert "Design done." in response.content.decode()
    assert not GoalProgress.objects.exists()


def test_goal_of_an_invisible_engagement_is_404(as_user, outsider, goal):
    response = as_user(outsider).post(
        reverse("goal-progress-create", args=[goal.pk]), {"date": "2026-01-15", "percent": "10"}
    )
    assert response.status_code == 404


def test_goal_progress_refused_to_viewers(as_user, client_viewer, goal):
    response = as_user(client_viewer).post(
        reverse("goal-progress-create", args=[goal.pk]), {"date": "2026-01-15", "percent": "10"}
    )
    assert response.status_code == 403
    assert not GoalProgress.objects.exists()


def test_goal_progress_page_names_the_goal(as_user, client_manager, engagement):
    goal = SharedGoalFactory(engagement=engagement, title="Halve ticket backlog")
    response = as_user(client_manager).get(reverse("goal-progress-create", args=[goal.pk]))
    assert "Halve ticket backlog" in response.content.decode()


def test_oversized_upload_is_refused(as_user, engagement, provider_manager, sla):
    header = "sla,period_start,period_end,value,source\n"
    body = header + "x" * MeasurementUploadForm.MAX_BYTES
    response = as_user(provider_manager).post(
        url("measurement-upload", engagement), {"file": csv_file(body)}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The file is larger than 4 MB."]


def test_more_rows_than_a_batch_takes_are_refused(as_user, engagement, provider_manager, sla):
    rows = "".join("Availability,2026-01-01,2026-01-31,1\n" for _ in range(MAX_BULK_ROWS + 1))
    response = as_user(provider_manager).post(
        url("measurement-upload", engagement),
        {"file": csv_file("sla,period_start,period_end,value\n" + rows)},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [f"At most {MAX_BULK_ROWS} rows per upload."]
    assert not Measurement.objects.exists()


def test_upload_queries_do_not_grow_with_rows(
    as_user, engagement, provider_manager, sla, django_assert_max_num_queries
):
    def upload(count, offset):
        lines = [
            f"Availability,{date(2026, 1, 1) + timedelta(days=offset + i)},"
            f"{date(2026, 1, 1) + timedelta(days=offset + i)},99\n"
            for i in range(count)
        ]
        text = "sla,period_start,period_end,value\n" + "".join(lines)
        return as_user(provider_manager).post(
            url("measurement-upload", engagement), {"file": csv_file(text)}
        )

    with CaptureQueriesContext(connection) as few:
        assert upload(2, 0).status_code == 302
    with django_assert_max_num_queries(len(few)):
        assert upload(200, 10).status_code == 302
    assert Measurement.objects.count() == 202
