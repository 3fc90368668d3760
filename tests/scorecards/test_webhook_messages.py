"""Slack and Teams messages carry what users typed as text: no mention, markup or link of theirs.

The names below are what an outsider can give an organisation or an engagement. Each one
goes through a real computation and delivery to a Slack, a Teams and a JSON subscriber;
the messages are then read the way the chat clients read them: Slack's control sequences
and automatic parsing, and for Teams a CommonMark renderer with autolinks.
"""

import copy
import re
import unicodedata

import orjson
import pytest
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt

from relationships.models import Engagement, Organization
from scorecards.compute import compute_chunk
from scorecards.events import engagement_url
from scorecards.models import OutboxEvent, WebhookSubscription
from scorecards.webhooks.formats import render
from scorecards.webhooks.subscriptions import subscription_save
from tests.scorecards.conftest import APRIL_10, MARCH, WEBHOOK_SECRET, populate

AUDIT = "<!channel> <https://evil.example|Open Accord>"
HOSTILE = {
    "audit": AUDIT,
    "slack controls": "<!here> <!everyone> <@U024BE7LH> <#C024BE7LR> <!subteam^S0614TZR7> "
    "<!date^1392734382^{date}|x> <https://evil.example>",
    "markdown": "[Open Accord](https://evil.example) ![x](https://evil.example/a.png) "
    "**bold** __b__ _it_ ~~gone~~ `code` [ref]: https://evil.example",
    "autolinks": "https://evil.example www.evil.com evil.com mailto:x@evil.com x@evil.com "
    "ftp://evil.example/file",
    "mentions": "@channel @here @everyone <at>Boss</at>",
    "html": '<b>bold</b> <a href="https://evil.example">Open</a> <img src=x onerror=alert(1)> '
    "&lt;!channel&gt; &#60;!here&#62; &amp;",
    "blocks": "# Heading\n- item\n1. first\n> quote\n---\n    indented",
    "zero width": "<\u200b!channel> <https://evil\u200b.example|Open> @\u200bhere "
    "htt\u200bps://evil.example [x]\u200b(https://evil.example) \ufeff@channel",
    "bidi": "\u202eLIVE\u202c <\u2066!channel\u2069> \u200fevil.com\u200e",
    "fullwidth": "＜!channel＞ ［x］（https://evil.example） ＠here",
    "leading marks": "- <!channel>",
}
SLACK_MENTION = re.compile(r"@(channel|here|everyone)\b|<[!@#]")
linkify = LinkifyIt()
markdown = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "strikethrough"])


def shown(text: str) -> str:
    """What a reader sees of a name: its invisible characters gone, on one line."""
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Cf").split())


def unjoined(text: str) -> str:
    return text.replace("\u2060", "")


# ---------------------------------------------------------------- how each client reads
def slack_texts(message: dict) -> list[tuple[str, dict | None]]:
    """Every text of a Slack message, with its text object (None for the top-level text)."""
    texts = [(message["text"], None)]
    for block in message["blocks"]:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if obj:
                texts.append((obj["text"], obj))
    return texts


def assert_slack_inert(message: dict, link: str) -> None:
    tokens = []
    for text, obj in slack_texts(message):
        if obj is not None and obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True, obj  # Slack parses nothing on its own
        tokens += re.findall(r"<([^>]*)>", text)
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text  # every & is an entity
        assert not SLACK_MENTION.search(text), text
        assert not linkify.test(re.sub(r"<[^>]*>", " ", text)), text
    assert tokens == [f"{link}|Open"]  # the one control sequence: our link


def slack_shown(text: str) -> str:
    return unjoined(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def teams_texts(card: dict) -> list[str]:
    texts = []
    for element in card["body"]:
        if element["type"] == "TextBlock":
            texts.append(element["text"])
        for fact in element.get("facts", []):
            texts += [fact["title"], fact["value"]]
    return texts


def teams_shown(text: str) -> str:
    """The text a CommonMark renderer with autolinks shows, failing on any markup."""
    if not text:
        return ""
    tokens = markdown.parse(text)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], text
    children = tokens[1].children
    assert {child.type for child in children} <= {"text"}, (text, children)
    return unjoined("".join(child.content for child in children))


def urls_in(value) -> list[str]:
    """Every value under a key that takes a URL, anywhere in a card."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in ("url", "selectAction", "contentUrl") and v]
        return found + [url for v in value.values() for url in urls_in(v)]
    if isinstance(value, list):
        return [url for v in value for url in urls_in(v)]
    return []


def assert_teams_inert(message: dict, link: str) -> dict:
    [attachment] = message["attachments"]
    card = attachment["content"]
    for text in teams_texts(card):
        teams_shown(text)
    assert urls_in(message) == [link]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Accord", "url": link}]
    return card


# ---------------------------------------------------------------- through a real delivery
@pytest.fixture
def subscribers(receiver, engagement):
    """A JSON, a Slack and a Teams subscription, each on its own receiver path."""
    for format in ("json", "slack", "teams"):
        subscription_save(
            subscription=WebhookSubscription(
                organization=engagement.client,
                url=f"{receiver.url}/{format}",
                events=["scorecard.computed", "alert.raised"],
                format=format,
            ),
            secret=WEBHOOK_SECRET,
        )
    return receiver


def received(receiver) -> dict[str, list[tuple[str, dict]]]:
    """The delivered (event kind, body) pairs of each format."""
    by_format = {"json": [], "slack": [], "teams": []}
    for request in receiver.requests:
        by_format[request["path"].rsplit("/", 1)[-1]].append(
            (request["headers"]["X-Accord-Event"], orjson.loads(request["body"]))
        )
    return by_format


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_names_reach_slack_and_teams_as_text_only(
    hostile, engagement, subscribers, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://accord.example"
    Engagement.objects.filter(pk=engagement.pk).update(name=hostile)
    Organization.objects.filter(pk=engagement.client_id).update(name=f"{hostile} C")
    Organization.objects.filter(pk=engagement.provider_id).update(name=f"P {hostile}")
    populate(engagement, provider_met=False)  # the provider's SLAs missed: alerts
    with django_capture_on_commit_callbacks(execute=True):
        compute_chunk([engagement.pk], "month", MARCH, APRIL_10)
    link = engagement_url(engagement.pk)
    messages = received(subscribers)
    events = list(OutboxEvent.objects.order_by("pk").values_list("kind", "payload"))
    assert {kind for kind, _ in events} == {"scorecard.computed", "alert.raised"}
    name = shown(hostile)

    slack_shows, teams_shows = [], []
    for _, message in messages["slack"]:
        assert_slack_inert(message, link)
        slack_shows += [slack_shown(text) for text, _ in slack_texts(message)]
    for _, message in messages["teams"]:
        card = assert_teams_inert(message, link)
        teams_shows += [teams_shown(text) for text in teams_texts(card)]
    # Nothing of the names is lost: each reader sees them as the user typed them.
    for shows in (slack_shows, teams_shows):
        # (Slack's header is cut at 150 characters; its top-level text has the whole title.)
        assert any(text.startswith(f"Alert: {name}") for text in shows)
        assert any(text.startswith(f"Scorecard: {name}") for text in shows)
        assert any(f"The provider side of {name} met" in text for text in shows)
        assert any(text.startswith(f"{name} C ↔ P {name}, month 2026-03-01") for text in shows)
    assert f"*Engagement*\n{name}" in slack_shows and name in teams_shows

    # JSON is JSON: the payloads exactly as stored, the names as the user typed them.
    assert sorted(messages["json"], key=repr) == sorted(events, key=repr)
    for _, payload in messages["json"]:
        assert payload["engagement"]["name"] == hostile
        assert payload["engagement"]["client"] == f"{hostile} C"
    assert len(messages["slack"]) == len(messages["teams"]) == len(events)


# ---------------------------------------------------------------- every field of every event
def _hostile_strings(value, text: str):
    """The payload with every string in it replaced by `text` (numbers stay numbers)."""
    if isinstance(value, dict):
        return {key: _hostile_strings(item, text) for key, item in value.items()}
    if isinstance(value, list):
        return [_hostile_strings(item, text) for item in value]
    return text if isinstance(value, str) else value


def _payloads(engagement_id: int) -> dict[str, dict]:
    engagement = {"id": engagement_id, "name": "n", "client": "c", "provider": "p"}
    url = {"url": "https://accord.example/engagements/1/"}
    return {
        "scorecard.computed": {
            "event": "scorecard.computed",
            "engagement": engagement,
            "scorecard": {
                "id": 7,
                "period_kind": "month",
                "period_start": "2026-03-01",
                "period_end": "2026-03-31",
                "band": "watch",
                **dict.fromkeys(("overall", "client_score", "provider_score"), 71.4),
                **{"coverage": 0.85, "trend": -4.2, "perception_gap": None},
                **url,
            },
        },
        "alert.raised": {
            "event": "alert.raised",
            "engagement": engagement,
            "alert": {
                "id": 3,
                "kind": "side_reliance_low",
                "side": "provider",
                "message": "m",
                "period_start": "2026-03-01",
                **url,
            },
        },
    }


@pytest.mark.parametrize("kind", ["scorecard.computed", "alert.raised"])
@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_every_text_of_an_event_is_escaped_and_the_only_link_is_ours(kind, hostile, settings):
    """Whatever string of the payload a message shows, now or later, it shows as text;
    a link in the payload (here the "url" fields, rewritten) is never the message's link."""
    settings.SITE_URL = "https://accord.example"
    payload = _hostile_strings(copy.deepcopy(_payloads(41)[kind]), hostile)
    link = "https://accord.example/engagements/41/"

    slack = render(kind, payload, "slack")
    assert_slack_inert(slack, link)
    texts = [slack_shown(text) for text, _ in slack_texts(slack)]
    assert any(shown(hostile) in text for text in texts)

    card = assert_teams_inert(render(kind, payload, "teams"), link)
    assert any(shown(hostile) in teams_shown(text) for text in teams_texts(card))

    assert render(kind, payload, "json") == payload


def test_a_long_name_fits_slack_without_a_broken_entity(settings):
    settings.SITE_URL = "https://accord.example"
    payload = _payloads(41)["alert.raised"]
    payload["engagement"]["name"] = "<&>" * 66 + "&&"  # 200 characters, each escaped
    payload["alert"]["message"] = "<&>" * 166
    message = render("alert.raised", payload, "slack")
    header = message["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…")
    assert all(len(text) <= 3000 for text, _ in slack_texts(message))
    assert_slack_inert(message, "https://accord.example/engagements/41/")


def test_a_payload_without_an_engagement_id_gets_no_link(settings):
    payload = _payloads(41)["alert.raised"]
    payload["engagement"]["id"] = "41"  # not ours: only an integer id makes our link
    slack = render("alert.raised", payload, "slack")
    assert slack["blocks"][3]["elements"][0]["text"] == "Accord"
    assert render("alert.raised", payload, "teams")["attachments"][0]["content"]["actions"] == []
