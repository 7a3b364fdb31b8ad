"""Read a Prometheus scrape back, as a server would parse it."""

from __future__ import annotations

from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str, *, by: tuple[str, ...] = ()) -> dict[tuple[str, ...], float]:
    """The values of the samples called ``name``, summed per the values of the labels ``by``
    (one total under ``()`` without ``by``)."""
    found: dict[tuple[str, ...], float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sample.labels.get(label, "") for label in by)] += sample.value
    return dict(found)


def names(text: str) -> set[str]:
    """Every sample name in the scrape (``_total``, ``_bucket``, ... included)."""
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}
