from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # REST API resources, integrations (measurements, bulk, webhooks) and the
    # browser dashboard (pages; forms) each keep their own URL module.
    path("api/v1/", include("accord.api_urls")),
    path("api/v1/", include("accord.integration_urls")),
    path("", include("accord.dashboard_urls")),
    path("", include("accord.dashboard_forms_urls")),
]
