"""Telegram public channel previews (``https://t.me/s/<channel>``): sites and channels in messages.

The preview page shows the channel's title (``.tgme_channel_info_header_title``), its subscriber
count (``.tgme_channel_info_counter``) and its latest messages (``.tgme_widget_message`` with
``data-post``, text in ``.tgme_widget_message_text``, ``<time datetime>``). Every link in a message
text is a lead: a website, or another channel (``t.me/<name>`` links and ``@name`` mentions), which
is then read too, so a channel reached from another channel leads on (within the request budget).
Channels to start from are ``queries`` (read first, with the channels they lead to) and every
``t.me/<name>`` platform crawls have seen linked (newest first). A page with no channel header and no
message markup is not a channel preview any more: the run fails naming what is missing.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from scanner.discovery.base import Lead, SchemaError, SourceContext
from scanner.markup import parse_complete
from scanner.pollers.session import Fetched, PollError

HOSTS = {"t.me", "telegram.me"}
NOT_PLATFORMS = {"telegram.org", "telegram.me", "t.me"}
_CHANNEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
_RESERVED = {"s", "joinchat", "share", "addstickers", "proxy", "iv", "c", "addlist", "boost"}


def discover(ctx: SourceContext) -> Iterator[Lead]:
    configured = [c.lstrip("@").lower() for c in ctx.target.queries]
    linked = [key.split("/")[1] for key in ctx.hosted if key.startswith("t.me/") and key.count("/") == 1]
    # Configured channels and those they lead to come first; then the channels crawls linked (newest
    # first), whose own leads are read as they come. A budget too small for all stops in the latter.
    # Deques: a page can name one channel a hundred thousand times, each queued and popped (a list's
    # pop(0) moved the rest each time: 0.5 s for 100,000 names, 8 s for 400,000).
    queue = deque((c, "") for c in configured)
    later = deque((c, "") for c in linked)
    read: set[str] = set()
    while queue or later:
        channel, via = queue.popleft() if queue else later.popleft()
        if channel in read:
            continue
        if not ctx.budget_left():
            return
        read.add(channel)
        try:
            fetched = ctx.get(f"/s/{channel}")
            title, subscribers, messages = _parse(fetched, channel)
        except PollError as exc:
            # A configured channel must be readable (a failure there is a changed page or a block); a
            # name met in a message or a crawled link may be a person, a bot or a deleted channel.
            if channel in configured or not _not_a_channel(exc):
                raise
            ctx.notes.append(f"t.me/{channel} skipped: {exc.problem}")
            continue
        where = f"t.me/{channel}" + (f" (reached from t.me/{via})" if via else "")
        about = f"{title!r}, {subscribers} subscribers" if subscribers else repr(title)
        for post, at, links in messages:
            for url in links:
                other = _channel_of(url)
                if other is not None:
                    if other != channel:
                        reason = f"channel named in message {post} of {where} {about}"
                        yield ctx.lead(f"{_origin(ctx)}/{other}", fetched, reason, at)
                        queue.append((other, channel))
                    continue
                host = (urlsplit(url).hostname or "").lower()
                if host and host not in NOT_PLATFORMS and urlsplit(url).scheme in ("http", "https"):
                    yield ctx.lead(url, fetched, f"linked in message {post} of {where} {about}", at)


def _not_a_channel(exc: PollError) -> bool:
    """A 404, or a page without a channel header (t.me/s/<user> redirects to the user's page)."""
    return exc.problem.startswith("HTTP 404") or (
        isinstance(exc, SchemaError) and "no channel title" in exc.problem
    )


def _origin(ctx: SourceContext) -> str:
    parts = urlsplit(ctx.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _channel_of(url: str) -> str | None:
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[0] == "s":
        segments = segments[1:]
    if not segments or segments[0].lower() in _RESERVED or not _CHANNEL.match(segments[0]):
        return None
    return segments[0].lower()


def _parse(fetched: Fetched, channel: str) -> tuple[str, str, list[tuple[str, datetime | None, list[str]]]]:
    try:
        tree = parse_complete(fetched.body or b"<html/>", lxml_html.fromstring)
    except (ValueError, lxml_html.etree.ParserError) as exc:
        raise fetched.fail(f"t.me/s/{channel}: not an HTML page ({exc})") from None
    header = tree.xpath('//*[contains(@class, "tgme_channel_info_header_title")]')
    posts = tree.xpath('//*[contains(concat(" ", @class, " "), " tgme_widget_message ")][@data-post]')
    if not header:
        raise SchemaError(
            f"t.me/s/{channel}: no channel title (.tgme_channel_info_header_title); the page layout "
            "changed or the channel is not public", method=fetched.method, url=fetched.url,
        )  # fmt: skip
    title = " ".join(header[0].text_content().split())
    counter = tree.xpath('//*[contains(@class, "tgme_channel_info_counter")]')
    subscribers = " ".join(counter[0].text_content().split()).replace(" subscribers", "") if counter else ""
    messages = []
    for post in posts:
        texts = post.xpath('.//*[contains(concat(" ", @class, " "), " tgme_widget_message_text ")]')
        if not texts and not post.xpath('.//*[contains(@class, "tgme_widget_message_")]'):
            continue
        if not texts and post.xpath(
            './/*[contains(@class, "media") or contains(@class, "photo") or contains(@class, "document")]'
        ):
            continue  # a picture or file without a caption
        if not texts:
            raise SchemaError(
                f"t.me/s/{channel}: message {post.get('data-post')} has no .tgme_widget_message_text "
                "(the page layout changed)", method=fetched.method, url=fetched.url,
            )  # fmt: skip
        text = texts[0]
        links = [urljoin(fetched.url, a.get("href", "")) for a in text.xpath(".//a[@href]")]
        links += [f"https://t.me/{m}" for m in _MENTION.findall(text.text_content())]
        stamp = post.xpath(".//time/@datetime")
        messages.append((post.get("data-post", ""), _when(stamp[0] if stamp else None), links))
    return title, subscribers, messages


def _when(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
