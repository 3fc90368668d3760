"""The environment variables accord/settings.py reads, found in its source."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_READERS = re.compile(
    r"""(?:env_(?:str|bool|int|list)|os\.environ\.get|os\.getenv)\(\s*["']([A-Z0-9_]+)["']"""
)


def settings_environment_names() -> set[str]:
    source = (ROOT / "accord" / "settings.py").read_text()
    # dj_database_url.config() reads DATABASE_URL itself.
    implicit = {"DATABASE_URL"} if "dj_database_url.config(" in source else set()
    return set(_READERS.findall(source)) | implicit
