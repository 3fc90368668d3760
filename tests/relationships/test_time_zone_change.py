"""Changing an engagement's time zone in the admin moves its records' local dates."""

from datetime import UTC, date, datetime

import pytest

from feedback.models import CheckIn
from relationships.models import Engagement
from tests.factories import CheckInFactory


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456!")
    client.force_login(admin)
    return client


def test_admin_time_zone_change_rederives_local_dates(staff_client, engagement):
    # 23:30 UTC on 31 March is 1 April in Auckland.
    checkin = CheckInFactory(
        engagement=engagement, occurred_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    )
    assert checkin.occurred_on == date(2026, 3, 31)
    form = (
        staff_client.get(f"/admin/relationships/engagement/{engagement.pk}/change/")
        .context["adminform"]
        .form
    )
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["time_zone"] = "Pacific/Auckland"
    for prefix in ("contacts", "slas", "goals"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = staff_client.post(f"/admin/relationships/engagement/{engagement.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Engagement.objects.get(pk=engagement.pk).time_zone == "Pacific/Auckland"
    assert CheckIn.objects.get(pk=checkin.pk).occurred_on == date(2026, 4, 1)
