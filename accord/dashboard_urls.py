from django.contrib.auth import views as auth_views
from django.urls import path

from accord.auth import SignInForm
from scorecards import views

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", views.portfolio, name="portfolio"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement-detail"),
    path(
        "engagements/<int:pk>/recompute/",
        views.engagement_recompute,
        name="engagement-recompute",
    ),
    path(
        "engagements/<int:pk>/scoring/",
        views.ScoringConfigUpdateView.as_view(),
        name="scoring-config-update",
    ),
    path(
        "engagements/<int:pk>/scorecards/<int:scorecard_pk>/review/",
        views.scorecard_review,
        name="scorecard-review",
    ),
    path("engagements/<int:pk>/scorecards.csv", views.scorecard_export, name="scorecard-export"),
    path("runs/<int:pk>/", views.run_status, name="run-status"),
]
