"""Integration endpoints under /api/v1/: measurements (single and bulk) and webhooks."""

from rest_framework.routers import SimpleRouter

from relationships.bulk_api import MeasurementViewSet

router = SimpleRouter()
router.register("measurements", MeasurementViewSet, basename="measurement")

urlpatterns = router.urls
