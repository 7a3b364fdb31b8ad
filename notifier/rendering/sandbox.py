"""The sandbox templates run in: immutable, strict, and capped in time and size.

Templates run in Jinja2's immutable sandbox with ``StrictUndefined``, so a
missing variable is an error rather than a blank; HTML is autoescaped, text
parts are not. Customer-provided text (names, notes, reasons) is data: escaped
in HTML and never compiled. A render's deadline, in CPU time of the rendering
thread (a template can only compute, never wait, and a busy machine must not
fail a sound template), is checked on every call, block body and loop iteration:
a template cannot go on long without one of them. String and list repetition is
capped at :data:`MAX_REPEAT` items.

The formatting filters (``money``, ``date``, ``time``, ``number``, ``plural``,
``join_list``) format for the customer of the render in progress: the renderer
opens a :func:`budget` with the customer's :class:`~notifier.rendering.formatting.Formatter`
around each render.
"""

from __future__ import annotations

import time
import types
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.rendering.formatting import Formatter

#: Longest string a template may build with ``*`` (repetition).
MAX_REPEAT = 10_000


#: The types of bound methods, Python's and built-in ones (neither can be subclassed).
_METHODS = (types.MethodType, types.BuiltinMethodType)
#: The type of built-in functions and methods (``len``, ``{}.get``).
_BUILTIN = types.BuiltinMethodType


class Overrun(Exception):
    """Raised inside a template when its render passed the deadline of its :func:`budget`."""


@dataclass(slots=True)
class _Budget:
    #: The deadline, on the thread's CPU clock.
    deadline: float
    formatter: Formatter
    #: A time on the monotonic clock before which the deadline cannot have passed: the
    #: thread cannot use more CPU time than the time that passes. Until then a check reads
    #: this cheap clock (about 40 ns) instead of the thread's CPU clock (a system call of
    #: about 0.5 µs, at each of the some 150 checks of an email's render).
    safe_until: float


_BUDGET: ContextVar[_Budget | None] = ContextVar("notifier_render_budget", default=None)


@contextmanager
def budget(seconds: float, formatter: Formatter) -> Iterator[None]:
    """Give the renders inside the block a deadline and a customer's formatter.

    Args:
        seconds: how much CPU time of this thread the block's renders may take from now.
        formatter: formats money, dates and lists for the customer.
    """
    token = _BUDGET.set(_Budget(time.thread_time() + seconds, formatter, monotonic() + seconds))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def check_deadline() -> None:
    """Raise :class:`Overrun` when the current render has passed its deadline.

    The thread's CPU clock is read only once as much time has passed as the render had
    left at the last reading; a render stops at the first check past its deadline.
    """
    current = _BUDGET.get()
    if current is None or monotonic() < current.safe_until:
        return
    left = current.deadline - time.thread_time()
    if left < 0:
        raise Overrun
    current.safe_until = monotonic() + left


def _formatter() -> Formatter:
    current = _BUDGET.get()
    if current is None:
        raise RuntimeError("formatting filters only work inside Renderer.render")
    return current.formatter


