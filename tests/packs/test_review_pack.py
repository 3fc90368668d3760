"""The review pack of a closed period, as a user downloads it: through the API and the
period page, read back with pypdf; stored once per content; only for the engagement's
members."""

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pypdf
import pytest
from rest_framework.test import APIClient

from packs.models import ReviewPack
from relationships.measurements import measurement_record
from relationships.models import Measurement
from scorecards.compute import compute_chunk
from scorecards.models import Scorecard
from tests.factories import ActionItemFactory, ContributionReviewFactory, IssueFactory
from tests.packs.conftest import compute_march
from tests.scorecards.conftest import APRIL_10, MARCH, populate

API = "/api/v1/engagements/{pk}/periods/{start}/pack/"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with runs of white space as one space (lines wrap where they fit)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def _download(user, engagement, start=MARCH):
    return _api(user).get(API.format(pk=engagement.pk, start=start.isoformat()))


@pytest.mark.django_db
def test_pdf_shows_the_scorecards_figures_explanations_signatures_and_digest(
    signed_march, engagement, client_viewer
):
    response = _download(client_viewer, engagement)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        'filename="accord-service-desk-2026-03-review-pack.pdf"' in response["Content-Disposition"]
    )
    pdf = b"".join(response.streaming_content)
    text = pdf_text(pdf)
    scorecard = signed_march
    assert "Service desk: March 2026" in text
    assert "Northwind Retail (client) and Contoso Services (provider)" in text
    # The cover's figures, as stored.
    assert f"Overall {scorecard.overall}" in text
    assert f"Client side {scorecard.client_score}" in text
    assert f"Provider side {scorecard.provider_score}" in text
    assert f"Perception gap {scorecard.perception_gap}" in text
    assert "Band Healthy" in text and "Coverage 100%" in text
    assert "State signed by both" in text
    # Every explanation line of every dimension, in words.
    lines = [
        line for detail in scorecard.explanation["dimensions"].values() for line in detail["text"]
    ]
    assert len(lines) >= 10
    for line in lines:
        assert flat(line) in text
    # Both signatures, their comments, and the digest that names the signed record.
    assert "Signed by client-manager on" in text and "Agreed in the QBR." in text
    assert "Signed by provider-admin on" in text and "Fair." in text
    assert "Frozen: both sides signed on" in text
    assert scorecard.inputs_digest and f"Scorecard digest {scorecard.inputs_digest}" in text
    # The SLAs per side, goals, issues with their disclosure lag, check-ins, alerts.
    assert "SLA attainment per side" in text and "3 of 3 100%" in text
    assert "Goal" in text and "Expected" in text
    assert "1 h" in text  # detected 09:00, raised 10:00
    assert "check-in every 7 days" in text
    assert "Perception gap Client and provider see Service desk" in text


@pytest.mark.django_db
def test_the_pdf_embeds_its_fonts_and_draws_the_chart_as_vectors(
    signed_march, engagement, client_viewer
):
    pdf = b"".join(_download(client_viewer, engagement).streaming_content)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys())
    # No raster image on the page: the chart is paths.
    assert not list(page.images)
    assert re.search(rb"\bl\b", page.get_contents().get_data())  # line-to operators


@pytest.mark.django_db
def test_asking_again_returns_the_stored_pack(
    signed_march, engagement, client_viewer, provider_manager
):
    first = b"".join(_download(client_viewer, engagement).streaming_content)
    again = b"".join(_download(provider_manager, engagement).streaming_content)

    assert first == again
    assert ReviewPack.objects.filter(engagement=engagement).count() == 1


@pytest.mark.django_db
def test_a_pack_whose_file_was_lost_is_made_again(signed_march, engagement, client_viewer):
    _download(client_viewer, engagement)
    pack = ReviewPack.objects.get()
    pack.file.storage.delete(pack.file.name)

    again = _download(client_viewer, engagement)

    assert again.status_code == 200
    assert signed_march.inputs_digest in pdf_text(b"".join(again.streaming_content))
    assert ReviewPack.objects.get().pk == pack.pk


