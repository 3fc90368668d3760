"""The review pack in the API: an engagement's period and quarter packs (any member, the
engagement's tenancy), and an organisation's portfolio packs of a quarter (its admins)."""

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.base import ApiViewSet, StrictSerializer
from core.api.errors import Conflict
from packs.models import PortfolioPack
from packs.portfolio import portfolio_pack_request
from packs.selectors import NoPack
from packs.services import pack_for
from packs.views import pdf_download
from relationships.models import Organization

# Any path segment: a date that is not one is a 404 of the API's own (JSON) shape.
DAY = r"[^/.]+"
PDF = {(200, "application/pdf"): OpenApiTypes.BINARY}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise NotFound(f"{text} is not a date (YYYY-MM-DD).") from None


def _pack(engagement, start: str, *, quarter: bool):
    try:
        return pdf_download(
            *pack_for(engagement=engagement, period_start=_day(start), quarter=quarter)
        )
    except NoPack as exc:
        raise NotFound(str(exc)) from None


class EngagementPacks:
    """The engagement viewset's review packs: any member of either side downloads them."""

    @extend_schema(
        parameters=[OpenApiParameter("period_start", OpenApiTypes.DATE, OpenApiParameter.PATH)],
        responses=PDF,
        description=(
            "The review pack of a closed period (PRODUCT.md §10) as a PDF: the scorecard, a "
            "chart of the last 12 periods, dimensions with their explanations, SLA "
            "attainment, goals, issues, contribution reviews, check-ins, the survey report, "
            "alerts and the sign-off block, with the scorecard's digest in the footer. Made "
            "once per content and stored: asking again returns the same file until a "
            "correction or a review changes what it shows. 404 if the period has not "
            "closed or has no final scorecard."
        ),
    )
    @action(detail=True, methods=["get"], url_path=f"periods/(?P<period_start>{DAY})/pack")
    def period_pack(self, request, pk=None, period_start=None):
        return _pack(self.get_object(), period_start, quarter=False)

    @extend_schema(
        parameters=[OpenApiParameter("quarter_start", OpenApiTypes.DATE, OpenApiParameter.PATH)],
        responses=PDF,
        description=(
            "The quarter's review pack of a monthly engagement as a PDF: its three months "
            "side by side, with the quarter's goals, issues and sign-offs. 404 for an "
            "engagement of other periods, or a quarter that has not closed."
        ),
    )
    @action(detail=True, methods=["get"], url_path=f"quarters/(?P<quarter_start>{DAY})/pack")
    def quarter_pack(self, request, pk=None, quarter_start=None):
        return _pack(self.get_object(), quarter_start, quarter=True)


class PortfolioPackSerializer(serializers.ModelSerializer):
    percent_done = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = PortfolioPack
        fields = [
            "id",
            "organization",
            "quarter_start",
            "status",
            "percent_done",
            "engagements_total",
            "chunks_total",
            "chunks_done",
            "packs_made",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, job) -> str | None:
        """Where the zip is, once made."""
        if not job.file:
            return None
        return self.context["request"].build_absolute_uri(
            reverse("portfoliopack-download", args=[job.pk])
        )


class PortfolioPackRequestSerializer(StrictSerializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        help_text="One of your organisations; you must be its admin.",
    )
    quarter_start = serializers.DateField(
        help_text="The first day of a quarter that has ended (e.g. 2026-07-01)."
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["organization"].queryset = Organization.objects.of_member(request.user)
        return fields


@extend_schema_view(
    list=extend_schema(summary="Portfolio packs of the organisations you administer"),
    retrieve=extend_schema(summary="A portfolio pack's progress"),
    create=extend_schema(
        request=PortfolioPackRequestSerializer,
        responses={202: PortfolioPackSerializer},
        summary="Ask for all review packs of a quarter, as one zip made in the background",
        description=(
            "An organisation's admin asks for the review packs of a quarter that has ended, "
            "of every engagement the organisation is a party to (a monthly engagement's "
            "quarter pack; otherwise each of its periods in the quarter that has a final "
            "scorecard). Answers 202; poll the job (`percent_done`, `status`) and download "
            "its zip once `status` is `succeeded`."
        ),
    ),
    download=extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        description="The portfolio pack's zip; 409 until it is made.",
    ),
)
class PortfolioPackViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet
):
    serializer_class = PortfolioPackSerializer
    filterset_fields = ["organization", "status"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return PortfolioPack.objects.filter(
            organization__in=Organization.objects.administered_by(self.request.user)
        ).order_by("-created_at", "-id")

    def create(self, request, *args, **kwargs):
        given = PortfolioPackRequestSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        try:
            job = portfolio_pack_request(user=request.user, **given.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return Response(
            PortfolioPackSerializer(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = self.get_object()
        if not job.file:
            raise Conflict(f"The zip is not made yet ({job.percent_done}% done).")
        if not job.zip_stored:
            raise Conflict("The zip is no longer stored: ask for the quarter's packs again.")
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.file.name.rsplit("/", 1)[-1],
            content_type="application/zip",
        )
