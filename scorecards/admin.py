"""Operator admin for scorecards.

Scorecards and runs are computed and reviews are signed by the parties, so
they are read-only here; an alert's acknowledgement is the only thing an
operator may set. Scoring configurations keep their audit trail (the
"History" button). Configuration changes made here are
validated by the scoring model and audited too.
"""

from django import forms
from django.contrib import admin

from relationships.admin import HistoryAdmin, ReadOnlyAdminMixin
from relationships.models import ScoringConfig
from relationships.scoring_config import config_values
from scorecards.models import (
    Alert,
    Scorecard,
    ScorecardReview,
    ScorecardRun,
    ScorecardRunChunk,
)


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "engagement",
        "period_kind",
        "period_start",
        "overall",
        "band",
        "coverage",
        "client_score",
        "provider_score",
        "computed_at",
        "frozen_at",
    ]
    list_filter = ["band", "period_kind"]
    search_fields = ["engagement__name"]
    list_select_related = ["engagement"]
    date_hierarchy = "period_start"


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = [
        "message",
        "engagement",
        "kind",
        "side",
        "period_start",
        "raised_at",
        "resolved_at",
        "acknowledged_at",
    ]
    list_filter = ["kind", "side"]
    search_fields = ["engagement__name", "message"]
    list_select_related = ["engagement"]
    readonly_fields = [
        "engagement",
        "period_kind",
        "period_start",
        "kind",
        "side",
        "message",
        "details",
        "raised_at",
        "resolved_at",
    ]
    raw_id_fields = ["acknowledged_by"]

    def has_add_permission(self, request, obj=None):
        return False


class ScorecardRunChunkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ScorecardRunChunk
    extra = 0
    fields = ["status", "attempts", "engagement_ids", "finished_at", "error"]


@admin.register(ScorecardRun)
class ScorecardRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "period_kind",
        "period_start",
        "engagement",
        "status",
        "chunks_done",
        "chunks_failed",
        "chunks_total",
        "scorecards_written",
        "alerts_raised",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "trigger"]
    list_select_related = ["engagement"]
    inlines = [ScorecardRunChunkInline]


class ScoringConfigForm(forms.ModelForm):
    class Meta:
        model = ScoringConfig
        fields = ["engagement", "weights", "band_limits", "survey_threshold", "grace_days"]

    def clean(self):
        cleaned = super().clean()
        try:
            config_values(
                cleaned.get("weights"),
                cleaned.get("band_limits"),
                cleaned.get("survey_threshold"),
                cleaned.get("grace_days"),
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(ScoringConfig)
class ScoringConfigAdmin(HistoryAdmin):
    form = ScoringConfigForm
    list_display = ["engagement", "survey_threshold", "updated_by", "updated_at"]
    search_fields = ["engagement__name"]
    raw_id_fields = ["engagement", "updated_by"]


@admin.register(ScorecardReview)
class ScorecardReviewAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ["scorecard", "side", "decision", "user", "created_at", "stale_at"]
    list_filter = ["decision", "side"]
    list_select_related = ["scorecard__engagement", "user"]
