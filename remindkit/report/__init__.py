"""The outcome report (SPEC §12): which wording helps borrowers repay, with fewer contacts.

:func:`build_report` aggregates the outbox in the database (:mod:`.queries`), computes the
statistics on those aggregates (:mod:`.stats`, :mod:`.conclude`) and returns a frozen
:class:`~remindkit.report.model.Report`; :mod:`.html` renders it as a self-contained page
with a chart (the ``report`` extra: matplotlib).

Counting rules (the README's "Counting rules" say the same for people):

- Only ``sent`` messages count. Planned, sending, cancelled, suppressed, expired, failed and
  unknown messages are listed apart, by state; thank-yous (``payment_received``) are not
  reminders and count nowhere but in that list.
- The unit is the installment. An installment is *reached* in a stage (on a channel) by the
  first sent message of that stage that mentions it; a consolidated message reaches each of
  its installments once, and counts once as a message.
- A borrower belongs to one variant per stage and channel: that of their first sent message
  there (variants are sticky, so normally the only one), and is counted once per stage.
- An installment is *repaid within N days* if it was first seen paid no earlier than its first
  message of the stage and at most N days after it. A payment before the message does not
  count for it (it is shown as "paid before"). Only installments whose N days have passed by
  the report's time are in the N-day rate's denominator, so a campaign still running is not
  mistaken for one that failed.
- Payment times are the times remindkit first saw the installment paid (a feed row with
  ``status = paid`` or ``Kit.record_status``), recorded once by whichever process saw it;
  a feed that drops paid rows instead of reporting them tells remindkit nothing.
- Opt-outs: a borrower is counted as opted out after a reminder if the feed's ``opted_out``
  column first listed the message's channel at or after their first message there.
- ``--since`` / ``--until`` pick installments by the borrower-local day of their first message
  of the stage, and messages by their own day.
"""

from __future__ import annotations

from remindkit.report.build import DEFAULT_WINDOWS, build_report
from remindkit.report.model import Cell, Comparison, Report, StageTotal, Verdict, WindowRate

__all__ = [
    "DEFAULT_WINDOWS",
    "Cell",
    "Comparison",
    "Report",
    "StageTotal",
    "Verdict",
    "WindowRate",
    "build_report",
]
