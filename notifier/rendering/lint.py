"""The template lint (``notifier templates check``) and preview (``templates render``).

The check reports one line per problem, ``<file relative to the template
directory>: <problem>``, for:

- a file one locale has and another lacks, or a message part that is missing
  (an email without its plain-text part is reported as such);
- a file that is not UTF-8, does not parse (unbalanced tags, unknown filter or
  test), or is not the template of any message kind on a channel it is sent on
  (a staff alert's SMS text is such a file: staff alerts go by email and webhook);
- a variable a template (or a partial it includes) uses that its message kind
  does not provide;
- an SMS text that refers to an email ("e-mail", "email", "mail"): an SMS goes out
  exactly when the email cannot reach the customer, so it must be complete on its own;
- the shop's free text (:data:`FREE_TEXT`: ``rejection_reason``, ``inspection.note``) used
  other than through the labelling macro :data:`NOTE_MACRO` (or as a condition): it is in
  the shop's words and language, so it is never shown as a sentence of ours;
- a sample that fails to render, renders an empty plain-text part or a literal
  ``None``, or an SMS sample longer than :data:`MAX_CHECK_SEGMENTS` segments;
- a customer message that says, for its sample's way of returning (``return.method``),
  something only another way needs (:data:`WRONG_FOR_METHOD`): a label, a parcel or
  shipping for an in-store return, taking the parcel somewhere for a pickup, a carrier
  collecting it or a shop's till for a drop-off. A sample without a method may say
  nothing that is wrong for any of them (but a label, and so a parcel, when it has one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.nodes import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.rendering import gsm7 as sms
from notifier.rendering.formatting import DEFAULT_TIMEZONE, SUPPORTED_LOCALES, split_locale
from notifier.rendering.kinds import (
    ALL_KINDS,
    STAFF_KINDS,
    kind_channels,
    kind_parts,
    provided_variables,
    template_file,
)
from notifier.rendering.message import RenderedMessage, RenderError
from notifier.rendering.models import Brand
from notifier.rendering.policy import DEFAULT_POLICY, Policy
from notifier.rendering.renderer import Renderer
from notifier.rendering.samples import SAMPLE_SHOP, sample_now, samples_for
from notifier.rendering.sandbox import make_environment
from notifier.rendering.shop import Shop

#: Most SMS segments a sample may render to before the check fails.
MAX_CHECK_SEGMENTS = 3

_NONE = re.compile(r"\bNone\b")
#: Words in an SMS template's own text that send the customer to an email.
_MAIL = re.compile(r"\b(?:e-?)?mail", re.IGNORECASE)
#: The shop's own free text: each may be shown only through :data:`NOTE_MACRO`.
FREE_TEXT = ("rejection_reason", "inspection.note")
#: The macro (``_partials/labels.txt``) that shows the shop's free text, labelled as its note.
NOTE_MACRO = "shop_note"
#: What a customer message must not say for each way of returning, per template locale:
#: patterns (case-insensitive) of words only another way needs, and what they are about.
#: The plural "labels" is left alone: an item's tags, which the eligibility names.
WRONG_FOR_METHOD: Mapping[str, Mapping[str, tuple[tuple[str, str], ...]]] = {
    "nl": {
        "in_store": (
            (r"\b(?:retour)?label\b", "a label"),
            (r"pakket", "a parcel"),
            (r"\bprint", "printing"),
            (r"\bplak", "sticking a label on"),
            (r"\b(?:op|terug|ver)stu(?:ur|urt|urd|ren)\b|\bverzend", "shipping"),
            (r"\bweg(?:brengen|gebracht)\b|\bweg te brengen\b", "taking a parcel away"),
            (r"\bophalen\b|\bopgehaald\b|\bhaalt\b", "a carrier collecting"),
            (r"\bvervoerder", "a carrier"),
        ),
        "pickup": (
            (r"\bbreng(?:en|t)?\b|\bweg(?:brengen|gebracht)\b", "taking it somewhere"),
            (r"\bpakketpunt|-punt\b|\bafgeven\b|\binleveren\b", "a drop-off point"),
            (r"\bkassa\b|\bnaar de winkel\b", "a shop"),
        ),
        "drop_off": (
            (r"\bophalen\b|\bopgehaald\b|\bhaalt\b", "a carrier collecting"),
            (r"\bkassa\b|\bnaar de winkel\b", "a shop"),
        ),
    },
    "en": {
        "in_store": (
            (r"\blabel\b", "a label"),
            (r"\bparcel|\bpackage", "a parcel"),
            (r"\bprint", "printing"),
            (r"\bstick\b|\bpack\b", "packing"),
            (r"\bship(?:s|ped|ping)?\b|\bsend (?:it|them|your)\b", "shipping"),
            (r"\bdrop(?:ped)?[- ]off\b", "a drop-off"),
            (r"\bcollect(?:s|ed|ion)?\b|\bcarrier\b", "a carrier collecting"),
        ),
        "pickup": (
            (r"\bbring\b|\btake (?:your|the|it)\b|\bdrop(?:ped)?[- ]off\b", "taking it somewhere"),
            (r"\bpoint\b", "a drop-off point"),
            (r"\btill\b|\bto the shop\b", "a shop"),
        ),
        "drop_off": (
            (r"\bcollect(?:s|ed|ion)?\b", "a carrier collecting"),
            (r"\btill\b|\bto the shop\b", "a shop"),
        ),
    },
}
#: What each way of returning is called in a problem.
_METHOD_NAMES = {"in_store": "an in-store return", "pickup": "a pickup", "drop_off": "a drop-off"}
#: Names Jinja2 itself provides to every template.
_GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop"})


def check_templates(
    template_dir: Path, shop: Shop | Brand | None = None, policy: Policy = DEFAULT_POLICY
) -> list[str]:
    """Lint every template in every locale and render every sample.

    Args:
        template_dir: the directory holding one sub-directory per locale.
        shop: the shop's profile (or brand) to render samples with; the sample shop if None.
        policy: the shop's return policy to render samples with (a sample's own
            ``policy`` overrides it, as an event's does).

    Returns:
        One line per problem, ``"<relative file>: <problem>"``; empty when fine.
    """
    problems: list[str] = []
    files = _inventory(template_dir, problems)
    broken = _missing_parts(files, problems)
    envs = _Environments()
    trees: dict[str, Template] = {}
    for locale, names in files.items():
        for name in sorted(names):
            tree = _parse(envs, template_dir, locale, name, problems)
            if tree is None:
                broken.add(f"{locale}/{name}")
            else:
                trees[f"{locale}/{name}"] = tree
    renderer = Renderer(template_dir, shop or SAMPLE_SHOP)
    undeclared: dict[str, set[str]] = {}
    for kind in ALL_KINDS:
        for locale in files:
            closure = _closure(trees, locale, kind)
            found = _variable_problems(trees, undeclared, closure, kind, problems)
            if not found and not closure & broken:
                _sample_problems(renderer, locale, kind, policy, problems)
    return list(dict.fromkeys(problems))


def render_command(
    template_dir: Path,
    kind: str,
    locale: str,
    channel: str,
    sample: str | None,
    shop: Shop | Brand | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> str:
    """Render one sample of a kind, as ``notifier templates render`` prints it.

    Args:
        template_dir: the directory holding one sub-directory per locale.
        kind: the message kind.
        locale: e.g. ``nl``, ``nl-BE``, ``en``.
        channel: ``email`` or ``sms``.
        sample: the sample's name; the kind's first sample if None.
        shop: the shop's profile (or brand); the sample shop if None.
        policy: the shop's return policy (a sample's own ``policy`` overrides it, as an
            event's does).

    Returns:
        The subject, text, HTML and attachments (as text) of an email, or an SMS with its
        segment count.

    Raises:
        RenderError: the kind, locale or sample is unknown, or the sample does not render.
    """
    samples = samples_for(kind)
    name = sample or next(iter(samples))
    if name not in samples:
        raise RenderError(f"unknown sample {name!r} for {kind}; choose from {', '.join(samples)}")
    if split_locale(locale) is None:
        raise RenderError(
            f"unsupported locale {locale!r}; use one of {', '.join(SUPPORTED_LOCALES)}"
        )
    renderer = Renderer(template_dir, shop or SAMPLE_SHOP)
    message = _render(renderer, kind, channel, locale, name, policy)
    if message.html is None:
        size = sms.measure(message.text)
        unit = "septets" if size.encoding == "GSM-7" else "UTF-16 units"
        plural = "segment" if size.segments == 1 else "segments"
        return (
            f"{message.text}\n\n-- {size.segments} {plural}, {size.encoding}, {size.units} {unit}"
        )
    files = [
        f"\n----- attachment {item.filename} ({item.content_type}) -----\n"
        + item.content.decode("utf-8").replace("\r\n", "\n").rstrip("\n")
        for item in message.attachments
    ]
    return "\n".join(
        [f"Subject: {message.subject}", "", "----- text -----", message.text, ""]
        + ["----- html -----", message.html, *files]
    )


def _render(
    renderer: Renderer, kind: str, channel: str, locale: str, name: str, policy: Policy
) -> RenderedMessage:
    data = samples_for(kind)[name]
    timezone = (data.get("customer") or {}).get("timezone") or DEFAULT_TIMEZONE
    return renderer.render(
        kind,
        channel,
        data,
        locale=locale.replace("-", "_"),
        timezone=timezone,
        policy=policy,
        now=sample_now(data),
    )


def _inventory(template_dir: Path, problems: list[str]) -> dict[str, set[str]]:
    files: dict[str, set[str]] = {}
    for locale in SUPPORTED_LOCALES:
        root = template_dir / locale
        if not root.is_dir():
            problems.append(f"{locale}/: locale directory missing")
            continue
        files[locale] = {
            path.relative_to(root).as_posix()
            for path in root.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        }
    return files


def _missing_parts(files: dict[str, set[str]], problems: list[str]) -> set[str]:
    """Report missing and stray files; return the missing ones as ``locale/file``."""
    expected = {
        template_file(kind, part): (kind, part) for kind in ALL_KINDS for part in kind_parts(kind)
    }
    every: set[str] = set().union(*files.values())
    missing: set[str] = set()
    for locale, names in files.items():
        for name in sorted((every | set(expected)) - names):
            missing.add(f"{locale}/{name}")
            kind, part = expected.get(name, ("", ""))
            others = ", ".join(f"{other}/" for other in files if name in files[other])
            if part == "text":
                problems.append(
                    f"{locale}/{template_file(kind, 'html')}: email has no plain-text part "
                    f"({name} is missing)"
                )
            elif others:
                problems.append(f"{locale}/{name}: missing, but present in {others}")
            else:
                problems.append(f"{locale}/{name}: missing ({kind} needs a {part} template)")
        for name in sorted(names):
            if not name.startswith("_") and name not in expected:
                problems.append(f"{locale}/{name}: {_stray(name)}")
    return missing


def _stray(name: str) -> str:
    """What is wrong with a file that is not the template of any message part."""
    for kind in ALL_KINDS:
        if "sms" not in kind_channels(kind) and name == template_file(kind, "sms"):
            return f"{kind} is never sent by SMS, so this template is never used"
    return "not a template of any message kind"


#: Trees of sources that parsed and compiled before, by escaping mode, file and source (every
#: environment here parses and compiles alike): checking a copy of the templates with one
#: file changed parses and compiles that file only. The checks read trees, never change them.
_PASSED: dict[tuple[bool, str, str], Template] = {}
_PASSED_MAX = 4096


def _parse(
    envs: _Environments, template_dir: Path, locale: str, name: str, problems: list[str]
) -> Template | None:
    path = template_dir / locale / name
    env = envs.get(template_dir, locale, html=name.endswith(".html"))
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(f"{locale}/{name}: not UTF-8 text")
        return None
    key = (name.endswith(".html"), f"{locale}/{name}", source)
    tree = _PASSED.get(key)
    if tree is None:
        try:
            tree = env.parse(source, name, str(path))
            unknown = _unknown_filters(env, tree)
            if unknown:
                problems.extend(f"{locale}/{name}: {problem}" for problem in unknown)
                return None
            env.compile(source, name, str(path))
        except TemplateSyntaxError as exc:
            problems.append(f"{locale}/{name}: line {exc.lineno}: {exc.message}")
            return None
        if len(_PASSED) >= _PASSED_MAX:
            _PASSED.clear()
        _PASSED[key] = tree
    if name.endswith(".sms.txt"):
        problems.extend(f"{locale}/{name}: {problem}" for problem in _mail_mentions(tree))
    problems.extend(f"{locale}/{name}: {problem}" for problem in _bare_free_text(tree))
    return tree


def _bare_free_text(tree: Template) -> list[str]:
    """Where a template uses the shop's free text other than through :data:`NOTE_MACRO` or
    in a condition (``{% if rejection_reason %}`` shows nothing)."""
    allowed: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == NOTE_MACRO:
            for arg in [*call.args, *(keyword.value for keyword in call.kwargs)]:
                allowed.update(id(node) for node in (arg, *arg.find_all(nodes.Node)))
    tests = [node.test for node in tree.find_all(nodes.If)]
    tests += [node.test for node in tree.find_all(nodes.CondExpr)]
    for test in tests:
        allowed.update(id(node) for node in (test, *test.find_all(nodes.Node)))
    return [
        f"line {node.lineno}: shows the shop's free text '{name}' bare; "
        f"show it only through {NOTE_MACRO}(...), labelled as the shop's note"
        for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem))
        if (name := _free_text_name(node)) and id(node) not in allowed
    ]


def _free_text_name(node: nodes.Node) -> str | None:
    """The :data:`FREE_TEXT` name a node reads, if any (``inspection.note`` as an attribute
    or an item)."""
    if isinstance(node, nodes.Name):
        return node.name if node.name in FREE_TEXT and node.ctx == "load" else None
    if isinstance(node, nodes.Getattr):
        parent, key = node.node, node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        parent, key = node.node, node.arg.value
    else:
        return None
    if isinstance(parent, nodes.Name):
        dotted = f"{parent.name}.{key}"
        return dotted if dotted in FREE_TEXT else None
    return None


def _mail_mentions(tree: Template) -> list[str]:
    """Where an SMS template's own text mentions an email (a variable such as
    ``customer.email`` is not its text)."""
    found = []
    for node in tree.find_all(nodes.TemplateData):
        for match in _MAIL.finditer(node.data):
            line = node.lineno + node.data.count("\n", 0, match.start())
            found.append(
                f"line {line}: mentions an email ('{match.group(0)}'), "
                "but an SMS must be complete on its own"
            )
    return found


def _unknown_filters(env: ImmutableSandboxedEnvironment, tree: Template) -> list[str]:
    """Unknown filters and tests anywhere, even in branches Jinja2 only checks when run."""
    found = [
        f"line {node.lineno}: unknown filter '{node.name}'"
        for node in tree.find_all(nodes.Filter)
        if node.name not in env.filters
    ]
    return found + [
        f"line {node.lineno}: unknown test '{node.name}'"
        for node in tree.find_all(nodes.Test)
        if node.name not in env.tests
    ]


class _Environments:
    """One sandboxed environment per locale and escaping mode, built on first use."""

    def __init__(self) -> None:
        self._built: dict[tuple[Path, str, bool], ImmutableSandboxedEnvironment] = {}

    def get(self, template_dir: Path, locale: str, *, html: bool) -> ImmutableSandboxedEnvironment:
        key = (template_dir, locale, html)
        if key not in self._built:
            self._built[key] = make_environment(template_dir / locale, html=html)
        return self._built[key]


def _closure(trees: dict[str, Template], locale: str, kind: str) -> set[str]:
    """Return a kind's templates in one locale plus every template they use, as ``locale/file``."""
    found = {f"{locale}/{template_file(kind, part)}" for part in kind_parts(kind)}
    queue = list(found)
    while queue:
        tree = trees.get(queue.pop())
        if tree is None:
            continue
        for name in meta.find_referenced_templates(tree):
            path = f"{locale}/{name}"
            if name is not None and path not in found:
                found.add(path)
                queue.append(path)
    return found


