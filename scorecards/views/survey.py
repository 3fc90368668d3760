"""The pulse survey page: any member answers for the current period and sees each side's results.

It lives with the scorecards because the survey threshold is part of the scoring configuration.
"""

from django.utils.functional import cached_property

from feedback import services as feedback_services
from feedback.forms import PulseSurveyForm
from feedback.models import PULSE_FIELDS, PULSE_QUESTIONS, PulseResponse
from relationships.models import Side
from relationships.pages import EngagementFormView


class PulseSurveyView(EngagementFormView):
    """Any member answers for the current period; their own answers come back prefilled."""

    form_class = PulseSurveyForm
    template_name = "feedback/pulse_survey.html"
    title = "Pulse survey"
    action = "read"
    success_message = "Thank you: your answers are saved for this period."
    submit_label = "Submit answers"

    @cached_property
    def period(self):
        return self.engagement.current_period()

    def get_form(self, data=None, files=None):
        previous = (
            PulseResponse.objects.current()
            .filter(
                engagement=self.engagement,
                respondent=self.request.user,
                period_start=self.period.start,
            )
            .first()
        )
        self.previous = previous
        initial = {field: getattr(previous, field) for field in PULSE_FIELDS} if previous else {}
        return self.form_class(data, initial=initial)

    def perform(self, form):
        feedback_services.pulse_submit(
            engagement=self.engagement, user=self.request.user, answers=form.cleaned_data
        )

    def get_context_data(self, **kwargs):
        threshold = self.engagement.scoring_config_values().survey_threshold
        aggregates = feedback_services.pulse_aggregates(
            engagement=self.engagement, period_start=self.period.start, threshold=threshold
        )
        return super().get_context_data(
            period=self.period,
            side=self.access.side,
            previous=self.previous,
            threshold=threshold,
            sides=[_side_summary(label, aggregates[side]) for side, label in Side.choices],
            **kwargs,
        )


def _side_summary(label: str, aggregate: dict) -> dict:
    means = aggregate["means"]
    return {
        "label": label,
        "respondents": aggregate["respondents"],
        "overall": aggregate["overall"],
        "question_means": [
            {"question": question, "value": means[field]} for field, question in PULSE_QUESTIONS
        ],
    }
