"""The README a newcomer follows stays true to the code."""

import re

from tests.reliability.settings_source import ROOT, settings_environment_names

README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()


def test_the_configuration_table_lists_every_variable_the_settings_read():
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", README, flags=re.MULTILINE))
    assert documented == settings_environment_names()


def test_the_two_commands_are_make_targets():
    assert "make run" in README and "make test" in README
    assert re.search(r"^run:", MAKEFILE, flags=re.MULTILINE)
    assert re.search(r"^test:", MAKEFILE, flags=re.MULTILINE)
