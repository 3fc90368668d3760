"""The organisation page, compare and search: thin pages over overview.selectors and
overview.search."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from overview.forms import CompareForm, SearchForm
from overview.search import LIMIT, search
from overview.selectors import (
    COMPARE_LIMIT,
    COMPARE_PERIODS,
    chart_rows,
    compare_chart,
    engagements_compared,
    figure_rows,
    member_organization,
    organisation_rollup,
)
from scorecards.models import Band


@login_required
@require_GET
def organisation_detail(request, pk):
    organization = member_organization(request.user, pk)
    return render(
        request,
        "overview/organisation.html",
        {"rollup": organisation_rollup(request.user, organization), "bands": Band.choices},
    )


@login_required
@require_GET
def compare(request):
    form = CompareForm(request.GET or None, user=request.user)
    compared, chart = [], None
    if form.is_valid():
        compared = engagements_compared(
            form.cleaned_data["engagement"].select_related("client", "provider")
        )
        chart = compare_chart(compared)
    return render(
        request,
        "overview/compare.html",
        {
            "form": form,
            "compared": compared,
            "figure_rows": figure_rows(compared),
            "chart": chart,
            "chart_rows": chart_rows(chart) if chart else [],
            "limit": COMPARE_LIMIT,
            "periods": COMPARE_PERIODS,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def search_page(request):
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = search(request.user, form.cleaned_data["q"])
    return render(
        request,
        "overview/search.html",
        {"form": form, "results": results, "limit": LIMIT},
        status=400 if form.errors else 200,
    )
