"""Pages on the wire: HTML is sent compressed to clients that accept gzip, and Chart.js
(some 200 KB) is loaded only by pages that draw a chart."""

import gzip

from django.conf import settings
from django.urls import reverse

CHART_JS = "vendor/chartjs/chart.umd"


def test_gzip_compresses_last_and_leaves_static_files_to_whitenoise():
    middleware = settings.MIDDLEWARE
    gzip_at = middleware.index("django.middleware.gzip.GZipMiddleware")
    # Responses pass the list bottom up: below GZip, every middleware sees the plain body.
    assert middleware[:gzip_at] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]


def test_the_engagement_page_is_sent_gzipped_to_who_accepts_it(
    client, client_manager, scored_engagement
):
    client.force_login(client_manager)
    url = reverse("engagement-detail", args=[scored_engagement.pk])
    plain = client.get(url)
    assert "Content-Encoding" not in plain
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    html = gzip.decompress(packed.content).decode()
    assert scored_engagement.name in html and len(packed.content) < len(plain.content) / 3


def test_chart_js_is_loaded_only_where_a_chart_is_drawn(
    client, client_manager, engagement, scored_engagement
):
    client.force_login(client_manager)
    with_history = client.get(reverse("engagement-detail", args=[scored_engagement.pk]))
    assert CHART_JS in with_history.content.decode()
    assert 'id="score-chart"' in with_history.content.decode()
    for url in (
        reverse("portfolio"),
        reverse("alert-list"),
        reverse("engagement-period", args=[scored_engagement.pk, "2026-03-01"]),  # no survey
    ):
        html = client.get(url).content.decode()
        assert "<canvas" not in html and CHART_JS not in html, url
