"""Scheduling: reminders before deadlines and nudges for returns stuck too long,
each due moment planned exactly once.

Offers :class:`Scheduler`, the rules (:data:`DEFAULT_RULES`, :class:`Rule`), the configured
rule set (:class:`RuleSet`, :func:`load_rules`) and the due moments they define.
"""

from notifier.scheduling.moments import Facts, add_working_days, due, lapsed
from notifier.scheduling.rules import DEFAULT_RULES, Rule
from notifier.scheduling.rules_file import RuleSet, load_rules, merge_rules
from notifier.scheduling.scheduler import Scheduler

__all__ = [
    "DEFAULT_RULES",
    "Facts",
    "Rule",
    "RuleSet",
    "Scheduler",
    "add_working_days",
    "due",
    "lapsed",
    "load_rules",
    "merge_rules",
]
