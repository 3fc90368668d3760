"""Integration endpoints under /api/v1/: measurements (single and bulk) and webhooks."""

from rest_framework.routers import SimpleRouter

from relationships.bulk_api import MeasurementViewSet
from scorecards.webhooks_api import WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("measurements", MeasurementViewSet, basename="measurement")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = router.urls
