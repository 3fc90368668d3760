"""What makes two organisation names, or two e-mail addresses, the same.

An organisation is chosen by id, never by name, but people read names: two
organisations whose names look alike on screen ("Lumen Retail", "LUMEN RETAIL",
"Ｌｕｍｅｎ Retail", "Lumen Re<ZWJ>tail") must not both exist. Each organisation
stores `organization_name_key(name)` under a unique constraint; this module is
the only place that says how the key is made.
"""

import unicodedata

# Characters that draw nothing, beyond the format characters (Unicode category Cf):
# Unicode's other default-ignorable code points (combining grapheme joiner, Khmer
# inherent vowels, Mongolian free variation selectors, variation selectors).
_IGNORABLE = frozenset(
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
# Letters that draw as blank space (Hangul fillers, the blank Braille pattern).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Controls that reorder the text around them: a name with a right-to-left override
# can draw as a different name, so names may not contain them at all.
_DIRECTION_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | frozenset(
    "\u2066\u2067\u2068\u2069"
)
# Scripts whose letters pass for each other ("Lumen Retаil" with a Cyrillic а).
_LOOK_ALIKE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")

LOOK_ALIKE = "An organisation with this name, or one that looks the same, already exists."
# Ends the key of a look-alike that existed before keys did, followed by its id: no
# key made from a name contains it (keys have no format characters), so none collides.
LOOK_ALIKE_MARK = "\u2063#"


def tidy_name(name: str) -> str:
    """The name as shown: whitespace runs become one space, none at either end."""
    return " ".join(name.split())


def organization_name_key(name: str) -> str:
    """The key two look-alike names share: NFKC, invisible characters removed, blanks as
    spaces, case folded, whitespace collapsed and trimmed."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(_visible(char) for char in text)
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(text.split())


def _visible(char: str) -> str:
    if char in _BLANK or unicodedata.category(char) == "Cc":
        return " "
    if char in _IGNORABLE or unicodedata.category(char) == "Cf":
        return ""
    return char


def organization_name_problems(name: str) -> list[str]:
    """Why a name cannot be an organisation's, whatever other organisations exist."""
    problems = []
    if name.strip() and not organization_name_key(name):
        problems.append("Give the organisation a name with visible letters.")
    if any(char in _DIRECTION_CONTROLS for char in name):
        problems.append(
            "A name cannot contain text-direction controls (such as a right-to-left override)."
        )
    if any(char != " " and unicodedata.category(char) == "Cc" for char in name):
        problems.append("A name cannot contain control characters.")
    if any(_mixes_scripts(word) for word in unicodedata.normalize("NFKC", name).split()):
        problems.append(
            "Write each word in one alphabet: a word mixing Latin, Greek or Cyrillic letters "
            "looks like another name."
        )
    return problems


def _mixes_scripts(word: str) -> bool:
    scripts = {
        unicodedata.name(char, "").split(" ")[0]
        for char in word
        if unicodedata.category(char).startswith("L")
    }
    return len(scripts.intersection(_LOOK_ALIKE_SCRIPTS)) > 1


def email_key(address: str) -> str:
    """An e-mail address as compared: NFKC, case folded, without surrounding space."""
    return unicodedata.normalize("NFKC", address.strip()).casefold()


def look_alike_groups(organizations) -> list[list[tuple[int, str]]]:
    """Groups of (id, name), of two or more, whose keys are one key once marks are set
    aside; `organizations` gives (id, name, key) oldest first, and so does each group."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for pk, name, key in organizations:
        groups.setdefault(key.partition(LOOK_ALIKE_MARK)[0], []).append((pk, name))
    return [group for group in groups.values() if len(group) > 1]


def describe_look_alikes(group: list[tuple[int, str]]) -> str:
    return "Organisations with look-alike names: " + ", ".join(
        f"#{pk} {name!r}" for pk, name in group
    )
