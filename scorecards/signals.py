"""Signals by which the scorecards app tells the apps above it what happened.

Dependencies point one way (scorecards below notices), so the notices app listens here;
scorecards never imports it.
"""

from django.dispatch import Signal

# Events written to the outbox (a run's scorecards and alerts, a terms event), sent inside
# the transaction that wrote them, so a listener's writes commit or roll back with them.
#   sender: OutboxEvent
#   events: the OutboxEvent rows just written (kind, engagement_id, payload)
events_written = Signal()

# Sent by the notices app while it writes the e-mail "a closed period awaits your side's
# review"; each receiver returns a list of (filename, content bytes, MIME type) to attach
# (the review pack's PDF).
#   sender: the Notice model
#   engagement: the Engagement; data: {"scorecard": id, "period_start": ISO date}; user
review_email_attachments = Signal()
