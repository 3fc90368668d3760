"""The documented backup and restore procedure, run for real against PostgreSQL."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from relationships.measurements import MeasurementRow, measurements_import
from tests.factories import SLAFactory

ROOT = Path(__file__).resolve().parents[2]


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def row_counts(url: str) -> dict[str, int]:
    query = (
        "select table_name, (xpath('/row/c/text()', query_to_xml("
        "format('select count(*) as c from %I', table_name), false, true, '')))[1]::text::int "
        "from information_schema.tables where table_schema = 'public' order by 1"
    )
    out = subprocess.run(
        ["psql", url, "-tAF,", "-c", query], capture_output=True, text=True, check=True
    ).stdout
    return {line.split(",")[0]: int(line.split(",")[1]) for line in out.splitlines() if line}


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_keep_every_row(require_postgres, engagement, client_manager, tmp_path):
    if not shutil.which("pg_dump"):
        pytest.fail("pg_dump is needed for the backup procedure")
    sla = SLAFactory(engagement=engagement, name="Availability")
    from datetime import date
    from decimal import Decimal

    measurements_import(
        rows=[
            MeasurementRow(sla.pk, date(2026, 3, d), date(2026, 3, d), Decimal("99.9"))
            for d in (1, 2)
        ],
        actor=client_manager,
        source="test",
    )
    source = database_url(connection.settings_dict["NAME"])
    restored_name = connection.settings_dict["NAME"] + "_restored"
    admin = database_url("postgres")
    subprocess.run(
        ["psql", admin, "-c", f"drop database if exists {restored_name}"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["psql", admin, "-c", f"create database {restored_name}"], check=True, capture_output=True
    )
    try:
        dump = tmp_path / "accord.dump"
        backup = subprocess.run(
            [str(ROOT / "scripts/backup.sh"), str(dump)],
            env={"DATABASE_URL": source, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        assert backup.returncode == 0, backup.stderr
        restore = subprocess.run(
            [str(ROOT / "scripts/restore.sh"), str(dump)],
            env={"DATABASE_URL": database_url(restored_name), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        assert restore.returncode == 0, restore.stderr
        before, after = row_counts(source), row_counts(database_url(restored_name))
        assert before == after
        assert after["relationships_measurement"] == 2 and after["relationships_sla"] == 1
        again = subprocess.run(
            [str(ROOT / "scripts/restore.sh"), str(dump)],
            env={"DATABASE_URL": database_url(restored_name), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        assert again.returncode == 1 and "refusing" in again.stderr
    finally:
        subprocess.run(
            ["psql", admin, "-c", f"drop database if exists {restored_name}"], capture_output=True
        )
