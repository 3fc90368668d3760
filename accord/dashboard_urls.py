from django.contrib.auth import views as auth_views
from django.urls import path

from accord.auth import PasswordChangeView, SignInForm
from notices import views as notices
from overview import views as overview
from packs import views as packs
from scorecards.views import (
    alerts,
    engagement,
    exports,
    integrations,
    period,
    portfolio,
    what_if,
)

# Django's account pages: (path below accounts/, view, name).
ACCOUNT_PAGES = [
    ("login/", auth_views.LoginView.as_view(authentication_form=SignInForm), "login"),
    ("logout/", auth_views.LogoutView.as_view(), "logout"),
    ("password/change/", PasswordChangeView.as_view(), "password_change"),
    ("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), "password_change_done"),
    ("password/reset/", auth_views.PasswordResetView.as_view(), "password_reset"),
    ("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), "password_reset_done"),
    (
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        "password_reset_confirm",
    ),
    ("reset/done/", auth_views.PasswordResetCompleteView.as_view(), "password_reset_complete"),
]
# The dashboard's pages: (path, view, name).
PAGES = [
    ("", portfolio.portfolio, "portfolio"),
    ("alerts/", alerts.alert_list, "alert-list"),
    ("alerts/<int:pk>/acknowledge/", alerts.alert_acknowledge, "alert-acknowledge"),
    ("engagements/<int:pk>/", engagement.engagement_detail, "engagement-detail"),
    ("engagements/<int:pk>/recompute/", engagement.engagement_recompute, "engagement-recompute"),
    (
        "engagements/<int:pk>/provisional/",
        engagement.engagement_provisional,
        "engagement-provisional",
    ),
    ("engagements/<int:pk>/decline/", engagement.engagement_decline, "engagement-decline"),
    (
        "engagements/<int:pk>/scoring/",
        engagement.ScoringConfigUpdateView.as_view(),
        "scoring-config-update",
    ),
    (
        "engagements/<int:pk>/scorecards/<int:scorecard_pk>/review/",
        period.scorecard_review,
        "scorecard-review",
    ),
    ("engagements/<int:pk>/what-if/", what_if.what_if, "what-if"),
    # Slack and Teams channels of the engagement (its admins).
    (
        "engagements/<int:pk>/integrations/",
        integrations.engagement_integrations,
        "engagement-integrations",
    ),
    (
        "engagements/<int:pk>/integrations/<int:webhook_pk>/test/",
        integrations.channel_test,
        "engagement-integration-test",
    ),
    (
        "engagements/<int:pk>/integrations/<int:webhook_pk>/remove/",
        integrations.channel_remove,
        "engagement-integration-remove",
    ),
    ("engagements/<int:pk>/periods/", period.period_pick, "engagement-period-pick"),
    ("engagements/<int:pk>/periods/<str:start>/", period.period_detail, "engagement-period"),
    (
        "engagements/<int:pk>/periods/<str:start>/recompute/",
        period.period_recompute,
        "engagement-period-recompute",
    ),
    ("engagements/<int:pk>/periods/<str:start>/pack/", packs.pack_print, "period-pack"),
    ("engagements/<int:pk>/periods/<str:start>/pack.pdf", packs.pack_pdf, "period-pack-pdf"),
    ("engagements/<int:pk>/quarters/<str:start>/pack/", packs.quarter_pack_print, "quarter-pack"),
    (
        "engagements/<int:pk>/quarters/<str:start>/pack.pdf",
        packs.quarter_pack_pdf,
        "quarter-pack-pdf",
    ),
    ("organizations/<int:pk>/packs/", packs.portfolio_packs, "portfolio-packs"),
    (
        "organizations/<int:pk>/packs/<int:job_pk>/download/",
        packs.portfolio_pack_download,
        "portfolio-pack-download",
    ),
    ("engagements/<int:pk>/scorecards.csv", exports.scorecard_export, "scorecard-export"),
    ("runs/<int:pk>/", engagement.run_status, "run-status"),
    # Across engagements (overview): an organisation's page for its members, compare, search.
    ("organizations/<int:pk>/", overview.organisation_detail, "organisation-detail"),
    ("compare/", overview.compare, "compare"),
    ("search/", overview.search_page, "search"),
    # What the Agreement section of the engagement page posts.
    ("change-requests/<int:pk>/accept/", engagement.change_request_accept, "change-request-accept"),
    (
        "change-requests/<int:pk>/decline/",
        engagement.change_request_decline,
        "change-request-decline",
    ),
    (
        "change-requests/<int:pk>/withdraw/",
        engagement.change_request_withdraw,
        "change-request-withdraw",
    ),
    (
        "change-requests/<int:pk>/comment/",
        engagement.change_request_comment,
        "change-request-comment",
    ),
]

# Notices (PRODUCT.md §9): the member's profile, the inbox, the e-mails' unsubscribe link.
NOTICE_PAGES = [
    ("profile/", notices.profile, "notice-profile"),
    ("profile/engagement/", notices.profile_engagement, "notice-profile-engagement"),
    ("inbox/", notices.inbox, "notice-inbox"),
    ("inbox/read/", notices.inbox_read_all, "notice-inbox-read-all"),
    ("inbox/<int:pk>/read/", notices.inbox_read, "notice-inbox-read"),
    ("notices/unsubscribe/<str:token>/", notices.unsubscribe, "notice-unsubscribe"),
]

urlpatterns = [
    *(path(f"accounts/{route}", view, name=name) for route, view, name in ACCOUNT_PAGES),
    *(path(route, view, name=name) for route, view, name in PAGES),
    *(path(route, view, name=name) for route, view, name in NOTICE_PAGES),
]
