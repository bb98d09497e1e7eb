"""Policy: stages, cadence, contact windows, caps, holidays, variants, consolidation (SPEC §5).

Each module holds small values and functions that return decisions with their reasons;
:mod:`remindkit.plan` composes them. Where the SPEC is silent, remindkit decides:

- **Days.** A plan covers the borrower-local date of ``at`` and ``days - 1`` days after
  it. A borrower's time zone is the one of their first installment (by loan id and
  installment number); rows in other zones raise a warning and are planned on that zone's
  days (a row with nothing to send on its own zone's days was already dropped).
- **Step day.** A step fires on ``due_date + offset_days``, moved by the holiday rules
  (:mod:`~remindkit.policy.schedule`): overdue steps on a non-workday (statutory holiday
  or weekend off-day; 调休 make-up days are workdays) wait for the next workday
  (``deferred: holiday 国庆节`` / ``deferred: weekend``, or ``deferred: day off`` for an
  unnamed weekday off from the override file); nothing is sent from 除夕 to 初三:
  pre-due and due-day steps of a due date inside the pause go to the last workday before
  it, every other step inside the pause to the day after it. Every step maps to exactly
  one day, so a message is neither lost nor doubled however ``--days`` cuts the calendar.
  Steps of one installment landing on one day collapse into the latest step
  (``merged: steps +1, +3``).
- **Stage** comes from the days past due on the day the message goes out (a +7 step
  deferred to day 8 uses ``overdue`` wording). ``hardship`` uses ``plan_offer`` wording in
  overdue stages (before the due date the usual ones); status ``plan`` (an agreed plan)
  uses ``plan_installment`` wording at every step, never an offer of the plan it has.
- **Credit notice** (``[credit_notice]``, off by default): one SMS per loan on
  ``days_past_due`` after the due date of the first installment to reach it, moved by the
  holiday rules like an overdue step, keyed by loan and kind only so the outbox keeps one
  (:mod:`~remindkit.policy.notices`); none for status ``plan``.
- **Window.** ``[start, end)``; a step time outside moves to ``start`` or to one minute
  before ``end``; ``not_after`` is ``end`` that day. With ``--at`` later than a step's
  time on the first day, the message goes at ``at`` if the window is still open, else it
  is suppressed ``window_closed``.
- **Caps.** Per borrower and local day, messages are placed most severe first
  (plan_offer > credit_notice > overdue_late > overdue > overdue_early > due_today =
  plan_installment > pre_due), each at the earliest time keeping ``min_gap`` (real elapsed
  time) from those placed: later the same day is ``deferred: min_gap``, no room is
  ``min_gap``, over a count cap is ``frequency_cap``. The gap is checked within a local
  day: the 22:00–08:00 limit keeps two days' messages at least 9 hours apart (10, less a
  daylight-saving hour), so settings refuse a ``min_gap`` above 9 hours, which could not
  hold across midnight.
- **Channels.** The step's channels in order, skipping opted-out ones and those without
  contact (SMS needs a phone, push a token); the usable ones after the first are the
  fallbacks. None usable: ``opted_out`` if the borrower refused one of them, else
  ``no_contact``. An SMS-only step does not switch to push.
- **Stop statuses** ``paid``/``dispute``/``paused`` plan nothing for that installment
  (other installments of the borrower go on). ``payment_received`` needs to know that
  reminders were sent, which only the outbox knows: it is not planned here.
- **Templates.** With a catalog, the variant is picked per borrower (SPEC §5.4); a
  missing or broken template suppresses the message ``no_template`` with one warning.
- **Duplicates.** An installment (loan id, number) in several rows of one borrower is
  planned once, from the row chosen by content (not by feed order), with a warning.
- **Keys** (SPEC §5.6) hash borrower, sorted installments, stage, local day and channel.
"""
