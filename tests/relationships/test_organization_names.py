"""Organisation names are unique after normalisation (issue 16, finding 1): the key, the
admin, the migration that gave existing organisations their keys and reported the
look-alikes among them, and the system check that lists those until they are renamed."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from relationships.models import Organization
from relationships.names import LOOK_ALIKE, LOOK_ALIKE_MARK, email_key, organization_name_key
from tests.factories import OrganizationFactory
from tests.look_alikes import DISTINCT, LOOK_ALIKES, look_alike_params, squatted


@pytest.mark.parametrize(
    "existing, variant", [(e, v) for e, v, reason in LOOK_ALIKES if reason == "looks the same"]
)
def test_look_alikes_share_a_key(existing, variant):
    assert organization_name_key(variant) == organization_name_key(existing)


@pytest.mark.parametrize("existing, distinct", DISTINCT)
def test_names_that_only_resemble_have_their_own_key(existing, distinct):
    assert organization_name_key(distinct) != organization_name_key(existing)


def test_the_key_is_folded_normalised_and_collapsed():
    assert organization_name_key(" Ｓtraße\u200d \t LOGISTIK\u00ad ") == "strasse logistik"


def test_e_mail_addresses_compare_without_case():
    assert email_key(" NewBie@Lumen.TEST ") == email_key("newbie@lumen.test")
    assert email_key("newbie@lumen.test") != email_key("newbie@lumen.test.evil")


# ---------------------------------------------------------------- admin
ADD = "/admin/relationships/organization/add/"
INLINE = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
    "memberships-MIN_NUM_FORMS": "0",
    "memberships-MAX_NUM_FORMS": "1000",
}


@pytest.mark.django_db
@pytest.mark.parametrize("existing, variant, reason", look_alike_params()[:6])
def test_the_admin_refuses_a_look_alike(admin_client, existing, variant, reason):
    OrganizationFactory(name=existing)
    response = admin_client.post(ADD, {"name": variant, **INLINE})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["name"]
    assert any(reason in message for message in errors)
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_saves_a_distinct_name_with_its_key(admin_client):
    OrganizationFactory(name="Lumen Retail")
    response = admin_client.post(ADD, {"name": "Lumen Retail Group", **INLINE})
    assert response.status_code == 302
    assert Organization.objects.get(name="Lumen Retail Group").name_key == "lumen retail group"


@pytest.mark.django_db
def test_a_kept_apart_look_alike_must_be_renamed_to_be_saved(admin_client):
    OrganizationFactory(name="Lumen Retail")
    squat = squatted("LUMEN RETAIL")
    change = f"/admin/relationships/organization/{squat.pk}/change/"
    unchanged = admin_client.post(change, {"name": "LUMEN RETAIL", **INLINE})
    assert unchanged.context["adminform"].form.errors["name"] == [LOOK_ALIKE]
    assert admin_client.post(change, {"name": "Lumen Outlet", **INLINE}).status_code == 302
    squat.refresh_from_db()
    assert (squat.name, squat.name_key) == ("Lumen Outlet", "lumen outlet")


# ---------------------------------------------------------------- migration and check
def _database_check() -> str:
    output = io.StringIO()
    call_command("check", "--database", "default", stdout=output, stderr=output)
    return output.getvalue()


@pytest.mark.django_db
def test_the_check_lists_look_alikes_until_they_are_renamed():
    lumen = OrganizationFactory(name="Lumen Retail")
    squat = squatted("LUMEN RETAIL")
    OrganizationFactory(name="Bluefin IT Services")
    report = _database_check()
    assert "relationships.W001" in report
    assert f"#{lumen.pk} 'Lumen Retail', #{squat.pk} 'LUMEN RETAIL'" in report
    assert "Bluefin" not in report

    squat.name = "Lumen Outlet"
    squat.full_clean()
    squat.save()
    assert "relationships.W001" not in _database_check()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keys_every_organisation_and_reports_look_alikes(
    capsys, latest_migrations_after
):
    before, after = (
        ("relationships", "0009_scoring_config_grace_days"),
        ("relationships", "0011_organization_name_key_unique"),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps.get_model("relationships", "Organization")
    names = ["Lumen Retail", "LUMEN RETAIL", "Bluefin IT Services", "Ｌｕｍｅｎ Re\u200dtail"]
    ids = {name: old.objects.create(name=name).pk for name in names}

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])
    report = capsys.readouterr().out

    lumen, shouting, fullwidth = ids["Lumen Retail"], ids["LUMEN RETAIL"], ids[names[3]]
    assert (
        f"Organisations with look-alike names: #{lumen} 'Lumen Retail', "
        f"#{shouting} 'LUMEN RETAIL', #{fullwidth} {names[3]!r}; rename all but #{lumen}."
    ) in report
    assert "Bluefin" not in report
    keys = dict(Organization.objects.values_list("pk", "name_key"))
    assert keys[lumen] == "lumen retail"
    assert keys[shouting] == f"lumen retail{LOOK_ALIKE_MARK}{shouting}"
    assert keys[fullwidth] == f"lumen retail{LOOK_ALIKE_MARK}{fullwidth}"
    assert keys[ids["Bluefin IT Services"]] == "bluefin it services"
    # Nothing was renamed; the check goes on listing them.
    assert set(Organization.objects.values_list("name", flat=True)) == set(names)
    assert f"#{shouting} 'LUMEN RETAIL'" in _database_check()