def _variable_problems(
    trees: dict[str, Template],
    undeclared: dict[str, set[str]],
    closure: set[str],
    kind: str,
    problems: list[str],
) -> bool:
    """Report the variables a kind's templates use that it does not provide; ``undeclared``
    keeps each template's variables once found (a partial is used by many kinds)."""
    allowed = provided_variables(kind) | _GLOBALS
    found = False
    for path in sorted(closure & trees.keys()):
        if path not in undeclared:
            undeclared[path] = meta.find_undeclared_variables(trees[path])
        for name in sorted(undeclared[path] - allowed):
            problems.append(f"{path}: uses variable '{name}', which {kind} does not provide")
            found = True
    return found


def _sample_problems(
    renderer: Renderer, locale: str, kind: str, policy: Policy, problems: list[str]
) -> None:
    for name, data in samples_for(kind).items():
        for channel in kind_channels(kind):
            first = template_file(kind, "sms" if channel == "sms" else "subject")
            try:
                message = _render(renderer, kind, channel, locale, name, policy)
            except RenderError as exc:
                where = exc.template or f"{locale}/{first}"
                problems.append(f"{where}: sample '{name}' fails to render: {exc.reason}")
                continue
            if channel == "sms":
                segments = sms.count_segments(message.text)
                if segments > MAX_CHECK_SEGMENTS:
                    problems.append(
                        f"{locale}/{first}: sample '{name}' is {segments} SMS segments "
                        f"(max {MAX_CHECK_SEGMENTS})"
                    )
            elif not message.text:
                text_file = template_file(kind, "text")
                problems.append(
                    f"{locale}/{text_file}: plain-text part is empty for sample '{name}'"
                )
            parts = {"sms": message.text} if channel == "sms" else _email_parts(message)
            for part, value in parts.items():
                if _NONE.search(value):
                    file = template_file(kind, part)
                    problems.append(f"{locale}/{file}: sample '{name}' renders a literal 'None'")
            if kind not in STAFF_KINDS:
                problems.extend(_method_problems(locale, kind, name, data, message))


