"""The profile page (time zone, how each kind of notice reaches me), the inbox, and the
unsubscribe link of every e-mail (no sign-in: the link is signed)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notices import services
from notices.delivery import unsubscribe_subject
from notices.forms import AS_FOR_ALL, EngagementPreferenceForm, ProfileForm
from notices.models import Channel, Digest, Kind
from notices.selectors import inbox_of

PAGE_SIZE = 50


def _profile_page(request, form=None, status=200):
    user = request.user
    preferences = services.preferences_of(user)
    for_all = {p.kind: p.channel for p in preferences if p.engagement_id is None}
    if form is None:
        form = ProfileForm(
            roles=services.roles_of(user),
            initial={
                "time_zone": services.profile_of(user).time_zone,
                **{f"kind_{kind}": for_all.get(kind, AS_FOR_ALL) for kind in Kind.values},
            },
        )
    return render(
        request,
        "notices/profile.html",
        {
            "form": form,
            "kind_fields": [form[f"kind_{kind}"] for kind in Kind.values],
            "overrides": [p for p in preferences if p.engagement_id is not None],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    if request.method == "GET":
        return _profile_page(request)
    form = ProfileForm(request.POST, roles=services.roles_of(request.user))
    if not form.is_valid():
        return _profile_page(request, form=form, status=400)
    services.preferences_set(
        user=request.user,
        time_zone=form.cleaned_data["time_zone"],
        entries=[
            services.PreferenceEntry(None, kind, form.cleaned_data[f"kind_{kind}"] or None)
            for kind in Kind.values
        ],
    )
    messages.success(request, "Your notice settings are saved.")
    return redirect("notice-profile")


@login_required
@require_http_methods(["GET", "POST"])
def profile_engagement(request):
    """One engagement's own channel for one kind (the profile's exceptions)."""
    if request.method == "GET":
        form = EngagementPreferenceForm(user=request.user)
        return render(request, "notices/profile_engagement.html", {"form": form})
    form = EngagementPreferenceForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.preferences_set(
                user=request.user,
                entries=[
                    services.PreferenceEntry(
                        data["engagement"], data["kind"], data["channel"] or None
                    )
                ],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved for {data['engagement'].name}.")
            return redirect("notice-profile")
    return render(request, "notices/profile_engagement.html", {"form": form}, status=400)


@login_required
@require_GET
def inbox(request):
    notices = inbox_of(request.user)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notices/inbox.html",
        {"page": page, "unread": notices.filter(read_at__isnull=True).exists()},
    )


@login_required
@require_POST
def inbox_read(request, pk):
    """Mark one of one's own notices read (another's is not found)."""
    notice = get_object_or_404(inbox_of(request.user), pk=pk)
    services.notices_mark_read(user=request.user, notice_ids=[notice.pk])
    return redirect("notice-inbox")


@login_required
@require_POST
def inbox_read_all(request):
    services.notices_mark_read(user=request.user)
    return redirect("notice-inbox")


@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click", with no cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """The signed link of every e-mail: GET asks (a mail scanner's visit changes nothing),
    POST (the button, or the mail client's one click) unsubscribes."""
    subject = unsubscribe_subject(token)
    user = get_user_model().objects.filter(pk=subject[0]).first() if subject else None
    if user is None:
        return render(request, "notices/unsubscribe.html", {"invalid": True}, status=404)
    what = subject[1]
    label = (
        Kind(what).label
        if what in Kind.values
        else f"the {Digest.Frequency(what).label.lower()} digest"
    )
    if request.method == "GET":
        return render(request, "notices/unsubscribe.html", {"label": label, "what": what})
    services.notices_unsubscribe(user=user, what=what)
    return render(
        request,
        "notices/unsubscribe.html",
        {"label": label, "done": True, "inbox_only": Channel.INBOX.label},
    )
