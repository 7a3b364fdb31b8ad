"""Rendering customer and staff messages from templates.

:class:`Renderer` renders one message kind for one channel in one locale: it
builds the template context from the event data (:mod:`notifier.rendering.context`),
renders each part in the capped sandbox (:mod:`notifier.rendering.sandbox`), and finishes
the parts (:mod:`notifier.rendering.message`): a tidied plain-text body, a one-line
subject, HTML with inlined CSS and its preheader as plain text, or a GSM-7 SMS. Each part
is streamed and stopped at ``max_bytes`` and at a wall-clock deadline.

The HTML's ``<style>`` rules are copied onto the elements they match (mail clients that
drop ``<style>`` keep them); what matches no element yet (dark mode, phone widths, the
rules for Outlook.com and Apple Mail, ``<style data-css-inline="ignore">``) stays in the
head. Every link gets ``clicktracking="off"``: a provider's click tracking must not
rewrite the label, status or support links into redirects.

It uses the other rooms of :mod:`notifier.rendering`, one noun each:

- :mod:`notifier.rendering.kinds`: the message kinds, their template files and variables;
- :mod:`notifier.rendering.models`: the typed values templates read (:class:`Brand`, ...);
- :mod:`notifier.rendering.shop`: the shop's profile (:class:`Shop`) that frames every email;
- :mod:`notifier.rendering.progress`: the progress line of a customer email;
- :mod:`notifier.rendering.fields`: typed access to the event JSON;
- :mod:`notifier.rendering.context`: the template variables of one message;
- :mod:`notifier.rendering.calendar`: the calendar event an email attaches;
- :mod:`notifier.rendering.sandbox`: the sandboxed Jinja2 environment and its caps;
- :mod:`notifier.rendering.message`: :class:`RenderedMessage`, :class:`RenderError`, finishing.

Errors: :class:`RenderError` is the only error a render raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import css_inline
from jinja2 import Template, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from notifier.rendering.calendar import DEFAULT_HOST, attachment
from notifier.rendering.context import build_context
from notifier.rendering.formatting import Formatter, resolve_timezone, split_locale
from notifier.rendering.kinds import ALL_KINDS, CHANNELS, kind_channels, template_file
from notifier.rendering.message import RenderedMessage, RenderError, sms_text, subject_line, tidy
from notifier.rendering.models import Brand
from notifier.rendering.policy import Policy
from notifier.rendering.sandbox import Overrun, budget, make_environment
from notifier.rendering.shop import Shop

#: The HTML template block holding the email's preheader: the line inboxes show after the
#: subject, hidden in the body (``templates/<locale>/_layout.html``).
PREHEADER = "preheader"
#: An ``<a`` tag that does not say yet whether click tracking may rewrite it.
_TRACKABLE_LINK = re.compile(r"<a(?=[\s>])(?![^>]*\bclicktracking=)")


class Renderer:
    """Renders a message kind for a channel from one template directory.

    Args:
        template_dir: the directory holding one sub-directory per locale.
        shop: the shop's profile that frames every email; a brand alone stands for the
            built-in profile with that brand.
        max_bytes: the largest a rendered part (UTF-8) may be.
        max_seconds: the most CPU time one render may take.
        calendar_host: the host that makes a calendar event's ``UID`` unique: the host of
            the service's public URL (``notifier`` when None).
        auto_reload: check the template files for changes at every render (while editing
            templates). Without it each template is read and compiled once, and read again
            only after :meth:`reload_changed` found its file changed.
    """

    def __init__(
        self,
        template_dir: Path,
        shop: Shop | Brand,
        *,
        max_bytes: int = 256_000,
        max_seconds: float = 2.0,
        calendar_host: str | None = None,
        auto_reload: bool = False,
    ) -> None:
        self._dir = template_dir
        self._shop = shop if isinstance(shop, Shop) else Shop(brand=shop)
        self._max_bytes = max_bytes
        self._max_seconds = max_seconds
        self._calendar_host = calendar_host or DEFAULT_HOST
        self._auto_reload = auto_reload
        self._envs: dict[tuple[str, bool], ImmutableSandboxedEnvironment] = {}
        self._inliner = css_inline.CSSInliner(
            keep_style_tags=True,
            remove_inlined_selectors=True,
            keep_at_rules=True,
            load_remote_stylesheets=False,
        )

    def render(
        self,
        kind: str,
        channel: str,
        data: Mapping[str, Any],
        *,
        locale: str,
        timezone: str,
        policy: Policy,
        now: datetime | None = None,
    ) -> RenderedMessage:
        """Render one message.

        Args:
            kind: a kind from :data:`ALL_KINDS`.
            channel: ``email``, or ``sms`` for a customer kind.
            data: the event JSON (see :mod:`notifier.rendering.context` for its shape).
            locale: the resolved locale, e.g. ``nl``, ``nl_BE``, ``en``, ``en_GB``.
            timezone: the customer's IANA time zone (the shop's when unknown).
            policy: the shop's policy; the event's ``policy`` overrides it.
            now: the current time (defaults to the clock), for days left.

        Returns:
            The message: subject, preheader, text, HTML and attachments (a calendar event,
            see :mod:`notifier.rendering.calendar`) for email; text for SMS.

        Raises:
            RenderError: the message cannot be rendered; nothing is half-done.
        """
        if kind not in ALL_KINDS:
            raise RenderError(f"unknown message kind {kind!r}")
        if channel not in CHANNELS:
            raise RenderError(f"unknown channel {channel!r}; use email or sms")
        if channel not in kind_channels(kind):
            raise RenderError(f"{kind} is not sent by {channel}")
        split = split_locale(locale)
        if split is None:
            raise RenderError(f"unsupported locale {locale!r}")
        template_locale, formatting_locale = split
        formatter = Formatter(formatting_locale, resolve_timezone(timezone))
        context = build_context(
            kind,
            data,
            brand=self._shop.brand,
            policy=policy,
            template_locale=template_locale,
            now=now or datetime.now(UTC),
            timezone=formatter.timezone,
            channel=channel,
            calendar_host=self._calendar_host,
            shop=self._shop,
        )
        with budget(self._max_seconds, formatter):
            if channel == "sms":
                where = f"{template_locale}/{template_file(kind, 'sms')}"
                text = sms_text(self._part(template_locale, kind, "sms", context), where)
                return RenderedMessage(kind, channel, locale, None, text, None)
            subject = subject_line(
                self._part(template_locale, kind, "subject", context),
                f"{template_locale}/{template_file(kind, 'subject')}",
            )
            text = tidy(self._part(template_locale, kind, "text", context))
            seen: list[str] = []
            html = self._inline(
                self._part(template_locale, kind, "html", context, keep=(PREHEADER, seen)),
                f"{template_locale}/{template_file(kind, 'html')}",
            )
            if len(seen) == 1:
                preheader = seen[0]
            else:  # a layout that does not show the block once: the block alone
                preheader = self._part(template_locale, kind, "html", context, block=PREHEADER)
        event = context.get("calendar")
        return RenderedMessage(
            kind,
            channel,
            locale,
            subject,
            text,
            html,
            Markup(preheader).striptags(),
            attachments=() if event is None else (attachment(event),),
        )

    def environment(self, template_locale: str, *, html: bool) -> ImmutableSandboxedEnvironment:
        """Return (and cache) the environment of one locale's HTML or text templates."""
        key = (template_locale, html)
        if key not in self._envs:
            self._envs[key] = make_environment(
                self._dir / template_locale, html=html, auto_reload=self._auto_reload
            )
        return self._envs[key]

    def reload_changed(self) -> bool:
        """Have the templates whose files changed since they were loaded read again.

        One ``stat`` per loaded template; a changed (or removed) file drops its locale's
        compiled templates, which the next render reads and compiles again.

        Returns:
            Whether any template had changed.
        """
        changed = False
        for env in list(self._envs.values()):
            cache = env.cache
            if cache is not None and not all(t.is_up_to_date for t in list(cache.values())):
                cache.clear()
                changed = True
        return changed

    def _part(
        self,
        template_locale: str,
        kind: str,
        part: str,
        context: dict[str, Any],
        *,
        block: str | None = None,
        keep: tuple[str, list[str]] | None = None,
    ) -> str:
        """Render one part of a message, or only the ``block`` of it (empty if it has none).

        With ``keep`` (a block's name and a list), each output of that block during the
        render is added to the list: the preheader comes out of the HTML's render rather than
        a second render of its block.
        """
        name = template_file(kind, part)
        where = f"{template_locale}/{name}"
        try:
            env = self.environment(template_locale, html=part == "html")
            template = env.get_template(name)
            if block is None and keep is not None:
                chunks = _keeping(template, context, *keep)
            elif block is None:
                chunks = template.generate(context)
            else:
                chunks = _block(template, block, context)
            return "".join(self._stream(chunks, where))
        except RenderError:
            raise
        except Overrun:
            raise RenderError(f"took longer than {self._max_seconds} s", where) from None
        except TemplateNotFound as exc:
            raise RenderError("template missing", f"{template_locale}/{exc.name}") from None
        except TemplateSyntaxError as exc:
            file = f"{template_locale}/{exc.name}" if exc.name else where
            raise RenderError(f"line {exc.lineno}: {exc.message}", file) from None
        except Exception as exc:  # any failure inside a template fails this render only
            file = self._failing_file(exc.__traceback__, template_locale) or where
            raise RenderError(f"{type(exc).__name__}: {exc}", file) from exc

    def _stream(self, chunks: Iterator[str], where: str) -> Iterator[str]:
        size = 0
        for chunk in chunks:
            # An ASCII chunk (most of them; a constant-time test) is as many bytes as
            # characters: only the others are encoded to count their bytes.
            size += len(chunk) if chunk.isascii() else len(chunk.encode())
            if size > self._max_bytes:
                raise RenderError(f"output exceeds {self._max_bytes} bytes", where)
            yield chunk

    def _inline(self, html: str, where: str) -> str:
        try:
            inlined = self._inliner.inline(html)
        except css_inline.InlineError as exc:
            raise RenderError(f"CSS could not be inlined: {exc}", where) from exc
        inlined = _TRACKABLE_LINK.sub('<a clicktracking="off"', str(inlined))
        if len(inlined.encode()) > self._max_bytes:
            raise RenderError(f"HTML with inlined CSS exceeds {self._max_bytes} bytes", where)
        return inlined

    def _failing_file(self, tb: TracebackType | None, template_locale: str) -> str | None:
        root, found = (self._dir / template_locale).resolve(), None
        while tb is not None:
            path = Path(tb.tb_frame.f_code.co_filename)
            if path.is_relative_to(root):
                found = f"{template_locale}/{path.relative_to(root).as_posix()}"
            tb = tb.tb_next
        return found


def _keeping(
    template: Template, context: dict[str, Any], name: str, outputs: list[str]
) -> Iterator[str]:
    """``template.generate(context)``, adding each output of its block ``name`` to
    ``outputs`` as the render passes it."""
    render_context = template.new_context(context)
    blocks = render_context.blocks.get(name)  # this render's own list of the block's layers
    if blocks:
        inner = blocks[0]

        def kept(block_context: Any) -> Iterator[str]:
            chunks: list[str] = []
            for chunk in inner(block_context):
                chunks.append(chunk)
                yield chunk
            outputs.append("".join(chunks))

        blocks[0] = kept
    try:
        yield from template.root_render_func(render_context)
    except Exception:  # as Template.generate: the traceback rewritten to the template lines
        yield template.environment.handle_exception()


def _block(template: Template, name: str, context: dict[str, Any]) -> Iterator[str]:
    """The output of one block of ``template`` alone; nothing if the template lacks it."""
    render = template.blocks.get(name)
    if render is None:
        return iter(())
    return iter(render(template.new_context(context)))
