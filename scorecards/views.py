from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def portfolio(request):
    return render(request, "dashboard/portfolio.html", {})


@login_required
def alert_list(request):
    return render(request, "dashboard/alerts.html", {})
