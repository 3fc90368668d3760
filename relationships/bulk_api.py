"""Measurements API: list, read with correction history, record one value, import in bulk.

Single and bulk writes share the field rules of relationships.validation and the
upsert of relationships.measurements, so they answer the same bad input the same way.
The bulk path skips DRF's per-row serializers: it parses JSON as every API body is parsed
(core.api.plumbing.json_loads) or CSV as the dashboard's upload is (validation.rows_from_csv)
and validates column by column, to take a full batch quickly (benchmarks/RESULTS.md).
"""

from itertools import islice

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ApiFilterSet, IdFilter, ReadViewSet, StrictSerializer, TenantViewSet
from core.api.plumbing import json_loads
from core.inputs import whole_number
from core.memory import collector_paused
from relationships import validation
from relationships.measurements import (
    MAX_BULK_ROWS,
    MeasurementRow,
    measurements_import,
)
from relationships.models import Measurement, Side

# A full batch of 10,000 rows with 100-character sources stays well below this.
MAX_BULK_BYTES = 4 * 1024 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The request body is larger than {MAX_BULK_BYTES // (1024 * 1024)} MB."
    default_code = "payload_too_large"


# ---------------------------------------------------------------- serializers
class MeasurementSerializer(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="sla.engagement_id", read_only=True)
    side = serializers.ChoiceField(
        source="sla.owner_side", choices=Side.choices, read_only=True, help_text="The SLA's owner."
    )
    is_current = serializers.BooleanField(read_only=True)
    recorded_by_side = serializers.CharField(
        read_only=True,
        help_text="The recorder's side in the engagement (client or provider); empty if unknown.",
    )
    recorded_by_owner = serializers.BooleanField(
        read_only=True,
        help_text="Whether the side that owns the SLA recorded it; a value recorded by the "
        "other side is marked so, and the owning side may dispute it.",
    )
    open_dispute = serializers.IntegerField(
        source="open_dispute_id",
        read_only=True,
        allow_null=True,
        help_text="The id of the value's open dispute (measurement-disputes), if any.",
    )

    class Meta:
        model = Measurement
        fields = [
            "id",
            "sla",
            "engagement",
            "side",
            "period_start",
            "period_end",
            "value",
            "source",
            "recorded_by",
            "recorded_by_side",
            "recorded_by_owner",
            "open_dispute",
            "recorded_at",
            "import_batch",
            "supersedes",
            "superseded_at",
            "is_current",
        ]
        read_only_fields = fields


class MeasurementDetailSerializer(MeasurementSerializer):
    history = serializers.SerializerMethodField(
        help_text="Every value recorded for this SLA and period start, oldest first; "
        "each correction supersedes the one before."
    )

    class Meta(MeasurementSerializer.Meta):
        fields = [*MeasurementSerializer.Meta.fields, "history"]
        read_only_fields = fields

    def get_history(self, measurement) -> list[dict]:
        chain = (
            Measurement.objects.filter(
                sla_id=measurement.sla_id, period_start=measurement.period_start
            )
            .select_related("sla")
            .with_open_dispute()
        )
        return MeasurementSerializer(chain.order_by("recorded_at", "id"), many=True).data


def _rule_field(base, rule, **kwargs):
    """A DRF field (for the schema) whose parsing is the shared validation rule."""

    class RuleField(base):
        def to_internal_value(self, data):
            try:
                return rule(data)
            except validation.FieldError as exc:
                raise serializers.ValidationError(str(exc)) from None

    return RuleField(**kwargs)


class MeasurementInputSerializer(StrictSerializer):
    """One value to record; the same rules as every row of the bulk endpoint."""

    sla = _rule_field(serializers.IntegerField, validation.clean_sla, help_text="The SLA's id.")
    period_start = _rule_field(serializers.DateField, validation.clean_date)
    period_end = _rule_field(
        serializers.DateField,
        validation.clean_date,
        help_text="On or after period_start, at most a year from today.",
    )
    value = _rule_field(
        serializers.DecimalField,
        validation.clean_value,
        max_digits=18,
        decimal_places=validation.MAX_DECIMALS,
        help_text="A finite number, |value| < 1e12, at most 6 decimals.",
    )
    source = _rule_field(
        serializers.CharField,
        validation.clean_source,
        required=False,
        allow_blank=True,
        max_length=validation.MAX_SOURCE_LENGTH,
        help_text="Where the value comes from, e.g. the ticketing system.",
    )

    def validate(self, attrs):
        errors = validation.period_errors(
            attrs["period_start"], attrs["period_end"], timezone.localdate()
        )
        if errors:
            raise serializers.ValidationError(errors)
        return MeasurementRow(
            attrs["sla"],
            attrs["period_start"],
            attrs["period_end"],
            attrs["value"],
            attrs.get("source", ""),
        )


class BulkRowSerializer(MeasurementInputSerializer):
    """Documentation only: the bulk endpoint validates rows column-wise with the same rules."""


class BulkRequestSerializer(StrictSerializer):
    """Documentation only: the body is read by _rows_from_json, which refuses other keys too."""

    rows = BulkRowSerializer(many=True, help_text=f"1 to {MAX_BULK_ROWS} rows.")


class BulkResultSerializer(serializers.Serializer):
    import_batch = serializers.IntegerField(help_text="The ImportBatch recording this write.")
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    corrected = serializers.IntegerField()
    unchanged = serializers.IntegerField()


# ---------------------------------------------------------------- filters
class MeasurementFilter(ApiFilterSet):
    engagement = IdFilter(field_name="sla__engagement")
    side = filters.ChoiceFilter(field_name="sla__owner_side", choices=Side.choices)
    dates = ("period_start",)
    include_superseded = filters.BooleanFilter(
        method="_keep", help_text="Also list values that a correction superseded."
    )

    class Meta(ApiFilterSet.Meta):
        model = Measurement
        fields = ["sla"]

    def _keep(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which also covers the absent parameter

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("include_superseded"):
            return queryset
        return queryset.current()


# ---------------------------------------------------------------- views
# A batch that is wrong throughout would otherwise answer with 10,000 messages.
MAX_LISTED_ERRORS = 1000


def _rekey(errors: dict, template: str) -> dict[str, list[str]]:
    listed = {
        template.format(index=index, field=field): messages
        for (index, field), messages in islice(errors.items(), MAX_LISTED_ERRORS)
    }
    if len(errors) > MAX_LISTED_ERRORS:
        listed["rows"] = [f"{len(errors) - MAX_LISTED_ERRORS} more errors are not listed."]
    return listed


@extend_schema_view(
    list=extend_schema(summary="Current measurements of your engagements"),
    retrieve=extend_schema(summary="A measurement with its correction history"),
)
class MeasurementViewSet(ReadViewSet, TenantViewSet):
    """SLA measurements. Recording a different value for an SLA and period start that
    already has one is a correction: the old value is kept and marked superseded."""

    queryset = Measurement.objects.select_related("sla").with_open_dispute()
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter
    ordering_fields = ["period_start", "recorded_at", "id"]

    def get_serializer_class(self):
        return (
            MeasurementDetailSerializer
            if self.action == "retrieve"
            else super().get_serializer_class()
        )

    def filter_queryset(self, queryset):
        # A superseded value stays readable by id; only the list hides it by default.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @extend_schema(
        summary="Record one value (or correct the current one)",
        request=MeasurementInputSerializer,
        responses={
            201: MeasurementDetailSerializer,
            200: OpenApiResponse(
                MeasurementDetailSerializer, description="The same value was already current."
            ),
        },
    )
    def create(self, request):
        serializer = MeasurementInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = serializer.validated_data
        result = self._import([row], source=row.source or "API", template="{field}")
        measurement = (
            self.get_queryset().current().get(sla_id=row.sla_id, period_start=row.period_start)
        )
        return Response(
            MeasurementDetailSerializer(measurement).data, status=200 if result.unchanged else 201
        )

    @extend_schema(
        summary="Import up to 10,000 values atomically (JSON or CSV)",
        description=(
            'JSON: `{"rows": [...]}` or a bare list of rows. CSV (`Content-Type: text/csv`): '
            "a header `sla,period_start,period_end,value,source` (source optional), one row "
            "per line. Rows upsert by SLA and period start: a new value is created, a "
            "different value corrects the current one (kept as history), an equal value is "
            "unchanged. Any invalid row rejects the whole batch; errors name the row index "
            "and field, e.g. `rows[17].value`, and nothing is written."
        ),
        request={"application/json": BulkRequestSerializer, "text/csv": OpenApiTypes.STR},
        responses={201: BulkResultSerializer},
        examples=[
            OpenApiExample(
                "JSON rows",
                request_only=True,
                value={
                    "rows": [
                        {
                            "sla": 12,
                            "period_start": "2026-03-01",
                            "period_end": "2026-03-31",
                            "value": "99.7",
                            "source": "monitoring",
                        }
                    ]
                },
            )
        ],
    )
    @action(detail=False, methods=["post"])
    @collector_paused()
    def bulk(self, request):
        body = _read_body(request)
        kind = (request.content_type or "").split(";")[0].strip().lower()
        if kind == "text/csv":
            raw_rows = _rows_from_csv(body)
        elif kind in ("application/json", ""):
            raw_rows = _rows_from_json(body)
        else:
            raise exceptions.UnsupportedMediaType(kind)
        if not raw_rows:
            raise exceptions.ValidationError({"rows": ["Send at least one row."]})
        if len(raw_rows) > MAX_BULK_ROWS:
            raise exceptions.ValidationError(
                {"rows": [f"At most {MAX_BULK_ROWS} rows per batch; this one has {len(raw_rows)}."]}
            )
        rows, errors = validation.clean_rows(raw_rows, today=timezone.localdate())
        if errors:
            raise exceptions.ValidationError(_rekey(errors, "rows[{index}].{field}"))
        result = self._import(rows, source=f"API bulk ({'CSV' if kind == 'text/csv' else 'JSON'})")
        return Response(
            {
                "import_batch": result.batch.pk,
                "rows": len(rows),
                "created": result.created,
                "corrected": result.corrected,
                "unchanged": result.unchanged,
            },
            status=201,
        )

    def _import(self, rows, *, source: str, template: str = "{key}"):
        try:
            return measurements_import(rows=rows, actor=self.request.user, source=source)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(
                {
                    template.format(key=key, field=key.split(".", 1)[-1]): messages
                    for key, messages in exc.message_dict.items()
                }
            ) from None


def _read_body(request) -> bytes:
    """The raw body, refusing oversized ones before reading them whole."""
    declared = whole_number(request.META.get("CONTENT_LENGTH") or "0")
    if declared is not None and declared > MAX_BULK_BYTES:
        raise PayloadTooLarge()
    body = request.stream.read(MAX_BULK_BYTES + 1) if request.stream is not None else b""
    if len(body) > MAX_BULK_BYTES:
        raise PayloadTooLarge()
    return body


def _rows_from_json(body: bytes) -> list:
    data = json_loads(body)
    if isinstance(data, dict):
        extra = sorted(set(data) - {"rows"})
        if extra:
            raise exceptions.ValidationError({name: ["Unknown field."] for name in extra})
        data = data.get("rows")
    if not isinstance(data, list):
        raise exceptions.ValidationError({"rows": ['Send {"rows": [...]} or a list of rows.']})
    return data


def _rows_from_csv(body: bytes) -> list[dict]:
    try:
        return validation.rows_from_csv(body)
    except validation.FieldError as exc:
        raise exceptions.ParseError(str(exc)) from None
