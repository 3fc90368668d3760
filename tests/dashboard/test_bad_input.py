import pytest
from django.urls import reverse

HUGE = "9" * 25


@pytest.mark.parametrize(
    "path",
    [
        f"/engagements/{HUGE}/",
        f"/engagements/{HUGE}/scorecards.csv",
        f"/runs/{HUGE}/",
        "/engagements/٣/",
        "/engagements/１/scorecards.csv",
    ],
)
def test_out_of_range_ids_in_paths_are_404(client, client_manager, path):
    client.force_login(client_manager)
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("value", [HUGE, "²", "٣", "３", "-1", "abc", "0", ""])
def test_odd_query_parameters_are_ignored(client, client_manager, scored_engagement, value):
    client.force_login(client_manager)
    for name, path in (
        ("counterpart", reverse("portfolio")),
        ("page", reverse("portfolio")),
        ("engagement", reverse("alert-list")),
        ("run", reverse("engagement-detail", args=[scored_engagement.pk])),
    ):
        assert client.get(path, {name: value}).status_code == 200, (name, value)


def test_acknowledging_an_unknown_alert_is_404(client, client_manager):
    client.force_login(client_manager)
    assert client.post(reverse("alert-acknowledge", args=[HUGE])).status_code == 404
