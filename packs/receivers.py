"""The review pack rides on the e-mail that says a period awaits the member's review
(PRODUCT.md §10): notices asks through `scorecards.signals.review_email_attachments`."""

from datetime import date

from django.dispatch import receiver

from packs.selectors import NoPack
from packs.services import pack_for
from scorecards.signals import review_email_attachments


@receiver(review_email_attachments, dispatch_uid="packs.review_pack_attachment")
def review_pack_attachment(sender, *, engagement, data, **kwargs) -> list:
    """The period's pack as a PDF attachment; none for a period without one (NoPack)."""
    if "period_start" not in data:
        return []
    try:
        content, filename = pack_for(
            engagement=engagement, period_start=date.fromisoformat(data["period_start"])
        )
    except NoPack:
        return []
    return [(filename, content, "application/pdf")]
