"""The dashboard of agreement (issue 18): every page that edits a term opens a change request
on an active engagement and says so; the engagement page's Agreement section shows the open
requests with what the viewer may do, and the decided ones as the audit trail."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from relationships.change_requests import change_request_comment, terms_change
from relationships.models import SLA, ChangeRequest, Engagement, ScoringConfig, SharedGoal
from tests.dashboard.conftest import page_text, signed_in
from tests.factories import EngagementFactory, KeyContactFactory, SharedGoalFactory, SLAFactory

pytestmark = pytest.mark.django_db

SLA_FORM = {
    "name": "Availability",
    "owner_side": "provider",
    "unit": "%",
    "direction": "higher_is_better",
    "target": "99.9",
    "weight": "1",
    "active": "on",
}


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, name="Availability", target=Decimal("99.5"))


def sla_change_url(sla):
    return reverse("sla-change", args=[sla.engagement_id, sla.pk])


def ask_target(engagement, sla, user, target="99.9") -> ChangeRequest:
    return terms_change(
        engagement=engagement, user=user, subject="sla", sla=sla, values={"target": target}
    ).change_request


def agreement_html(response) -> str:
    html = response.content.decode()
    start = html.index('id="agreement"')
    return html[start : html.index("</section>", start)]


# ---------------------------------------------------------------- asking, on the term's page
def test_client_manager_proposes_a_provider_sla_target_and_nothing_changes(
    engagement, sla, client_manager, provider_org
):
    browser = signed_in(client_manager)
    form = browser.get(sla_change_url(sla))
    assert form.status_code == 200
    text = page_text(form)
    assert f"Your change will be sent to {provider_org.name} for agreement" in text
    assert "when one of their managers accepts it" in text
    assert 'value="99.5"' in form.text and 'value="1"' in form.text  # prefilled, as typed

    response = browser.post(sla_change_url(sla), {**SLA_FORM, "target": "99.9"}, follow=True)
    change_request = ChangeRequest.objects.get()
    assert response.redirect_chain[-1][0].endswith(f"#change-request-{change_request.pk}")
    assert f'href="{change_request.get_absolute_url()}"' in response.text  # the message links
    assert "Change request sent to" in page_text(response)
    sla.refresh_from_db()
    assert sla.target == Decimal("99.5")
    assert change_request.proposed == {"target": "99.9"}  # only what changed
    section = agreement_html(response)
    assert f'id="change-request-{change_request.pk}"' in section
    assert "99.5" in section and "99.9" in section
    assert reverse("change-request-withdraw", args=[change_request.pk]) in section
    assert reverse("change-request-accept", args=[change_request.pk]) not in section


def test_provider_manager_accepts_and_the_audit_shows_old_and_new(
    engagement, sla, client_manager, provider_manager
):
    change_request = ask_target(engagement, sla, client_manager)
    browser = signed_in(provider_manager)
    section = agreement_html(browser.get(engagement.get_absolute_url()))
    assert reverse("change-request-accept", args=[change_request.pk]) in section
    assert reverse("change-request-decline", args=[change_request.pk]) in section
    assert reverse("change-request-withdraw", args=[change_request.pk]) not in section

    response = browser.post(reverse("change-request-accept", args=[change_request.pk]), follow=True)
    assert response.redirect_chain[0][0] == change_request.get_absolute_url()
    sla.refresh_from_db()
    assert sla.target == Decimal("99.9")
    text = " ".join(agreement_html(response).split())
    assert "No open change requests" in text
    assert "Accepted" in text and "accepted by provider-manager (provider side)" in text
    assert "Asked by client-manager (client side)" in text
    period = engagement.current_period()
    assert f"applies from {period.title}" in text
    assert "99.5" in text and "99.9" in text


def test_decline_needs_a_reason_shown_beside_the_field(
    engagement, sla, client_manager, provider_manager
):
    change_request = ask_target(engagement, sla, client_manager)
    browser = signed_in(provider_manager)
    url = reverse("change-request-decline", args=[change_request.pk])
    response = browser.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert f'id="change_request_{change_request.pk}_decline_reason_error"' in response.text
    change_request.refresh_from_db()
    assert change_request.status == "open"

    response = browser.post(url, {"reason": "Not before the migration."}, follow=True)
    change_request.refresh_from_db()
    assert change_request.status == "declined"
    assert "Reason: Not before the migration." in agreement_html(response)
    sla.refresh_from_db()
    assert sla.target == Decimal("99.5")


def test_comment_and_withdraw(engagement, sla, client_manager, provider_manager):
    change_request = ask_target(engagement, sla, client_manager)
    comment_url = reverse("change-request-comment", args=[change_request.pk])
    provider = signed_in(provider_manager)
    assert provider.post(comment_url, {"body": ""}).status_code == 400
    response = provider.post(comment_url, {"body": "Why 99.9?"}, follow=True)
    assert "Why 99.9?" in agreement_html(response)
    # Only the asking side withdraws.
    withdraw_url = reverse("change-request-withdraw", args=[change_request.pk])
    assert provider.post(withdraw_url).status_code == 403
    signed_in(client_manager).post(withdraw_url)
    change_request.refresh_from_db()
    assert change_request.status == "withdrawn"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("client_manager", 403), ("client_admin", 403), ("client_viewer", 403), ("outsider", 404)],
)
def test_only_the_other_side_accepts(engagement, sla, client_manager, persona, status, request):
    change_request = ask_target(engagement, sla, client_manager)
    browser = signed_in(request.getfixturevalue(persona))
    for action in ("accept", "decline"):
        url = reverse(f"change-request-{action}", args=[change_request.pk])
        assert browser.post(url, {"reason": "No."}).status_code == status
    change_request.refresh_from_db()
    assert change_request.status == "open"
    sla.refresh_from_db()
    assert sla.target == Decimal("99.5")


def test_a_second_request_for_the_same_sla_is_refused_naming_the_first(
    engagement, sla, client_manager, provider_manager
):
    first = ask_target(engagement, sla, client_manager)
    response = signed_in(provider_manager).post(sla_change_url(sla), {**SLA_FORM, "target": "98"})
    assert response.status_code == 400
    assert f"#{first.pk}" in page_text(response)
    assert ChangeRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [({"target": "abc"}, "target"), ({"weight": "0"}, "weight"), ({"name": ""}, "name")],
)
def test_bad_sla_values_stay_in_the_form_and_nothing_is_asked(
    engagement, sla, client_manager, change, field
):
    data = {**SLA_FORM, "unit": "ms per call", **change}
    response = signed_in(client_manager).post(sla_change_url(sla), data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.text
    assert 'value="ms per call"' in response.text  # what was typed is kept
    assert not ChangeRequest.objects.exists()


def test_viewers_and_outsiders_cannot_propose(engagement, sla, client_viewer, outsider):
    assert signed_in(client_viewer).get(sla_change_url(sla)).status_code == 403
    assert signed_in(client_viewer).post(sla_change_url(sla), SLA_FORM).status_code == 403
    assert signed_in(outsider).get(sla_change_url(sla)).status_code == 404
    assert not ChangeRequest.objects.exists()


def test_an_sla_of_another_engagement_is_not_found(engagement, client_manager, client_org):
    elsewhere = SLAFactory(engagement=EngagementFactory(client=client_org))
    url = reverse("sla-change", args=[engagement.pk, elsewhere.pk])
    assert signed_in(client_manager).get(url).status_code == 404


def test_new_sla_deactivation_goals_cadence_and_scoring_each_open_a_request(
    engagement, sla, client_manager, client_admin
):
    browser = signed_in(client_manager)
    new_sla = {**SLA_FORM, "name": "First response", "unit": "hours", "target": "4"}
    new_sla["direction"] = "lower_is_better"
    assert browser.post(reverse("sla-propose", args=[engagement.pk]), new_sla).status_code == 302
    deactivate = {k: v for k, v in SLA_FORM.items() if k != "active"} | {"target": "99.5"}
    assert browser.post(sla_change_url(sla), deactivate).status_code == 302
    contact = KeyContactFactory(engagement=engagement, side="client")
    goal = {
        "title": "Self-service portal",
        "target": "40% of tickets",
        "start_date": "2026-02-01",
        "due_date": "2026-09-30",
        "client_contact": contact.pk,
    }
    assert browser.post(reverse("goal-propose", args=[engagement.pk]), goal).status_code == 302
    existing = SharedGoalFactory(engagement=engagement, title="Onboarding")
    cancel = {"title": "Onboarding", "start_date": "2026-01-01", "due_date": "2026-12-31"}
    url = reverse("goal-change", args=[engagement.pk, existing.pk])
    assert browser.post(url, {**cancel, "cancelled": "on"}).status_code == 302
    cadence = {"checkin_cadence_days": "14", "scorecard_period": "month"}
    url = reverse("engagement-terms-change", args=[engagement.pk])
    assert browser.post(url, cadence).status_code == 302
    assert (
        signed_in(client_admin)
        .post(reverse("scoring-config-update", args=[engagement.pk]), scoring_form(survey=1))
        .status_code
        == 302
    )

    proposed = {
        (request.subject, tuple(sorted(request.proposed)))
        for request in ChangeRequest.objects.all()
    }
    assert ("sla", ("active",)) in proposed
    assert ("goal", ("cancelled",)) in proposed
    assert ("engagement", ("checkin_cadence_days",)) in proposed
    assert ("scoring_config", ("survey_threshold",)) in proposed
    assert ChangeRequest.objects.filter(status="open").count() == 6
    # Nothing changed.
    assert SLA.objects.filter(engagement=engagement).count() == 1 and sla.active
    assert SharedGoal.objects.filter(engagement=engagement).count() == 1
    assert not SharedGoal.objects.get().cancelled
    assert Engagement.objects.get().checkin_cadence_days == engagement.checkin_cadence_days
    assert not ScoringConfig.objects.exists()


def scoring_form(survey=3) -> dict:
    weights = {"reliance": 30, "contact": 15, "transparency": 15, "dedication": 15}
    weights |= {"alignment": 15, "sentiment": 10}
    return {
        **{f"weight_{name}": value for name, value in weights.items()},
        "healthy_at": "75",
        "watch_at": "50",
        "min_coverage": "0.4",
        "survey_threshold": str(survey),
        "grace_days": "5",
    }


def test_scoring_needs_an_admin_of_the_other_side(engagement, client_admin, provider_manager):
    response = signed_in(client_admin).get(reverse("scoring-config-update", args=[engagement.pk]))
    assert "when one of their admins accepts it" in page_text(response)
    signed_in(client_admin).post(
        reverse("scoring-config-update", args=[engagement.pk]), scoring_form(survey=5)
    )
    change_request = ChangeRequest.objects.get()
    section = agreement_html(signed_in(provider_manager).get(engagement.get_absolute_url()))
    assert reverse("change-request-accept", args=[change_request.pk]) not in section
    assert reverse("change-request-decline", args=[change_request.pk]) in section


def test_term_links_only_for_those_who_may_change_them(
    engagement, sla, client_viewer, client_manager
):
    viewer_page = signed_in(client_viewer).get(engagement.get_absolute_url()).text
    manager_page = signed_in(client_manager).get(engagement.get_absolute_url()).text
    for url in (
        sla_change_url(sla),
        reverse("sla-propose", args=[engagement.pk]),
        reverse("goal-propose", args=[engagement.pk]),
        reverse("engagement-terms-change", args=[engagement.pk]),
    ):
        assert url not in viewer_page
        assert url in manager_page
    assert reverse("scoring-config-update", args=[engagement.pk]) not in manager_page
    assert '<a href="#agreement">Agreement</a>' in manager_page


# ---------------------------------------------------------------- a proposal
@pytest.fixture
def proposal(client_org, provider_org, client_manager):
    return EngagementFactory(
        client=client_org,
        provider=provider_org,
        status="proposed",
        proposed_by=client_manager,
        proposed_by_side="client",
        start_date=date(2026, 3, 1),
    )


def test_on_a_proposal_the_proposer_edits_directly_and_the_counterpart_is_refused(
    proposal, client_manager, provider_manager, provider_org
):
    url = reverse("sla-propose", args=[proposal.pk])
    browser = signed_in(client_manager)
    form = browser.get(url)
    assert "your changes apply directly" in page_text(form)
    response = browser.post(url, SLA_FORM, follow=True)
    assert "Saved: it is part of your proposal" in page_text(response)
    assert SLA.objects.get(engagement=proposal).target == Decimal("99.9")
    assert not ChangeRequest.objects.exists()
    assert signed_in(provider_manager).post(url, {**SLA_FORM, "name": "B"}).status_code == 403
    assert SLA.objects.filter(engagement=proposal).count() == 1


# ---------------------------------------------------------------- the section's reading
def test_a_request_past_its_expiry_is_in_the_audit_as_expired_before_the_task_ran(
    engagement, sla, client_manager, provider_manager
):
    change_request = ask_target(engagement, sla, client_manager)
    ChangeRequest.objects.filter(pk=change_request.pk).update(
        requested_at=timezone.now() - timedelta(days=31),
        expires_at=timezone.now() - timedelta(days=1),
    )
    section = " ".join(
        agreement_html(signed_in(provider_manager).get(engagement.get_absolute_url())).split()
    )
    assert "No open change requests" in section
    assert "Expired" in section and "expired undecided on" in section
    url = reverse("change-request-accept", args=[change_request.pk])
    response = signed_in(provider_manager).post(url, follow=True)
    assert "no longer open" in page_text(response)
    sla.refresh_from_db()
    assert sla.target == Decimal("99.5")


def test_decided_requests_are_capped_with_a_link_to_older_ones(
    engagement, client_manager, provider_manager
):
    slas = [SLAFactory(engagement=engagement) for _ in range(12)]
    for sla in slas:
        request = ask_target(engagement, sla, client_manager, target="90")
        from relationships.change_requests import change_request_withdraw

        change_request_withdraw(change_request=request, user=client_manager)
    browser = signed_in(provider_manager)
    section = agreement_html(browser.get(engagement.get_absolute_url()))
    assert section.count("Withdrawn") == 10
    assert "?decided=2#agreement-decided" in section
    older = agreement_html(browser.get(engagement.get_absolute_url() + "?decided=2"))
    assert older.count("Withdrawn") == 2


def test_the_page_reads_open_requests_and_comments_in_a_fixed_number_of_queries(
    engagement, client_manager, provider_manager, django_assert_max_num_queries
):
    def open_requests(count):
        # Weights: a target's request adds its back-test's one query (test below).
        for _ in range(count):
            request = terms_change(
                engagement=engagement,
                user=client_manager,
                subject="sla",
                sla=SLAFactory(engagement=engagement),
                values={"weight": "2"},
            ).change_request
            for user in (client_manager, provider_manager):
                change_request_comment(change_request=request, user=user, body="Why?")

    browser = signed_in(provider_manager)
    open_requests(2)
    with django_assert_max_num_queries(80) as few:
        browser.get(engagement.get_absolute_url())
    open_requests(4)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = browser.get(engagement.get_absolute_url())
    assert agreement_html(response).count("Why?") == 12


def test_a_target_or_scoring_request_carries_its_back_test(
    engagement, sla, client_manager, client_admin, provider_manager
):
    ask_target(engagement, sla, client_manager)
    terms_change(
        engagement=engagement,
        user=client_admin,
        subject="scoring_config",
        values={"weights": {"reliance": 60}},
    )
    section = agreement_html(signed_in(provider_manager).get(engagement.get_absolute_url()))
    assert "the SLA's attainment over the last closed periods" in section
    assert 'class="table table-cards sla-backtest"' in section
    assert "rescored as proposed" in section or "nothing to back-test" in section
