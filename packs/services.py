"""Making review packs: render the content once, keep the file, return it when asked again.

Callers check access first (the period page, the API, the portfolio job); `pack_for` is
what they and the notices' "awaiting your review" e-mail call.
"""

import hashlib
from datetime import date
from pathlib import Path

import orjson
import typst
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from packs.models import ReviewPack
from packs.selectors import moment_text, pack_content, pack_scope
from relationships.models import Engagement
from relationships.periods import Period

TEMPLATE = Path(__file__).parent / "typst" / "pack.typ"


def pack_key(content: dict) -> str:
    """The digest of what a pack shows (its content has no generation time)."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def pack_render(content: dict, *, generated_at) -> bytes:
    """The PDF of `content`: Typst with its own embedded fonts only (no system fonts), so a
    machine with nothing but Python makes the same file."""
    data = {**content, "generated_at": moment_text(generated_at)}
    return typst.compile(
        str(TEMPLATE),
        root=str(TEMPLATE.parent),
        ignore_system_fonts=True,
        sys_inputs={"data": orjson.dumps(data).decode()},
    )


def pack_filename(engagement: Engagement, scope: Period) -> str:
    return f"accord-{slugify(engagement.name) or engagement.pk}-{scope.label}-review-pack.pdf"


def stored_pack(*, engagement: Engagement, scope: Period) -> ReviewPack:
    """The pack of `scope` showing what is true now: the stored one if its content is
    unchanged, else a new one rendered and stored. NoPack if the period has none."""
    content = pack_content(engagement, scope)
    key = pack_key(content)
    found = ReviewPack.objects.filter(
        engagement=engagement, period_kind=scope.kind, period_start=scope.start, key=key
    ).first()
    if found is not None and found.file.storage.exists(found.file.name):
        return found
    pdf = pack_render(content, generated_at=timezone.now())
    if found is not None:  # its file was lost (MEDIA_ROOT is a cache): made again
        found.file.save(pack_filename(engagement, scope), ContentFile(pdf), save=False)
        found.size = len(pdf)
        found.save(update_fields=["file", "size"])
        return found
    pack = ReviewPack(
        engagement=engagement,
        period_kind=scope.kind,
        period_start=scope.start,
        key=key,
        digest=content["digest"],
        size=len(pdf),
    )
    pack.file.save(pack_filename(engagement, scope), ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            pack.save()
    except IntegrityError:  # made meanwhile by another request or worker: theirs stays
        pack.file.delete(save=False)
        return ReviewPack.objects.get(
            engagement=engagement, period_kind=scope.kind, period_start=scope.start, key=key
        )
    return pack


def pack_for(
    *, engagement: Engagement, period_start: date, quarter: bool = False
) -> tuple[bytes, str]:
    """The review pack of the engagement's closed period starting on `period_start` (with
    `quarter`, of a monthly engagement's quarter): the PDF's bytes and a file name.
    NoPack (packs.selectors) says why there is none. The caller has checked access."""
    scope = pack_scope(engagement, period_start, quarter=quarter)
    pack = stored_pack(engagement=engagement, scope=scope)
    with pack.file.open("rb") as stored:
        return stored.read(), pack_filename(engagement, scope)
