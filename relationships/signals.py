"""Signals by which the relationships app tells the apps above it what happened.

Dependencies point one way (relationships at the bottom), so an app that turns these
into something else (the scorecards app writes webhook events to its outbox) listens
here; relationships never imports it.
"""

from django.dispatch import Signal

# A change to an engagement's terms or its records that both sides should hear of
# (PRODUCT.md §7): a change request opened, accepted, declined, withdrawn or expired, a
# recorded value disputed. Sent inside the transaction of the change, so a listener's
# writes (the outbox event) commit or roll back with it.
#   sender: the model class of the subject (ChangeRequest, MeasurementDispute, ...)
#   engagement: the Engagement
#   event: the event's name, e.g. "change_request.opened", "measurement.disputed"
#   subject: the payload's subject key, e.g. "change_request", "dispute"
#   fields: JSON-able values describing the subject (ids, sides, values as text, dates ISO)
terms_event = Signal()

# A write changed what an engagement's scorecard is computed from (PRODUCT.md §12): values,
# check-ins, issues, action items, contribution reviews, goals and their progress, survey
# answers, contacts, terms applied. Sent inside the write's transaction by the service that
# wrote; a listener acts once it commits (the scorecards app refreshes the provisional
# scorecard), so a write that rolls back asks for nothing.
#   sender: the model class written
#   engagement_ids: the engagements whose inputs changed
#   since (optional): the earliest day the write touched, when it touched days only
#     (measurements); periods ending before it are unchanged. Absent: every open period.
engagement_inputs_changed = Signal()
