"""Admin for the feedback records, with their audit history.

PulseResponse is deliberately not registered: individual survey answers are
shown to nobody but their respondent, not even to staff.
"""

from django.contrib import admin

from feedback.models import ActionItem, CheckIn, ContributionReview, Feedback, Issue
from relationships.admin import HistoryAdmin


class ActionItemInline(admin.TabularInline):
    """Existing items only: a new item also needs its engagement, set in its own page."""

    model = ActionItem
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    fields = ("owner_side", "owner", "description", "due_date", "completed_at", "cancelled")
    raw_id_fields = ("owner",)


class ContributionReviewInline(admin.StackedInline):
    model = ContributionReview
    extra = 0
    fields = ("summary", "created_by")
    raw_id_fields = ("created_by",)


@admin.register(CheckIn)
class CheckInAdmin(HistoryAdmin):
    list_display = ("engagement", "occurred_at", "occurred_on", "kind", "recorded_by")
    list_filter = ("kind", "occurred_on")
    search_fields = ("engagement__name", "notes")
    date_hierarchy = "occurred_on"
    list_select_related = ("engagement", "recorded_by")
    raw_id_fields = ("engagement", "recorded_by", "attendee_users", "attendee_contacts")
    inlines = [ActionItemInline]


@admin.register(Feedback)
class FeedbackAdmin(HistoryAdmin):
    list_display = ("engagement", "created_on", "from_side", "kind", "author")
    list_filter = ("kind", "from_side", "created_on")
    search_fields = ("engagement__name", "text", "suggested_action")
    list_select_related = ("engagement", "author")
    raw_id_fields = ("engagement", "author", "sla", "goal")


@admin.register(Issue)
class IssueAdmin(HistoryAdmin):
    list_display = (
        "title",
        "engagement",
        "severity",
        "responsible_side",
        "raised_by_side",
        "detected_at",
        "raised_at",
        "resolved_at",
    )
    list_filter = ("severity", "responsible_side", "raised_by_side", "raised_on")
    search_fields = ("title", "description", "engagement__name")
    list_select_related = ("engagement",)
    raw_id_fields = ("engagement", "raised_by")
    inlines = [ContributionReviewInline]


@admin.register(ContributionReview)
class ContributionReviewAdmin(HistoryAdmin):
    list_display = ("issue", "engagement_name", "created_by", "created_at")
    search_fields = ("issue__title", "summary", "issue__engagement__name")
    list_select_related = ("issue__engagement", "created_by")
    raw_id_fields = ("issue", "created_by")
    inlines = [ActionItemInline]

    @admin.display(description="engagement", ordering="issue__engagement__name")
    def engagement_name(self, review):
        return review.issue.engagement.name


@admin.register(ActionItem)
class ActionItemAdmin(HistoryAdmin):
    list_display = (
        "description",
        "engagement",
        "owner_side",
        "owner",
        "due_date",
        "completed_on",
        "cancelled",
    )
    list_filter = ("owner_side", "cancelled", "due_date")
    search_fields = ("description", "engagement__name")
    list_select_related = ("engagement", "owner")
    raw_id_fields = ("engagement", "owner", "review", "checkin", "created_by")
