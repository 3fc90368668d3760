"""Webhooks: subscriptions' secrets and URLs, the outbox drain and signed deliveries.

The scorecard computation writes OutboxEvent rows in its own transaction (see
`scorecards.compute`). `outbox.drain_outbox` (every minute from beat, and right after
such a commit) turns each event into one WebhookDelivery per matching subscription of
the engagement's two parties, then `outbox.deliver_webhook` POSTs it, signed, retrying
with exponential backoff. Every step is idempotent, so a broker outage or a repeated
task delays deliveries but never loses or duplicates them.
"""
