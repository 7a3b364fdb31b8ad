"""Preview: what notifier would send, without sending or storing anything.

Offers :class:`Previewer`, whose entry points show the messages an event would send
(:meth:`~Previewer.preview_event`), the ones a stored return's latest event would send now
(:meth:`~Previewer.preview_return`) and a built-in sample of a message kind
(:meth:`~Previewer.preview_sample`), each as a :class:`PreviewMessage`: channel, masked
recipient, the :class:`~notifier.status.Decision` delivery would take and why, and the
rendered :class:`Content`. A preview reads the database through a read-only connection and
queues nothing.
"""

from notifier.preview.message import Content, PreviewMessage
from notifier.preview.previewer import Previewer
from notifier.rendering import Attachment

__all__ = ["Attachment", "Content", "PreviewMessage", "Previewer"]
