"""The body each subscription format (JSON, Slack, Teams) receives for an event."""

from scorecards.models import WebhookSubscription

Format = WebhookSubscription.Format


def _summary(kind: str, payload: dict) -> tuple[str, str, list[tuple[str, str]], str]:
    """Title, text, facts and link of an event, shared by the Slack and Teams formats."""
    engagement = payload.get("engagement") or {}
    parties = f"{engagement.get('client', '?')} ↔ {engagement.get('provider', '?')}"
    if kind == WebhookSubscription.Event.ALERT_RAISED:
        alert = payload.get("alert") or {}
        facts = [
            ("Engagement", str(engagement.get("name", ""))),
            ("Alert", str(alert.get("kind", "")).replace("_", " ")),
            ("Side", str(alert.get("side") or "both")),
            ("Period", str(alert.get("period_start", ""))),
        ]
        return (
            f"Alert: {engagement.get('name', '')}",
            str(alert.get("message", "")),
            facts,
            str(alert.get("url", "")),
        )
    card = payload.get("scorecard") or {}
    facts = [
        ("Overall", _number(card.get("overall"))),
        ("Band", str(card.get("band", "")).replace("_", " ")),
        ("Client", _number(card.get("client_score"))),
        ("Provider", _number(card.get("provider_score"))),
        ("Trend", _number(card.get("trend"), signed=True)),
        ("Perception gap", _number(card.get("perception_gap"))),
        ("Coverage", _number(card.get("coverage"))),
    ]
    period = f"{card.get('period_start', '')} – {card.get('period_end', '')}"
    return (
        f"Scorecard: {engagement.get('name', '')}",
        f"{parties}, {card.get('period_kind', 'period')} {period}",
        facts,
        str(card.get("url", "")),
    )


def _number(value, signed: bool = False) -> str:
    if value is None:
        return "no data"
    return f"{float(value):+.1f}" if signed else f"{float(value):g}"


def render(kind: str, payload: dict, format: str) -> dict:
    """The body a subscription in `format` receives for an event."""
    if format == Format.JSON:
        return payload
    title, text, facts, url = _summary(kind, payload)
    if format == Format.SLACK:
        blocks = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text or title}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Accord · <{url}|Open>"}]},
        ]
        return {"text": f"{title}: {text}", "blocks": blocks}
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": text, "wrap": True, "isSubtle": True},
            {"type": "FactSet", "facts": [{"title": n, "value": v} for n, v in facts]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Accord", "url": url}]
        if url
        else [],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }
