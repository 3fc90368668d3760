"""Dashboard write pages: forms to record, the pulse survey, proposals and invitations."""

from django.urls import path

from feedback import views as feedback_views
from relationships import views as relationship_views

urlpatterns = [
    path(
        "engagements/<int:pk>/checkins/new/",
        feedback_views.CheckInCreateView.as_view(),
        name="checkin-create",
    ),
    path(
        "engagements/<int:pk>/feedback/new/",
        feedback_views.FeedbackCreateView.as_view(),
        name="feedback-create",
    ),
    path(
        "engagements/<int:pk>/issues/new/",
        feedback_views.IssueCreateView.as_view(),
        name="issue-create",
    ),
    path(
        "engagements/<int:pk>/action-items/new/",
        feedback_views.ActionItemCreateView.as_view(),
        name="action-item-create",
    ),
    path(
        "action-items/<int:pk>/complete/",
        feedback_views.action_item_complete,
        name="action-item-complete",
    ),
    path(
        "action-items/<int:pk>/cancel/",
        feedback_views.action_item_cancel,
        name="action-item-cancel",
    ),
    path("issues/<int:pk>/resolve/", feedback_views.issue_resolve, name="issue-resolve"),
    path(
        "issues/<int:pk>/review/",
        feedback_views.issue_review_open,
        name="issue-review-open",
    ),
    path(
        "engagements/<int:pk>/survey/",
        feedback_views.PulseSurveyView.as_view(),
        name="pulse-survey",
    ),
    path(
        "goals/<int:pk>/progress/new/",
        relationship_views.GoalProgressCreateView.as_view(),
        name="goal-progress-create",
    ),
    path(
        "engagements/<int:pk>/measurements/new/",
        relationship_views.MeasurementCreateView.as_view(),
        name="measurement-create",
    ),
    path(
        "engagements/<int:pk>/measurements/upload/",
        relationship_views.MeasurementUploadView.as_view(),
        name="measurement-upload",
    ),
    path(
        "engagements/<int:pk>/contacts/change/",
        relationship_views.KeyContactChangeView.as_view(),
        name="key-contact-change",
    ),
    path(
        "engagements/<int:pk>/archive/",
        relationship_views.engagement_archive,
        name="engagement-archive",
    ),
    path("engagements/propose/", relationship_views.engagement_propose, name="engagement-propose"),
    path(
        "engagements/<int:pk>/accept/",
        relationship_views.engagement_accept,
        name="engagement-accept",
    ),
    path(
        "organizations/<int:pk>/invitations/",
        relationship_views.invitation_list,
        name="invitation-list",
    ),
    path(
        "invitations/<str:token>/",
        relationship_views.invitation_accept,
        name="invitation-accept",
    ),
]
