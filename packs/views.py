"""The review pack's pages: its print view, its PDF, and an organisation's portfolio packs."""

import io
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from packs.forms import PortfolioPackForm
from packs.models import PortfolioPack
from packs.portfolio import portfolio_pack_request
from packs.selectors import NoPack, moment_text, pack_content, pack_scope
from packs.services import pack_for
from relationships.forms import add_service_errors
from relationships.models import Organization
from relationships.tenancy import engagement_with_access

CHART = {"width": 720, "height": 220, "left": 30, "top": 8, "bottom": 24}


def chart_svg(chart: dict) -> dict:
    """The pack's chart (points in a unit square) in the print view's SVG coordinates."""
    width, height = CHART["width"] - CHART["left"], CHART["height"] - CHART["top"] - CHART["bottom"]

    def at(point):
        return (
            round(CHART["left"] + width * point[0], 1),
            round(CHART["top"] + height * (1 - point[1]), 1),
        )

    series = []
    for line in chart["series"]:
        dots = [at(point) for point in line["points"] if point is not None]
        series.append(
            {"name": line["name"], "dots": dots, "line": " ".join(f"{x},{y}" for x, y in dots)}
        )
    return {
        **CHART,
        "periods": len(chart["ticks"]),
        "series": series,
        "grid": [
            (round(CHART["top"] + height * (1 - y / 100), 1), y) for y in (0, 25, 50, 75, 100)
        ],
        "ticks": [(at((x, 0))[0], label) for x, label in chart["ticks"]],
    }


def _scope(request, pk, start, *, quarter):
    engagement, _ = engagement_with_access(request.user, pk, action="read")
    try:
        return engagement, pack_scope(engagement, date.fromisoformat(start), quarter=quarter)
    except (ValueError, NoPack) as exc:  # not a date, or no pack of that period
        raise Http404(str(exc)) from None


def pack_urls(engagement, start: date, *, quarter: bool = False) -> dict:
    """The print view's and the PDF's addresses of a period's (or a quarter's) pack."""
    prefix = "quarter" if quarter else "period"
    args = [engagement.pk, start.isoformat()]
    return {
        "print": reverse(f"{prefix}-pack", args=args),
        "pdf": reverse(f"{prefix}-pack-pdf", args=args),
    }


@login_required
@require_GET
def pack_print(request, pk, start, *, quarter=False):
    engagement, scope = _scope(request, pk, start, quarter=quarter)
    try:
        pack = pack_content(engagement, scope)
    except NoPack as exc:
        raise Http404(str(exc)) from None
    pack["generated_at"] = moment_text(timezone.now())
    month = scope.end.replace(day=1) if quarter else scope.start  # the quarter's last month
    return render(
        request,
        "packs/pack.html",
        {
            "pack": pack,
            "chart": chart_svg(pack["chart"]),
            "engagement": engagement,
            "pdf_url": pack_urls(engagement, scope.start, quarter=quarter)["pdf"],
            "back_url": reverse("engagement-period", args=[engagement.pk, month.isoformat()]),
        },
    )


@login_required
@require_GET
def pack_pdf(request, pk, start, *, quarter=False):
    engagement, scope = _scope(request, pk, start, quarter=quarter)
    try:
        pdf, filename = pack_for(engagement=engagement, period_start=scope.start, quarter=quarter)
    except NoPack as exc:
        raise Http404(str(exc)) from None
    return pdf_download(pdf, filename)


@login_required
@require_GET
def quarter_pack_print(request, pk, start):
    return pack_print(request, pk, start, quarter=True)


@login_required
@require_GET
def quarter_pack_pdf(request, pk, start):
    return pack_pdf(request, pk, start, quarter=True)


def pdf_download(pdf: bytes, filename: str) -> FileResponse:
    """A PDF as a file download, for the pages and the API alike."""
    return FileResponse(
        io.BytesIO(pdf), as_attachment=True, filename=filename, content_type="application/pdf"
    )


# ---------------------------------------------------------------- portfolio packs
def _administered(request, pk) -> Organization:
    """The organisation (404 unless the user belongs to it; 403 unless its admin)."""
    organization = get_object_or_404(Organization.objects.of_member(request.user), pk=pk)
    organization.require_admin(request.user)
    return organization


@login_required
@require_http_methods(["GET", "POST"])
def portfolio_packs(request, pk):
    """An organisation's admins ask for every review pack of a quarter (one zip, made in the
    background) and follow the jobs' progress here."""
    organization = _administered(request, pk)
    form = PortfolioPackForm(
        request.POST if request.method == "POST" else None, today=timezone.localdate()
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = portfolio_pack_request(
                organization=organization,
                user=request.user,
                quarter_start=date.fromisoformat(form.cleaned_data["quarter_start"]),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The packs are being made; this page shows how far they are.")
            return redirect(f"{reverse('portfolio-packs', args=[organization.pk])}#job-{job.pk}")
    jobs = organization.portfolio_packs.select_related("requested_by")[:20]
    return render(
        request,
        "packs/portfolio_packs.html",
        {"organization": organization, "form": form, "jobs": jobs},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def portfolio_pack_download(request, pk, job_pk):
    organization = _administered(request, pk)
    job = get_object_or_404(PortfolioPack, organization=organization, pk=job_pk)
    if not job.zip_stored:
        raise Http404("The zip is not made yet, or no longer stored: ask for it again.")
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.file.name.rsplit("/", 1)[-1],
        content_type="application/zip",
    )
