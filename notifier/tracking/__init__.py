"""Tracking: provider callbacks (delivered, bounced, failed, complained) applied to
notifications, moving each status forward only.

Offers :class:`Tracker`.
"""

from notifier.tracking.tracker import Tracker

__all__ = ["Tracker"]