@pytest.mark.django_db
def test_a_correction_makes_a_new_pack_with_the_new_digest(
    engagement, client_manager, client_viewer, fixed_today
):
    populate(engagement)
    before = compute_march(engagement)
    first = pdf_text(b"".join(_download(client_viewer, engagement).streaming_content))
    measurement = Measurement.objects.current().filter(sla__engagement=engagement).first()
    measurement_record(
        sla=measurement.sla,
        period_start=measurement.period_start,
        period_end=measurement.period_end,
        value=Decimal("0") if measurement.sla.direction == "higher_is_better" else Decimal("999"),
        source="correction",
        user=client_manager,
    )
    compute_chunk([engagement.pk], "month", MARCH, APRIL_10)
    after = Scorecard.objects.get(pk=before.pk)
    second = pdf_text(b"".join(_download(client_viewer, engagement).streaming_content))

    assert after.inputs_digest != before.inputs_digest
    assert before.inputs_digest in first and after.inputs_digest in second
    assert "State awaiting review" in second
    assert ReviewPack.objects.filter(engagement=engagement).count() == 2
    assert set(ReviewPack.objects.values_list("digest", flat=True)) == {
        before.inputs_digest,
        after.inputs_digest,
    }


@pytest.mark.django_db
def test_a_correction_after_sign_off_shows_as_changed_since_sign_off(
    signed_march, engagement, client_manager, client_viewer
):
    measurement = Measurement.objects.current().filter(sla__engagement=engagement).first()
    measurement_record(
        sla=measurement.sla,
        period_start=measurement.period_start,
        period_end=measurement.period_end,
        value=Decimal("0") if measurement.sla.direction == "higher_is_better" else Decimal("999"),
        source="correction",
        user=client_manager,
    )
    compute_chunk([engagement.pk], "month", MARCH, APRIL_10)

    text = pdf_text(b"".join(_download(client_viewer, engagement).streaming_content))
    assert "Changed since sign-off: inputs were corrected on" in text
    assert ReviewPack.objects.filter(engagement=engagement).count() == 1  # only the new one asked


@pytest.mark.django_db
def test_an_outsider_gets_404_and_a_viewer_may_download(
    signed_march, engagement, outsider, provider_viewer
):
    assert _download(outsider, engagement).status_code == 404
    assert _download(provider_viewer, engagement).status_code == 200
    anonymous = APIClient().get(API.format(pk=engagement.pk, start=MARCH.isoformat()))
    assert anonymous.status_code == 401
    assert (
        not ReviewPack.objects.filter(engagement=engagement)
        .exclude(digest=signed_march.inputs_digest)
        .exists()
    )


@pytest.mark.django_db
def test_no_pack_of_a_period_in_progress_or_without_a_scorecard(
    signed_march, engagement, client_viewer
):
    in_progress = _download(client_viewer, engagement, date(2026, 4, 1))
    assert in_progress.status_code == 404
    assert "has not closed yet" in in_progress.json()["detail"]
    no_scorecard = _download(client_viewer, engagement, date(2026, 2, 1))
    assert no_scorecard.status_code == 404
    assert "no final scorecard" in no_scorecard.json()["detail"]
    not_a_day = _download(client_viewer, engagement, date(2026, 3, 2))
    assert not_a_day.status_code == 404
    for text in ("yesterday", "2026-13-45"):
        not_a_date = _api(client_viewer).get(API.format(pk=engagement.pk, start=text))
        assert not_a_date.status_code == 404
        assert not_a_date.json()["detail"] == f"{text} is not a date (YYYY-MM-DD)."
    assert not ReviewPack.objects.exists()


@pytest.mark.django_db
def test_quarter_pack_shows_the_three_months_side_by_side(signed_march, engagement, client_viewer):
    for month in (date(2026, 1, 1), date(2026, 2, 1)):
        compute_chunk([engagement.pk], "month", month, APRIL_10)
    response = _api(client_viewer).get(
        f"/api/v1/engagements/{engagement.pk}/quarters/2026-01-01/pack/"
    )

    assert response.status_code == 200
    text = pdf_text(b"".join(response.streaming_content))
    assert "Service desk: Q1 2026" in text
    assert "January 2026 February 2026 March 2026" in text
    assert "State awaiting review awaiting review signed by both" in text
    assert "Shared goals: expected and actual" in text and "Issues" in text
    assert signed_march.inputs_digest in text


