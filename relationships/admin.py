"""Operator admin for the relationships domain.

Every model keeps its simple-history log (the "History" button). Measurements
and import batches are read-only here: values are recorded through
relationships.measurements so corrections keep their history.
"""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from core.content_security import style_attributes_allowed
from relationships import services
from relationships.models import (
    SLA,
    ChangeRequest,
    ChangeRequestComment,
    Engagement,
    GoalProgress,
    ImportBatch,
    Invitation,
    KeyContact,
    Measurement,
    MeasurementDispute,
    Membership,
    Organization,
    SharedGoal,
)


class ReadOnlyAdminMixin:
    """Shows records without letting the admin add, change or delete them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose history page keeps the Content-Security-Policy: the one
    style attribute of django-simple-history's template (on its paginator) is allowed by
    its hash, on that page only, rather than copying the template to drop it."""

    @method_decorator(csp_update(style_attributes_allowed("border-top: 0")))
    def history_view(self, request, object_id, extra_context=None):
        return super().history_view(request, object_id, extra_context)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class KeyContactInline(admin.TabularInline):
    model = KeyContact
    extra = 0
    fields = ["side", "role", "name", "email", "user", "start_date", "end_date"]
    autocomplete_fields = ["user"]


class SLAInline(admin.TabularInline):
    model = SLA
    extra = 0
    fields = ["owner_side", "name", "unit", "direction", "target", "weight", "active"]
    show_change_link = True


class SharedGoalInline(admin.TabularInline):
    model = SharedGoal
    extra = 0
    fields = ["title", "start_date", "due_date", "achieved_on", "cancelled"]
    show_change_link = True


class GoalProgressInline(admin.TabularInline):
    model = GoalProgress
    extra = 0
    fields = ["date", "percent", "note", "reporter"]
    autocomplete_fields = ["reporter"]


class MeasurementInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Every value of the SLA, current and superseded, oldest correction first."""

    model = Measurement
    fk_name = "sla"
    fields = readonly_fields = [
        "period_start",
        "period_end",
        "value",
        "is_current",
        "superseded_at",
        "supersedes",
        "source",
        "recorded_by",
        "recorded_at",
        "import_batch",
    ]
    ordering = ["-period_start", "recorded_at"]
    show_change_link = True

    @admin.display(boolean=True, description="current")
    def is_current(self, obj):
        return obj.is_current


@admin.register(Organization)
class OrganizationAdmin(HistoryAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(HistoryAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(HistoryAdmin):
    # The token hash is not editable and never listed; invitations are made by
    # relationships.services.invitation_create so the raw token is emailed.
    list_display = ["email", "organization", "role", "invited_by", "expires_at", "accepted_at"]
    list_filter = ["role", "organization"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization", "invited_by"]
    readonly_fields = [
        "organization",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    ]
    fields = readonly_fields + ["revoked_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Engagement)
class EngagementAdmin(HistoryAdmin):
    list_display = [
        "name",
        "client",
        "provider",
        "status",
        "phase",
        "scorecard_period",
        "start_date",
        "end_date",
    ]
    list_filter = ["status", "phase", "scorecard_period"]
    search_fields = ["name", "client__name", "provider__name"]
    list_select_related = ["client", "provider"]
    date_hierarchy = "start_date"
    autocomplete_fields = ["client", "provider"]
    readonly_fields = [
        "proposed_by",
        "proposed_at",
        "accepted_by",
        "accepted_at",
        "archived_by",
        "archived_at",
        "created_at",
    ]
    inlines = [KeyContactInline, SLAInline, SharedGoalInline]

    def has_delete_permission(self, request, obj=None):
        # Engagements are archived (status), never deleted.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "time_zone" in form.changed_data:
            services.engagement_local_dates_refresh(engagement=obj)


@admin.register(KeyContact)
class KeyContactAdmin(HistoryAdmin):
    list_display = ["name", "engagement", "side", "role", "start_date", "end_date"]
    list_filter = ["side", "role"]
    search_fields = ["name", "email", "engagement__name"]
    list_select_related = ["engagement"]
    autocomplete_fields = ["engagement", "user"]


@admin.register(SLA)
class SLAAdmin(HistoryAdmin):
    list_display = [
        "name",
        "engagement",
        "owner_side",
        "direction",
        "target",
        "unit",
        "weight",
        "active",
        "measurements_link",
    ]
    list_filter = ["owner_side", "direction", "active"]
    search_fields = ["name", "engagement__name"]
    list_select_related = ["engagement"]
    autocomplete_fields = ["engagement"]
    inlines = [MeasurementInline]

    @admin.display(description="measurements")
    def measurements_link(self, obj):
        url = reverse("admin:relationships_measurement_changelist")
        return format_html('<a href="{}?sla__id__exact={}">history</a>', url, obj.pk)


class CurrentFilter(admin.SimpleListFilter):
    title = "current"
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", "Current"), ("no", "Superseded")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(superseded_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(superseded_at__isnull=False)
        return queryset


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "sla",
        "period_start",
        "period_end",
        "value",
        "is_current",
        "superseded_at",
        "supersedes_link",
        "source",
        "recorded_by",
        "recorded_by_side",
        "recorded_at",
        "import_batch",
    ]
    list_filter = [CurrentFilter, "sla__owner_side", "recorded_by_side", "sla__engagement", "sla"]
    search_fields = ["sla__name", "sla__engagement__name", "source"]
    list_select_related = ["sla", "recorded_by", "import_batch", "supersedes"]
    date_hierarchy = "period_start"

    @admin.display(boolean=True, description="current")
    def is_current(self, obj):
        return obj.is_current

    @admin.display(description="supersedes")
    def supersedes_link(self, obj):
        if obj.supersedes_id is None:
            return "-"
        url = reverse("admin:relationships_measurement_change", args=[obj.supersedes_id])
        return format_html('<a href="{}">{}</a>', url, obj.supersedes.value)


@admin.register(MeasurementDispute)
class MeasurementDisputeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Disputes change through their services only (the dashboard and the API)."""

    list_display = [
        "measurement",
        "side",
        "disputed_by",
        "status",
        "corrected_value",
        "created_at",
        "resolved_by",
        "resolved_at",
    ]
    list_filter = ["status", "side", "sla__engagement"]
    search_fields = ["sla__name", "sla__engagement__name", "reason"]
    list_select_related = ["measurement__sla", "disputed_by", "resolved_by"]
    date_hierarchy = "created_at"


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "source",
        "actor",
        "created_at",
        "row_count",
        "created_count",
        "corrected_count",
        "unchanged_count",
    ]
    list_filter = ["source"]
    search_fields = ["source", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"


@admin.register(SharedGoal)
class SharedGoalAdmin(HistoryAdmin):
    list_display = ["title", "engagement", "start_date", "due_date", "achieved_on", "cancelled"]
    list_filter = ["cancelled"]
    search_fields = ["title", "engagement__name"]
    list_select_related = ["engagement"]
    autocomplete_fields = ["engagement", "client_contact", "provider_contact"]
    inlines = [GoalProgressInline]


class ChangeRequestCommentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ChangeRequestComment
    extra = 0
    fields = ["created_at", "author", "side", "body"]
    readonly_fields = fields


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit of the terms: old and new values, who asked, who agreed, when. Requests
    are asked and decided by the parties (relationships.change_requests), never here."""

    list_display = [
        "id",
        "engagement",
        "subject_label",
        "status",
        "requested_side",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "applies_from",
    ]
    list_filter = ["status", "subject", "requested_side"]
    list_select_related = ["engagement", "requested_by", "decided_by"]
    search_fields = ["engagement__name"]
    date_hierarchy = "requested_at"
    inlines = [ChangeRequestCommentInline]
    readonly_fields = ["subject_label", "changes_text"]

    @admin.display(description="Changes (what: current → proposed)")
    def changes_text(self, change_request):
        return "; ".join(
            f"{what}: {current} → {proposed}"
            for what, current, proposed in change_request.changes()
        )
