"""The body each subscription format (JSON, Slack, Teams) receives for an event.

An event's payload carries what users typed: engagement and organisation names, and
alert messages that quote them. A Slack or Teams message is first built as plain text
(`Message`); `render` then escapes every text in it with the format's one escape
function before the format adds its own markup, so no field, present or future, reaches
a channel as markup. The only link is built here, from SITE_URL and the engagement's id,
never taken from the payload. JSON subscribers get the payload itself: JSON is JSON.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from scorecards.events import engagement_url
from scorecards.models import WebhookSubscription

Format = WebhookSubscription.Format

WORD_JOINER = "\u2060"  # invisible, and it does not let a line break where it stands
# Slack's limits on the text of a header block and of a section's text and fields.
SLACK_HEADER_LIMIT, SLACK_TEXT_LIMIT, SLACK_FIELD_LIMIT = 150, 3000, 2000


# ---------------------------------------------------------------- escaping
_AUTOLINK_MARK = re.compile(r"@|:(?=\S)|/(?=/)|(?<=\w)\.(?=[^\W\d_])")


def _inert(value) -> str:
    """One line of text with no invisible characters, mentions or autolinks.

    Invisible and bidirectional formatting characters are dropped (they hide or reorder
    what a reader sees), line breaks and other controls become spaces. A word joiner
    after "@", after a ":" with text right behind it, between two slashes and after a dot
    that precedes a letter keeps chat clients from reading "@channel", "https://…",
    "mailto:…", "//evil.example", "evil.example" or "x@evil.example" as a mention or a
    link, while the text looks the same.
    """
    text = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in str(value)
        if unicodedata.category(char) not in ("Cf", "Cs")
    )
    text = " ".join(text.split())
    return _AUTOLINK_MARK.sub(lambda mark: mark[0] + WORD_JOINER, text)


def slack_text(value) -> str:
    """Text for Slack mrkdwn and plain_text: &, < and > escaped as Slack's docs require.

    With "<" escaped no control sequence (<!channel>, <@U…>, <#C…>, <url|label>) can
    form; every mrkdwn object is also sent `verbatim`, so Slack links nothing itself.
    """
    return _inert(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Inline Markdown (emphasis, code, links, autolinks and HTML, entities) anywhere, and
# the marks that open a heading, list or rule at the start of the (single) line.
_MARKDOWN_INLINE = re.compile(r"([\\`*_~\[\]<>&|])")
_MARKDOWN_BLOCK_START = re.compile(r"^([#+-]+|\d+[.)])(?=\s|$)")


def teams_text(value) -> str:
    """Text for an Adaptive Card's Markdown (TextBlock, Fact): its syntax backslash-escaped."""
    text = _MARKDOWN_INLINE.sub(r"\\\1", _inert(value))
    return _MARKDOWN_BLOCK_START.sub(lambda mark: mark[1][:-1] + "\\" + mark[1][-1], text)


# ---------------------------------------------------------------- the message
@dataclass(frozen=True)
class Message:
    """An event told in plain text; no part of it is markup yet."""

    title: str
    text: str
    facts: tuple[tuple[str, str], ...]

    def escaped(self, escape: Callable[[str], str]) -> "Message":
        return Message(
            title=escape(self.title),
            text=escape(self.text),
            facts=tuple((escape(name), escape(value)) for name, value in self.facts),
        )


def _message(kind: str, payload: dict) -> Message:
    engagement = payload.get("engagement") or {}
    name = engagement.get("name", "")
    if kind in _TERMS_SUBJECTS:
        return _terms_message(kind, payload, str(name))
    if kind == WebhookSubscription.Event.TEST:
        test = payload.get("test") or {}
        return Message(
            title=f"Test message: {name}",
            text=f"Accord is connected. {test.get('sent_by', '')} sent this test message.",
            facts=(
                ("Engagement", str(name)),
                ("Events", ", ".join(str(event) for event in test.get("events") or ())),
            ),
        )
    if kind == WebhookSubscription.Event.ALERT_RAISED:
        alert = payload.get("alert") or {}
        return Message(
            title=f"Alert: {name}",
            text=str(alert.get("message", "")),
            facts=(
                ("Engagement", str(name)),
                ("Alert", str(alert.get("kind", "")).replace("_", " ")),
                ("Side", str(alert.get("side") or "both")),
                ("Period", str(alert.get("period_start", ""))),
            ),
        )
    card = payload.get("scorecard") or {}
    parties = f"{engagement.get('client', '?')} ↔ {engagement.get('provider', '?')}"
    period = f"{card.get('period_start', '')} – {card.get('period_end', '')}"
    return Message(
        title=f"Scorecard: {name}",
        text=f"{parties}, {card.get('period_kind', 'period')} {period}",
        facts=(
            ("Overall", _number(card.get("overall"))),
            ("Band", str(card.get("band", "")).replace("_", " ")),
            ("Client", _number(card.get("client_score"))),
            ("Provider", _number(card.get("provider_score"))),
            ("Trend", _number(card.get("trend"), signed=True)),
            ("Perception gap", _number(card.get("perception_gap"))),
            ("Coverage", _number(card.get("coverage"))),
        ),
    )


# The terms' events (relationships.signals.terms_event): the payload key of their subject.
_TERMS_SUBJECTS = {
    **{
        event.value: "change_request"
        for event in WebhookSubscription.Event
        if event.value.startswith("change_request.")
    },
    WebhookSubscription.Event.MEASUREMENT_DISPUTED.value: "dispute",
}


def _terms_message(kind: str, payload: dict, name: str) -> Message:
    """A change request's or a dispute's event: what, who, and its text-valued fields."""
    subject = payload.get(_TERMS_SUBJECTS[kind]) or {}
    facts = [("Engagement", name)]
    for change in subject.get("changes") or ():
        if isinstance(change, dict):
            facts.append(
                (
                    str(change.get("what", "")),
                    f"{change.get('current', '')} → {change.get('proposed', '')}",
                )
            )
    for key, value in subject.items():
        if key not in ("id", "url", "changes", "what") and isinstance(value, str | int) and value:
            facts.append((key.replace("_", " ").capitalize(), str(value)))
    return Message(
        title=f"{dict(WebhookSubscription.Event.choices)[kind]}: {name}",
        text=str(subject.get("what") or ""),
        facts=tuple(facts[:10]),
    )


def _number(value, signed: bool = False) -> str:
    if value is None:
        return "no data"
    return f"{float(value):+.1f}" if signed else f"{float(value):g}"


def _link(payload: dict) -> str | None:
    """The engagement's page on this site; None when the payload names no engagement."""
    engagement_id = (payload.get("engagement") or {}).get("id")
    return engagement_url(engagement_id) if type(engagement_id) is int else None


# ---------------------------------------------------------------- formats
def render(kind: str, payload: dict, format: str) -> dict:
    """The body a subscription in `format` receives for an event."""
    if format == Format.JSON:
        return payload
    if format == Format.SLACK:
        return _slack(_message(kind, payload).escaped(slack_text), _link(payload))
    return _teams(_message(kind, payload).escaped(teams_text), _link(payload))


def _fit(text: str, limit: int) -> str:
    """Escaped Slack text cut to `limit` characters, never inside an entity."""
    if len(text) <= limit:
        return text
    return re.sub(r"&[a-z]*$", "", text[: limit - 1]) + "…"


def _mrkdwn(text: str, limit: int) -> dict:
    return {"type": "mrkdwn", "text": _fit(text, limit), "verbatim": True}


def _slack(message: Message, link: str | None) -> dict:
    context = "Accord" + (f" · <{link}|Open>" if link else "")
    blocks = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _fit(message.title, SLACK_HEADER_LIMIT)},
        },
        {"type": "section", "text": _mrkdwn(message.text or message.title, SLACK_TEXT_LIMIT)},
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*{name}*\n{value}", SLACK_FIELD_LIMIT) for name, value in message.facts
            ],
        },
        {"type": "context", "elements": [_mrkdwn(context, SLACK_FIELD_LIMIT)]},
    ]
    return {"text": _fit(f"{message.title}: {message.text}", SLACK_TEXT_LIMIT), "blocks": blocks}


def _teams(message: Message, link: str | None) -> dict:
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": message.title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": message.text, "wrap": True, "isSubtle": True},
            {"type": "FactSet", "facts": [{"title": n, "value": v} for n, v in message.facts]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Accord", "url": link}]
        if link
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
