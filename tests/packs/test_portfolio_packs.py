"""An organisation's admins ask for every review pack of a quarter and get one zip, made in
the background with progress; on a real Celery worker where it matters."""

import io
import time
import zipfile
from datetime import date

import pypdf
import pytest
from rest_framework.test import APIClient

from packs import portfolio
from packs.models import PortfolioPack, PortfolioPackChunk, ReviewPack
from scorecards.compute import compute_chunk
from tests.factories import EngagementFactory
from tests.packs.conftest import compute_march
from tests.scorecards.conftest import APRIL_10, populate

JOBS = "/api/v1/portfolio-packs/"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _ask(user, organization, quarter_start="2026-01-01"):
    return _api(user).post(
        JOBS, {"organization": organization.pk, "quarter_start": quarter_start}, format="json"
    )


def _zip_names_and_texts(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: " ".join(
                page.extract_text()
                for page in pypdf.PdfReader(io.BytesIO(archive.read(name))).pages
            )
            for name in archive.namelist()
        }


@pytest.mark.django_db
def test_an_admin_gets_a_zip_of_the_quarters_packs_with_progress(
    signed_march, engagement, client_org, client_admin, django_capture_on_commit_callbacks
):
    # A second engagement of the organisation without a scorecard: nothing to pack.
    EngagementFactory(client=client_org, status="active", name="Field service")
    for month in (date(2026, 1, 1), date(2026, 2, 1)):
        compute_chunk([engagement.pk], "month", month, APRIL_10)

    with django_capture_on_commit_callbacks(execute=True):
        asked = _ask(client_admin, client_org)

    assert asked.status_code == 202, asked.content
    job = _api(client_admin).get(f"{JOBS}{asked.json()['id']}/").json()
    # Eager Celery (no broker in this test): done by the time the request returns.
    assert job["status"] == "succeeded" and job["percent_done"] == 100
    assert job["engagements_total"] == 2 and job["packs_made"] == 1
    download = _api(client_admin).get(job["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    packs = _zip_names_and_texts(b"".join(download.streaming_content))
    [(name, text)] = packs.items()
    assert name.endswith("2026-Q1-review-pack.pdf")
    assert "Service desk: Q1 2026" in " ".join(text.split())
    assert signed_march.inputs_digest in text


@pytest.mark.django_db
def test_only_the_organisations_admins_ask_and_read(
    signed_march, client_org, client_admin, client_manager, outsider
):
    assert _ask(client_manager, client_org).status_code == 403
    refused = _ask(outsider, client_org)
    assert refused.status_code == 400 and "organization" in refused.json()["errors"]
    job = _ask(client_admin, client_org).json()
    assert _api(outsider).get(f"{JOBS}{job['id']}/").status_code == 404
    assert _api(client_manager).get(f"{JOBS}{job['id']}/download/").status_code == 404
    # Not made yet (its chunks were not sent in this test): the zip is a 409.
    unmade = _api(client_admin).get(f"{JOBS}{job['id']}/download/")
    assert unmade.status_code == 409 and "not made yet" in unmade.json()["detail"]
    assert PortfolioPack.objects.count() == 1


@pytest.mark.django_db
def test_a_quarter_that_has_not_ended_or_is_no_quarter_is_refused(client_org, client_admin):
    unfinished = _ask(client_admin, client_org, "2026-10-01")
    assert unfinished.status_code == 400
    assert "has not ended yet" in str(unfinished.json()["errors"]["quarter_start"])
    assert _ask(client_admin, client_org, "2026-02-01").status_code == 400
    assert not PortfolioPack.objects.exists()


@pytest.mark.django_db
def test_a_chunk_is_made_once_however_often_its_task_runs(
    signed_march, engagement, client_org, client_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _ask(client_admin, client_org).json()
    chunk = PortfolioPackChunk.objects.get(job_id=job["id"])

    portfolio.chunk_make(chunk.pk)  # redelivered after it finished

    chunk.refresh_from_db()
    assert chunk.status == "done" and chunk.attempts == 1
    stored = PortfolioPack.objects.get(pk=job["id"])
    assert stored.chunks_done == 1 and stored.packs_made == 1
    assert ReviewPack.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_the_zip_in_chunks(
    pack_worker, client_org, client_admin, monkeypatch, fixed_today
):
    monkeypatch.setattr(portfolio, "CHUNK_SIZE", 1)
    for name in ("North", "South", "East"):
        compute_march(populate(EngagementFactory(client=client_org, status="active", name=name)))

    job_id = _ask(client_admin, client_org).json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = _api(client_admin).get(f"{JOBS}{job_id}/").json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.5)

    assert job["status"] == "succeeded", job
    assert job["chunks_total"] == 3 and job["chunks_done"] == 3 and job["packs_made"] == 3
    assert set(PortfolioPackChunk.objects.values_list("attempts", flat=True)) == {1}
    packs = _zip_names_and_texts(
        b"".join(_api(client_admin).get(job["download_url"]).streaming_content)
    )
    assert len(packs) == 3
    for name in ("North", "South", "East"):
        assert any(f"{name}: Q1 2026" in " ".join(text.split()) for text in packs.values())


@pytest.mark.django_db
def test_an_admin_asks_on_the_organisations_page_and_downloads_the_zip(
    signed_march, client, client_org, client_admin, django_capture_on_commit_callbacks
):
    client.force_login(client_admin)
    page = client.get(f"/organizations/{client_org.pk}/packs/")
    assert page.status_code == 200 and "Q1 2026" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(
            f"/organizations/{client_org.pk}/packs/", {"quarter_start": "2026-01-01"}
        )

    job = PortfolioPack.objects.get()
    assert asked.status_code == 302 and asked["Location"].endswith(f"#job-{job.pk}")
    listed = client.get(f"/organizations/{client_org.pk}/packs/").content.decode()
    assert "Ready, 100%" in listed and "Download the zip" in listed
    download = client.get(f"/organizations/{client_org.pk}/packs/{job.pk}/download/")
    assert download.status_code == 200
    assert len(_zip_names_and_texts(b"".join(download.streaming_content))) == 1


@pytest.mark.django_db
def test_the_form_refuses_a_quarter_it_does_not_offer(client, client_org, client_admin):
    client.force_login(client_admin)
    for quarter in ("2026-10-01", "2026-02-01", ""):
        refused = client.post(f"/organizations/{client_org.pk}/packs/", {"quarter_start": quarter})
        assert refused.status_code == 400
    assert not PortfolioPack.objects.exists()
