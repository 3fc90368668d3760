"""The members page of an organisation (PRODUCT.md §11): its members and their roles, and
its pending invitations, with what an admin may do to them.

Every member sees who the members are and their roles, read-only (whom they work with);
only admins see when each last signed in and the pending invitations, and change, remove,
resend and revoke. The rules are relationships.services'; a refusal is shown on the page
with a 400 and nothing changed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core import links
from relationships import services
from relationships.forms import MembershipRoleForm
from relationships.models import Invitation, Membership, Organization, Role
from relationships.people import person_name

ROLE_ORDER = Case(
    *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values)),
    output_field=IntegerField(),
)


@login_required
@require_GET
def organization_members(request, pk):
    organization = get_object_or_404(Organization.objects.of_member(request.user), pk=pk)
    return _members_page(request, organization)


def _members_page(request, organization, *, error: str = "", status: int = 200):
    is_admin = Organization.objects.administered_by(request.user).filter(pk=organization.pk)
    is_admin = is_admin.exists()
    memberships = list(
        organization.memberships.select_related("user").order_by(
            ROLE_ORDER, "user__first_name", "user__last_name", "user__username"
        )
    )
    if is_admin:
        for membership in memberships:
            membership.role_form = MembershipRoleForm(
                auto_id=f"role_{membership.pk}_%s", initial={"role": membership.role}
            )
    invitations = (
        organization.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
        if is_admin
        else []
    )
    return render(
        request,
        "relationships/members.html",
        {
            "organization": organization,
            "is_admin": is_admin,
            "memberships": memberships,
            "admins": sum(membership.role == Role.ADMIN for membership in memberships),
            "invitations": invitations,
            "now": timezone.now(),
            "error": error,
        },
        status=status,
    )


def _membership(request, pk) -> Membership:
    """A membership of one of the user's organisations (404 otherwise); the service checks
    that the user administers it (403)."""
    return get_object_or_404(
        Membership.objects.select_related("user", "organization").filter(
            organization__in=Organization.objects.of_member(request.user)
        ),
        pk=pk,
    )


def _invitation(request, pk) -> Invitation:
    """An invitation of an organisation the user administers; others' are not shown (404),
    as in the API."""
    return get_object_or_404(
        Invitation.objects.select_related("organization").filter(
            organization__in=Organization.objects.administered_by(request.user)
        ),
        pk=pk,
    )


def _refused(request, organization, error: ValidationError):
    return _members_page(request, organization, error=" ".join(error.messages), status=400)


@login_required
@require_POST
def membership_role_change(request, pk):
    membership = _membership(request, pk)
    organization = membership.organization
    organization.require_admin(request.user)
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, organization, ValidationError(f"Role: {form.errors['role'][0]}"))
    try:
        services.membership_role_change(
            membership=membership, role=form.cleaned_data["role"], user=request.user
        )
    except ValidationError as error:
        return _refused(request, organization, error)
    messages.success(
        request, f"{person_name(membership.user)} is now {membership.get_role_display().lower()}."
    )
    return redirect("organization-members", pk=organization.pk)


@login_required
@require_POST
def membership_remove(request, pk):
    membership = _membership(request, pk)
    organization, member = membership.organization, membership.user
    try:
        revoked = services.membership_remove(membership=membership, user=request.user)
    except ValidationError as error:
        return _refused(request, organization, error)
    tokens = f"; {revoked} API token{'s' if revoked != 1 else ''} revoked" if revoked else ""
    messages.success(
        request,
        f"{person_name(member)} was removed from {organization}{tokens}. "
        "Their records stay, under their name.",
    )
    if not Organization.objects.of_member(request.user).filter(pk=organization.pk).exists():
        return redirect("portfolio")  # the admin removed themselves
    return redirect("organization-members", pk=organization.pk)


@login_required
@require_POST
def invitation_resend(request, pk):
    invitation = _invitation(request, pk)
    try:
        services.invitation_resend(
            invitation=invitation, user=request.user, site_url=links.site_url(request)
        )
    except ValidationError as error:
        return _refused(request, invitation.organization, error)
    messages.success(request, f"Invitation sent again to {invitation.email}, with a new link.")
    return redirect("organization-members", pk=invitation.organization_id)


@login_required
@require_POST
def invitation_revoke(request, pk):
    invitation = _invitation(request, pk)
    try:
        services.invitation_revoke(invitation=invitation, user=request.user)
    except ValidationError as error:
        return _refused(request, invitation.organization, error)
    messages.success(
        request, f"Invitation to {invitation.email} revoked; its link no longer works."
    )
    return redirect("organization-members", pk=invitation.organization_id)
