"""Dashboard write pages: forms to record, the pulse survey, proposals and invitations."""

from django.urls import path

from feedback import views as feedback
from relationships import member_pages, terms_pages
from relationships import views as relationships
from relationships.views import GoalProgressCreateView

# Pages about one engagement: (path below engagements/<pk>/, view, name).
ENGAGEMENT_PAGES = [
    ("checkins/new/", feedback.CheckInCreateView.as_view(), "checkin-create"),
    ("feedback/new/", feedback.feedback_create, "feedback-create"),
    ("issues/new/", feedback.issue_create, "issue-create"),
    ("action-items/new/", feedback.ActionItemCreateView.as_view(), "action-item-create"),
    ("survey/", feedback.PulseSurveyView.as_view(), "pulse-survey"),
    ("measurements/new/", relationships.MeasurementCreateView.as_view(), "measurement-create"),
    ("measurements/upload/", relationships.MeasurementUploadView.as_view(), "measurement-upload"),
    ("contacts/change/", relationships.KeyContactChangeView.as_view(), "key-contact-change"),
    (
        "contacts/<int:contact_pk>/hours/",
        relationships.KeyContactHoursView.as_view(),
        "key-contact-hours",
    ),
    ("checkins/plan/", feedback.CheckInPlanView.as_view(), "checkin-plan"),
    ("archive/", relationships.engagement_archive, "engagement-archive"),
    ("accept/", relationships.engagement_accept, "engagement-accept"),
    # The terms: applied on a proposal of the user's side, else a change request.
    ("slas/new/", terms_pages.SLAProposeView.as_view(), "sla-propose"),
    ("slas/<int:sla_pk>/change/", terms_pages.SLAChangeView.as_view(), "sla-change"),
    ("goals/new/", terms_pages.GoalProposeView.as_view(), "goal-propose"),
    ("goals/<int:goal_pk>/change/", terms_pages.GoalChangeView.as_view(), "goal-change"),
    ("terms/cadence/", terms_pages.EngagementTermsView.as_view(), "engagement-terms-change"),
]
# One-button actions and pages of other records: (path, view, name).
OTHER_PAGES = [
    ("action-items/<int:pk>/complete/", feedback.action_item_complete, "action-item-complete"),
    ("action-items/<int:pk>/cancel/", feedback.action_item_cancel, "action-item-cancel"),
    ("issues/<int:pk>/resolve/", feedback.issue_resolve, "issue-resolve"),
    ("issues/<int:pk>/review/", feedback.issue_review_open, "issue-review-open"),
    ("goals/<int:pk>/progress/new/", GoalProgressCreateView.as_view(), "goal-progress-create"),
    (
        "measurements/<int:pk>/dispute/",
        relationships.MeasurementDisputeView.as_view(),
        "measurement-dispute",
    ),
    (
        "measurement-disputes/<int:pk>/withdraw/",
        relationships.measurement_dispute_withdraw,
        "measurement-dispute-withdraw",
    ),
    (
        "measurement-disputes/<int:pk>/accept-correction/",
        relationships.measurement_correction_accept,
        "measurement-correction-accept",
    ),
    ("engagements/propose/", relationships.engagement_propose, "engagement-propose"),
    ("organizations/<int:pk>/invitations/", relationships.invitation_list, "invitation-list"),
    ("invitations/<str:token>/", relationships.invitation_accept, "invitation-accept"),
    # An organisation's members and pending invitations (admins change them).
    ("organizations/<int:pk>/members/", member_pages.organization_members, "organization-members"),
    ("memberships/<int:pk>/role/", member_pages.membership_role_change, "membership-role-change"),
    ("memberships/<int:pk>/remove/", member_pages.membership_remove, "membership-remove"),
    ("invitations/<int:pk>/resend/", member_pages.invitation_resend, "invitation-resend"),
    ("invitations/<int:pk>/revoke/", member_pages.invitation_revoke, "invitation-revoke"),
]

urlpatterns = [
    *(
        path(f"engagements/<int:pk>/{route}", view, name=name)
        for route, view, name in ENGAGEMENT_PAGES
    ),
    *(path(route, view, name=name) for route, view, name in OTHER_PAGES),
]
