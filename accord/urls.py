from csp.decorators import csp_update
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accord.auth import AdminSignInForm
from accord.health import healthz

# Styled error pages (templates/403.html, 404.html, 500.html); 404 is Django's own handler.
handler403 = "accord.error_pages.permission_denied"
handler500 = "accord.middleware.server_error"
admin.site.login_form = AdminSignInForm

# The API docs keep the site's Content-Security-Policy: the split view serves Swagger UI's
# start-up script as a file (?script), not inline, and the one <style> block of its page
# (box sizing, page background) is allowed by its hash, on this page only. A new version
# of drf-spectacular that changes the block fails the browser test (tests/reliability/
# test_content_security_policy.py) until the hash is updated.
SWAGGER_UI_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
api_docs = csp_update({"style-src": [SWAGGER_UI_STYLE_HASH]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)



@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever a page links: send them to the static file
    (not permanently, as its address changes with its content in production)."""
    return HttpResponseRedirect(static("favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    # One password-change form, the one that counts wrong old passwords (accord.auth).
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # REST API resources, integrations (measurements, bulk, webhooks) and the
    # browser dashboard (pages; forms) each keep their own URL module.
    path("api/v1/", include("accord.api_urls")),
    path("api/v1/", include("accord.integration_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("", include("accord.dashboard_urls")),
    path("", include("accord.dashboard_forms_urls")),
]