def _method_problems(
    locale: str, kind: str, name: str, data: Mapping[str, Any], message: RenderedMessage
) -> list[str]:
    """Where a rendered sample says something wrong for its way of returning (see
    :data:`WRONG_FOR_METHOD`), one line per part and kind of wrong word.

    A sample without a known method is checked against every method, but only for the
    kinds told how the items get back (those given ``pickup``), and not against the
    in-store one when it has a label (a label is sent, so the items are too).
    """
    ret = data.get("return") or {}
    method = str(ret.get("method"))
    wrong = WRONG_FOR_METHOD.get(locale, {})
    if method in wrong:
        checks = {method: wrong[method]}
    elif "pickup" in provided_variables(kind):
        shipped = bool((ret.get("label") or {}).get("url"))
        checks = {m: rules for m, rules in wrong.items() if not (shipped and m == "in_store")}
    else:
        return []
    found = []
    for part, value in _customer_parts(message).items():
        for other, rules in checks.items():
            for pattern, about in rules:
                match = re.search(pattern, value, re.IGNORECASE)
                if match is None:
                    continue
                case = _METHOD_NAMES[other]
                if method not in wrong:
                    case = f"a return without a method (it may be {case})"
                where = " in its preheader" if part == "html" else ""
                found.append(
                    f"{locale}/{template_file(kind, part)}: sample '{name}'{where} says "
                    f"'{match.group(0)}' ({about}), which is wrong for {case}"
                )
    return found


def _customer_parts(message: RenderedMessage) -> dict[str, str]:
    """What the customer reads of a message, by the part whose template says it (an email's
    HTML body repeats its plain text; its preheader is the HTML template's)."""
    if message.channel == "sms":
        return {"sms": message.text}
    return {"subject": message.subject or "", "html": message.preheader or "", "text": message.text}


def _email_parts(message: RenderedMessage) -> dict[str, str]:
    return {"subject": message.subject or "", "text": message.text, "html": message.html or ""}
