"""Dashboard write pages of the relationships domain (their base: relationships.pages)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import links
from relationships import disputes, services, validation
from relationships.forms import (
    EngagementProposeForm,
    GoalProgressForm,
    InvitationForm,
    InvitationSignupForm,
    KeyContactChangeForm,
    MeasurementDisputeForm,
    MeasurementForm,
    MeasurementUploadForm,
    WorkingHoursForm,
    add_service_errors,
)
from relationships.measurements import MAX_BULK_ROWS, measurement_record, measurements_import
from relationships.models import (
    SLA,
    Engagement,
    KeyContact,
    Measurement,
    MeasurementDispute,
    Organization,
    SharedGoal,
    other_side,
)
from relationships.pages import EngagementFormView, button_action
from relationships.periods import period_containing
from relationships.tenancy import engagement_with_access


# ---------------------------------------------------------------- goals
class GoalProgressCreateView(EngagementFormView):
    form_class = GoalProgressForm
    title = "Report goal progress"
    success_message = "Progress reported."

    def engagement_and_access(self):
        self.goal = get_object_or_404(
            SharedGoal.objects.restrict(self.request.user).select_related("engagement"),
            pk=self.kwargs["pk"],
        )
        return self.goal.engagement, self.goal.access_for(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(subject=self.goal, **kwargs)

    def perform(self, form):
        services.goal_progress_report(goal=self.goal, user=self.request.user, **form.cleaned_data)


# ---------------------------------------------------------------- key contacts
class KeyContactChangeView(EngagementFormView):
    form_class = KeyContactChangeForm
    service = staticmethod(services.key_contact_change)
    title = "Change a key contact"
    success_message = "Key contact changed; the previous contact stays in the history."
    success_anchor = "#contacts"

    def get_initial(self):
        # "Change" links next to a contact preselect its side and role.
        return {key: self.request.GET[key] for key in ("side", "role") if key in self.request.GET}


class KeyContactHoursView(EngagementFormView):
    form_class = WorkingHoursForm
    title = "Working hours"
    intro = "Check-ins are proposed inside the working hours of every key contact."
    success_message = "Working hours saved."
    success_anchor = "#contacts"

    def engagement_and_access(self):
        engagement, access = super().engagement_and_access()
        self.contact = get_object_or_404(
            KeyContact.objects.filter(engagement=engagement), pk=self.kwargs["contact_pk"]
        )
        return engagement, access

    def get_initial(self):
        return {
            "time_zone": self.contact.time_zone,
            "work_starts": self.contact.work_starts,
            "work_ends": self.contact.work_ends,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(subject=self.contact.name, **kwargs)

    def perform(self, form):
        services.key_contact_hours_set(
            contact=self.contact, user=self.request.user, **form.cleaned_data
        )


# ---------------------------------------------------------------- measurements
def _row_errors_by_field(errors) -> dict[str, list[str]]:
    return {field: messages for (_, field), messages in errors.items()}


class MeasurementCreateView(EngagementFormView):
    form_class = MeasurementForm
    title = "Record a measurement"
    submit_label = "Record"
    success_message = "Measurement recorded."

    def perform(self, form):
        # The same rules as the API's single and bulk measurements.
        data = {**form.cleaned_data, "sla": form.cleaned_data["sla"].pk}
        rows, errors = validation.clean_rows([data], today=self.engagement.today())
        if errors:
            raise ValidationError(_row_errors_by_field(errors))
        row = rows[0]
        measurement_record(
            sla=form.cleaned_data["sla"],
            period_start=row.period_start,
            period_end=row.period_end,
            value=row.value,
            source=row.source,
            user=self.request.user,
        )


class MeasurementUploadView(EngagementFormView):
    """A CSV of measurements: every row is saved, or none, with errors listed per row."""

    form_class = MeasurementUploadForm
    title = "Upload measurements (CSV)"
    submit_label = "Upload"

    def perform(self, form):
        upload = form.cleaned_data["file"]
        raw_rows = self.read_rows(upload)
        rows, errors = validation.clean_rows(raw_rows, today=self.engagement.today())
        if errors:
            raise ValidationError(
                [
                    f"Row {index + 1}: {field.replace('_', ' ')}: {' '.join(messages)}"
                    for (index, field), messages in sorted(errors.items())
                ]
            )
        result = measurements_import(
            rows=rows, actor=self.request.user, source=f"CSV upload {upload.name}"[:100]
        )
        self.success_message = (
            f"{len(rows)} rows imported: {result.created} new, {result.corrected} corrected, "
            f"{result.unchanged} unchanged."
        )

    def read_rows(self, upload) -> list[dict]:
        """Rows as dicts (read as the API's bulk CSV is), the SLA given by name or id and
        resolved within this engagement."""
        try:
            rows = validation.rows_from_csv(upload.read())
        except validation.FieldError as exc:
            raise ValidationError({"file": str(exc)}) from None
        if not rows:
            raise ValidationError({"file": "The file has no rows below the column names."})
        if len(rows) > MAX_BULK_ROWS:
            raise ValidationError({"file": f"At most {MAX_BULK_ROWS} rows per upload."})
        slas = SLA.objects.filter(engagement=self.engagement).values_list("pk", "name")
        sla_ids = {name.casefold(): pk for pk, name in slas} | {str(pk): pk for pk, _ in slas}
        problems = []
        for number, row in enumerate(rows, start=1):
            sla = row["sla"].strip()
            if sla.casefold() not in sla_ids:
                problems.append(f"Row {number}: sla: no SLA '{sla[:60]}' in this engagement.")
            row["sla"] = sla_ids.get(sla.casefold(), sla)
        if problems:
            raise ValidationError(problems)
        return rows


# ---------------------------------------------------------------- disputed values
def period_page_of(measurement: Measurement) -> str:
    """The review of the period the value counts in (the period page, by its URL's name)."""
    engagement = measurement.sla.engagement
    period = period_containing(engagement.scorecard_period, measurement.period_start)
    page = reverse("engagement-period", args=[engagement.pk, period.start.isoformat()])
    return page + "#disputes"


class MeasurementDisputeView(EngagementFormView):
    """The owning side disputes a value the other side recorded (the period page's form)."""

    form_class = MeasurementDisputeForm
    title = "Dispute a value"
    submit_label = "Dispute"
    success_message = (
        "Value disputed. It keeps counting, listed as disputed, until the other side accepts "
        "a correction or you withdraw the dispute."
    )

    def engagement_and_access(self):
        user = self.request.user
        self.measurement = get_object_or_404(
            Measurement.objects.restrict(user).select_related("sla__engagement", "recorded_by"),
            pk=self.kwargs["pk"],
        )
        access = self.measurement.access_for(user)
        disputes.require_disputer(self.measurement, access)
        return self.measurement.sla.engagement, access

    def get_context_data(self, **kwargs):
        m = self.measurement
        intro = (
            f"{m.sla.name}: {m.value.normalize():f} {m.sla.unit} for {m.period_start:%-d %b %Y}"
            f" to {m.period_end:%-d %b %Y}, recorded by the {m.recorded_by_side or 'unknown'} side."
        )
        return super().get_context_data(intro=intro, **kwargs)

    def perform(self, form):
        disputes.measurement_dispute(
            measurement=self.measurement, user=self.request.user, **form.cleaned_data
        )

    def get_success_url(self) -> str:
        return period_page_of(self.measurement)


def _dispute_button(service, *, success: str):
    """A POST-only view running `service` on one dispute of the user's engagements."""

    @login_required
    @require_POST
    def view(request, pk):
        dispute = get_object_or_404(
            MeasurementDispute.objects.restrict(request.user).select_related(
                "sla__engagement", "measurement"
            ),
            pk=pk,
        )
        return button_action(
            request,
            lambda: service(dispute=dispute, user=request.user),
            success=success,
            engagement=dispute.sla.engagement,
            to=period_page_of(dispute.measurement),
        )

    return view


measurement_dispute_withdraw = _dispute_button(
    disputes.measurement_dispute_withdraw, success="Dispute withdrawn: the value stands."
)
measurement_correction_accept = _dispute_button(
    disputes.measurement_correction_accept,
    success="Correction accepted: the proposed value is recorded and the dispute is closed.",
)


def _posted(request):
    """The posted data, or None on GET: an empty POST is still a (bad) submission."""
    return request.POST if request.method == "POST" else None


# ---------------------------------------------------------------- engagements
@login_required
def engagement_propose(request):
    form = EngagementProposeForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            engagement = services.engagement_propose(
                proposer=request.user,
                site_url=links.site_url(request),
                own_organization=data.pop("own_organization"),
                own_side=data.pop("own_side"),
                **data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            counterpart = engagement.organization_of(other_side(engagement.proposed_by_side))
            messages.success(
                request,
                f"Engagement proposed. It becomes active when an admin of {counterpart} "
                "accepts it.",
            )
            return redirect(engagement)
    status = 400 if form.is_bound else 200
    return render(request, "relationships/engagement_propose.html", {"form": form}, status=status)


@login_required
@require_POST
def engagement_accept(request, pk):
    engagement, _ = engagement_with_access(request.user, pk)
    return button_action(
        request,
        lambda: services.engagement_accept(engagement=engagement, user=request.user),
        success="Engagement accepted: both sides can now record data.",
        engagement=engagement,
    )


@login_required
def engagement_archive(request, pk):
    """A confirmation page, then the archive: every record is kept, read-only."""
    engagement, _ = engagement_with_access(request.user, pk, action="archive")
    if engagement.status == Engagement.Status.ARCHIVED:
        messages.info(request, "This engagement is already archived.")
        return redirect(engagement)
    if request.method == "POST":
        services.engagement_archive(engagement=engagement, user=request.user)
        messages.success(
            request, "Engagement archived. Its records are kept and both sides can still read them."
        )
        return redirect(engagement)
    return render(request, "relationships/engagement_archive.html", {"engagement": engagement})


# ---------------------------------------------------------------- invitations
@login_required
def invitation_list(request, pk):
    organization = get_object_or_404(Organization.objects.of_member(request.user), pk=pk)
    organization.require_admin(request.user)
    form = InvitationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _ = services.invitation_create(
                organization=organization,
                invited_by=request.user,
                site_url=links.site_url(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("invitation-list", pk=organization.pk)
    invitations = organization.invitations.select_related("invited_by", "accepted_by")
    return render(
        request,
        "relationships/invitation_list.html",
        {
            "organization": organization,
            "form": form,
            "invitations": invitations,
            "now": timezone.now(),
        },
        status=400 if form.is_bound else 200,
    )


def invitation_accept(request, token):
    """Join by an invitation's link: signed in with the invited address, or by creating the
    account for it; anyone else is told to sign out (403 on a POST, nothing changed)."""
    invitation = services.invitation_by_token(token)
    if invitation is None:
        return render(request, "relationships/invitation_invalid.html", status=404)
    signed_in = request.user.is_authenticated
    form = None if signed_in else InvitationSignupForm(_posted(request))
    refusal = ""
    status = 200
    if request.method == "POST" and (signed_in or form.is_valid()):
        account = {} if signed_in else form.cleaned_data
        try:
            user = services.invitation_accept(
                raw_token=token,
                user=request.user if signed_in else None,
                username=account.get("username", ""),
                password=account.get("password", ""),
            )
        except PermissionDenied as exc:
            refusal, status = str(exc), 403
        except ValidationError as exc:
            status = 400
            if form is None:
                messages.error(request, " ".join(exc.messages))
            else:
                add_service_errors(form, exc, default_field="password")
        else:
            if not signed_in:
                # A new account has not authenticated through a backend yet.
                login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            messages.success(request, f"Welcome to {invitation.organization}.")
            return redirect("portfolio")
    elif request.method == "POST":
        status = 400
    if signed_in and not invitation.is_for(request.user):
        refusal = services.invitation_refusal(invitation, request.user)
    return render(
        request,
        "relationships/invitation_accept.html",
        {"invitation": invitation, "form": form, "refusal": refusal},
        status=status,
    )
