"""Personal data kept only as long as needed (GDPR/AVG): retention, erasure and access.

Offers :class:`Retention` (the scheduler's and ``notifier purge``'s removal of the personal
data of returns closed or idle longer than ``NOTIFIER_RETENTION_DAYS``), :class:`Erasure`
(a customer's data erased, or handed to them, on request) and :func:`fingerprint`, the form
a customer id takes in the privacy audit.
"""

from notifier.privacy.audit import fingerprint
from notifier.privacy.erasure import Erasure, ErasureReport
from notifier.privacy.retention import BATCH, PurgeReport, Retention

__all__ = ["BATCH", "Erasure", "ErasureReport", "PurgeReport", "Retention", "fingerprint"]