class _DeadlineCodeGenerator(CodeGenerator):
    """Compiles a deadline check into every block body, loop iterations included."""

    def blockvisit(self, nodes: Any, frame: Frame) -> None:
        self.writeline("environment.check_deadline()")
        super().blockvisit(nodes, frame)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a deadline on calls (and, compiled in, on block bodies
    and loop iterations)."""

    code_generator_class = _DeadlineCodeGenerator
    intercepted_binops = frozenset({"*", "**"})

    check_deadline = staticmethod(check_deadline)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Jinja2's sandboxed call (refused for a callable marked unsafe), after a deadline
        check.

        A template's own macro (safe to call, and given the evaluation context) and a
        built-in method the lookup let through (``{...}.get``: it can carry no mark of being
        unsafe, nor ask for a context) are called as :meth:`jinja2.runtime.Context.call`
        calls them, without asking them first, through four lookups of attributes they lack,
        whether they are marked unsafe or want a context: an email makes some thirty such
        calls.
        """
        check_deadline()
        kind = type(__obj)
        if kind is Macro or kind is _BUILTIN:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                if kind is _BUILTIN:
                    return __obj(*args, **kwargs)
                return __obj(__context.eval_ctx, *args, **kwargs)
            except StopIteration:
                return __self.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"{__obj!r} is not safely callable")
        return __context.call(__obj, *args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Whether an attribute is safe to read, by the object's type and the attribute's name.
        self._safe: dict[tuple[type, str], bool] = {}

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals over the environment's, as one dict.

        Jinja2 chains the two (a ``ChainMap``), so that a change to the environment's globals
        after a template was loaded would still reach it; these environments' globals never
        change once built, and every import and include of a render took the difference of
        the chain's keys one key at a time, and every new context copied the chain.
        """
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Jinja2's sandboxed attribute lookup, with its safety verdict kept per type.

        The verdict (:meth:`is_safe_attribute`: no private or internal attribute, no method
        that modifies a list, dict or set) depends only on the object's type and the name,
        and judging it took a dozen ``isinstance`` checks against abstract classes at every
        lookup, a tenth of an email's render.
        """
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            try:
                return obj[attribute]  # an item of that name, as Jinja's own lookup does
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        if type(value) in _METHODS:  # only a bound method can be a string's format method
            wrapped = self.wrap_str_format(value)
            if wrapped is not None:
                return wrapped
        key = (type(obj), attribute)
        safe = self._safe.get(key)
        if safe is None:
            safe = self._safe[key] = self.is_safe_attribute(obj, attribute, value)
        return value if safe else self.unsafe_undefined(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator == "*":
            size = max(_length(left) * _int(right), _length(right) * _int(left))
            if size > MAX_REPEAT:
                raise SecurityError(f"repetition would build {size} items (max {MAX_REPEAT})")
        return super().call_binop(context, operator, left, right)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _CompiledOnce(BytecodeCache):
    """Compiled templates kept for the life of the process, by locale, file name and source.

    Every environment :func:`make_environment` builds compiles alike (same options, same code
    generator), so a template whose source was compiled once is never compiled again: not by
    the next environment of the same templates (a staff preview, a template check) nor by one
    over a copy of them. Jinja2 checks each entry against a checksum of the source, so a
    changed file is compiled afresh. One entry per template and locale: a few hundred at most.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return f"{Path(filename).parent.name}/{name}" if filename else name

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


#: One cache per escaping mode: the same source compiles differently with autoescape.
_COMPILED = {True: _CompiledOnce(), False: _CompiledOnce()}


def make_environment(
    locale_dir: Path, *, html: bool, auto_reload: bool = False
) -> ImmutableSandboxedEnvironment:
    """Build the sandboxed Jinja2 environment for one locale's templates.

    Args:
        locale_dir: ``templates/<locale>``.
        html: autoescape everything (for HTML bodies); False for text parts.
        auto_reload: check a template's file for changes each time it is used (Jinja2's
            ``auto_reload``: a ``stat`` of every template a render touches); without it a
            template is read and compiled once.

    Returns:
        The environment, with the formatting filters registered. Its loaded templates are
        kept in a plain dict (Jinja2's ``cache_size=-1``), not in Jinja2's least-recently-used
        cache, which takes a lock and reorders its queue at every lookup: an email's render
        looks up some 28 templates (its layout, partials and imports), and a locale has far
        fewer than the 400 that cache would keep.
    """
    env = _Sandbox(
        loader=FileSystemLoader(locale_dir),
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=auto_reload,
        bytecode_cache=_COMPILED[html],
        cache_size=-1,
    )
    env.filters.update(
        money=lambda value: _formatter().money(value),
        date=lambda value, style="long": _formatter().date(value, style),
        time=lambda value: _formatter().time(value),
        number=lambda value: _formatter().number(value),
        plural=lambda count, one, other: _formatter().plural(count, one, other),
        join_list=lambda values, style="standard": _formatter().join(values, style),
    )
    return env
