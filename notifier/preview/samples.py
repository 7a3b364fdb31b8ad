"""Choosing a built-in sample to preview: its kind, locale, channel and name, each checked.

The samples are the ones ``notifier templates check`` renders
(:func:`~notifier.rendering.samples_for`); a wrong choice names the field and what to
choose from (:class:`~notifier.errors.UnknownSampleError`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifier.errors import UnknownSampleError
from notifier.rendering import (
    ALL_KINDS,
    DEFAULT_TIMEZONE,
    STAFF_KINDS,
    SUPPORTED_LOCALES,
    kind_channels,
    sample_now,
    samples_for,
    split_locale,
)
from notifier.status import Channel


@dataclass(frozen=True, slots=True)
class Sample:
    """One chosen sample, ready to render.

    Attributes:
        kind: the message kind.
        channel: the channel to render it for.
        locale: the formatting locale (``nl``, ``nl_BE``, ``en_GB``...).
        name: the sample's name.
        data: its event data.
        timezone: its customer's time zone (the shop's when it has none).
        now: the moment it is rendered at (:func:`~notifier.rendering.sample_now`).
        staff: whether it is a staff alert (sent to the staff address, not the customer).
    """

    kind: str
    channel: Channel
    locale: str
    name: str
    data: dict[str, Any]
    timezone: str
    now: datetime
    staff: bool


def choose(kind: str, locale: str, channel: str, name: str | None) -> Sample:
    """The sample ``name`` of ``kind`` (its first when None), for ``channel`` in ``locale``.

    Raises:
        UnknownSampleError: the kind, locale, channel or sample does not exist.
    """
    if kind not in ALL_KINDS:
        raise UnknownSampleError("kind", f"unknown message kind {kind!r}; {_choose(ALL_KINDS)}")
    split = split_locale(locale)
    if split is None:
        raise UnknownSampleError(
            "locale", f"unsupported locale {locale!r}; use {' or '.join(SUPPORTED_LOCALES)}"
        )
    channels = kind_channels(kind)
    if channel not in channels:
        raise UnknownSampleError(
            "channel", f"{kind} has no template for {channel!r}; {_choose(channels)}"
        )
    samples = samples_for(kind)
    name = name or next(iter(samples))
    if name not in samples:
        raise UnknownSampleError("sample", f"{kind} has no sample {name!r}; {_choose(samples)}")
    data = samples[name]
    return Sample(
        kind=kind,
        channel=Channel(channel),
        locale=split[1],
        name=name,
        data=data,
        timezone=(data.get("customer") or {}).get("timezone") or DEFAULT_TIMEZONE,
        now=sample_now(data),
        staff=kind in STAFF_KINDS,
    )


def _choose(values: Iterable[str]) -> str:
    return "choose from " + ", ".join(values)