@pytest.mark.django_db
def test_the_period_page_links_the_pack_and_its_print_view_shows_the_same(
    signed_march, engagement, client, client_viewer
):
    client.force_login(client_viewer)
    page = client.get(f"/engagements/{engagement.pk}/periods/2026-03-01/").content.decode()
    assert f"/engagements/{engagement.pk}/periods/2026-03-01/pack/" in page
    assert f"/engagements/{engagement.pk}/periods/2026-03-01/pack.pdf" in page
    assert f"/engagements/{engagement.pk}/quarters/2026-01-01/pack/" in page

    view = client.get(f"/engagements/{engagement.pk}/periods/2026-03-01/pack/")
    assert view.status_code == 200
    html = view.content.decode()
    for line in signed_march.explanation["dimensions"]["contact"]["text"]:
        assert line in html
    assert signed_march.inputs_digest in html
    assert "Signed by client-manager" in html and "Signed by provider-admin" in html
    assert '<svg class="pack-chart"' in html

    pdf = client.get(f"/engagements/{engagement.pk}/periods/2026-03-01/pack.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_the_packs_content_takes_the_same_queries_however_much_the_period_holds(
    signed_march, engagement, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from packs.selectors import pack_content, pack_scope

    def add_reviews(count):
        for n in range(count):
            issue = IssueFactory(
                engagement=engagement,
                detected_at=datetime(2026, 3, 10, 9, tzinfo=UTC),
                raised_at=datetime(2026, 3, 11, 9, tzinfo=UTC),
            )
            review = ContributionReviewFactory(issue=issue, summary=f"Review {n}")
            for side in ("client", "provider"):
                ActionItemFactory(engagement=engagement, review=review, owner_side=side)

    scope = pack_scope(engagement, MARCH)
    add_reviews(1)
    with CaptureQueriesContext(connection) as before:
        pack_content(engagement, scope)
    add_reviews(5)
    with django_assert_num_queries(len(before)):
        content = pack_content(engagement, scope)
    assert len(content["contribution_reviews"]) == 6
    assert len(content["issues"]) == 2 + 6


@pytest.mark.django_db
def test_the_pack_shows_contact_continuity_and_the_surveys_texts_and_mirror(
    engagement, client_manager, client_viewer, fixed_today
):
    """Contact continuity (issue 22) and the survey report's texts and hidden strengths
    (issue 19) reach the pack; nothing of a side below the threshold does."""
    from feedback.models import PulseResponse
    from relationships.services import key_contact_change
    from tests.factories import KeyContactFactory

    populate(engagement)
    start = date(2025, 1, 1)
    for side, role, name in (
        ("client", "relationship_steward", "Alice"),
        ("client", "executive_sponsor", "Carol"),
        ("provider", "relationship_steward", "Erin"),
    ):
        KeyContactFactory(engagement=engagement, side=side, role=role, name=name, start_date=start)
    key_contact_change(
        engagement=engagement,
        side="client",
        role="relationship_steward",
        user=client_manager,
        name="Bob",
        start_date=date(2026, 2, 15),
    )
    # populate's three client answers gain texts and a mirror the provider's 2s and 3s beat.
    for n, response in enumerate(PulseResponse.objects.filter(side="client")):
        response.continue_doing = f"Keep the weekly notes {n}."
        response.mirror_trust_overall = 1
        response.save()
    compute_march(engagement)

    text = pdf_text(b"".join(_download(client_viewer, engagement).streaming_content))

    assert "Contact continuity" in text
    assert "Client: 50% (1 of 2 roles kept; changed hands or left: relationship steward)" in text
    assert "Provider: 100% (1 of 1 roles kept)" in text
    assert "What should they continue doing?" in text
    for n in range(3):
        assert f"Keep the weekly notes {n}." in text
    # The client predicted 1 for trust; the provider rated it 2, 3, 2: d = −4/3.
    assert "Hidden strengths: I trust this relationship overall." in text


@pytest.mark.django_db
def test_the_review_email_carries_the_periods_pack(
    engagement, client_manager, fixed_today, django_capture_on_commit_callbacks, mailoutbox
):
    """Issue 21, item 4: "a period awaits your review" arrives with the period's pack."""
    populate(engagement)
    with django_capture_on_commit_callbacks(execute=True):
        scorecard = compute_march(engagement)
    [message] = [
        m
        for m in mailoutbox
        if "awaiting your side's review" in m.subject and m.to == [client_manager.email]
    ]
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (
        "accord-service-desk-2026-03-review-pack.pdf",
        "application/pdf",
    )
    assert f"Scorecard digest {scorecard.inputs_digest}" in pdf_text(content)
