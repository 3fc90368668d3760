from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accord.auth import AdminSignInForm
from accord.health import healthz

handler500 = "accord.middleware.server_error"
admin.site.login_form = AdminSignInForm

urlpatterns = [
    # One password-change form, the one that counts wrong old passwords (accord.auth).
    path("admin/password_change/", RedirectView.as_view(pattern_name="password_change")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # REST API resources, integrations (measurements, bulk, webhooks) and the
    # browser dashboard (pages; forms) each keep their own URL module.
    path("api/v1/", include("accord.api_urls")),
    path("api/v1/", include("accord.integration_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accord.dashboard_urls")),
    path("", include("accord.dashboard_forms_urls")),
]
