"""Organisation names that must not exist beside the first of each pair, and why: the
audit's variants and more of each kind (issue 16, finding 1). Shared by the API, the
dashboard and the admin tests."""

import pytest

from relationships.models import Organization
from relationships.names import LOOK_ALIKE_MARK, organization_name_key

SAME = "looks the same"  # names.LOOK_ALIKE
DIRECTION = "text-direction"
ALPHABETS = "one alphabet"

LOOK_ALIKES = [
    ("Lumen Retail", "LUMEN RETAIL", SAME),
    ("Lumen Retail", "lumen retail", SAME),
    ("Lumen Retail", "Lumen Re\u200dtail", SAME),  # zero-width joiner
    ("Lumen Retail", "Lu\u200bmen Re\u200ctail", SAME),  # zero-width space, non-joiner
    ("Lumen Retail", "\ufeffLumen\u2060 Retail\u00ad", SAME),  # BOM, word joiner, soft hyphen
    ("Lumen Retail", "Lumen\ufe0f Retail\u034f", SAME),  # variation selector, grapheme joiner
    ("Lumen Retail", "Ｌｕｍｅｎ Ｒｅｔａｉｌ", SAME),  # fullwidth letters
    ("Lumen Retail", "𝐋𝐮𝐦𝐞𝐧 𝐑𝐞𝐭𝐚𝐢𝐥", SAME),  # mathematical bold
    ("Lumen Retail", "Lumen  Retail", SAME),  # double space
    ("Lumen Retail", " Lumen\t\u00a0Retail\u3000", SAME),  # tab, no-break, ideographic space
    ("Lumen Retail", "Lumen\u3164Retail", SAME),  # Hangul filler drawn as a space
    ("Lumen Retail", "Lumen \u202eRetail", DIRECTION),  # right-to-left override
    ("Lumen Retail", "\u202eliateR nemuL", DIRECTION),  # reversed text, drawn as the name
    ("Lumen Retail", "Lumen \u2067Retail\u2069", DIRECTION),  # right-to-left isolate
    ("Lumen Retail", "Lumen Ret\u0430il", ALPHABETS),  # Cyrillic а
    ("Lumen Retail", "Lum\u0435n R\u0435tail", ALPHABETS),  # Cyrillic е twice
    ("Acme Hosting", "\u0391cme Hosting", ALPHABETS),  # Greek capital alpha
    ("Straße Logistik", "STRASSE LOGISTIK", SAME),  # ß case-folds to ss
    ("Straße Logistik", "Strasse Logistik", SAME),
]

# Names that merely resemble, or that mix alphabets word by word: accepted.
DISTINCT = [
    ("Lumen Retail", "Lumen Retail Group"),
    ("Lumen Retail", "LumenRetail"),
    ("Lumen Retail", "ООО Lumen Retail"),
    ("Lumen Retail", "株式会社 Lumen"),
    ("Lumen Retail", "Ελληνικά Δίκτυα"),
    ("Straße Logistik", "Müller Straßenbau"),
]


def look_alike_params():
    return [
        pytest.param(existing, variant, reason, id=f"{variant!a}")
        for existing, variant, reason in LOOK_ALIKES
    ]


def squatted(name: str) -> Organization:
    """A look-alike made before names were normalised, as migration 0009 left it."""
    Organization.objects.bulk_create([Organization(name=name, name_key="pending")])
    squat = Organization.objects.get(name=name)
    key = f"{organization_name_key(name)}{LOOK_ALIKE_MARK}{squat.pk}"
    Organization.objects.filter(pk=squat.pk).update(name_key=key)
    return squat
