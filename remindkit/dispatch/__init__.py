"""Dispatch: claim due messages, re-check, render, commit ``sending``, send, record (SPEC §6.3).

What each outcome does to the message (the provider's answer is classified at the
provider's boundary, :mod:`remindkit.providers.base`):

==========================  =========================================================
the re-check objects        ``cancelled`` / ``expired`` / ``suppressed`` (reason), or
                            deferred to a later time the same day (still ``planned``)
accepted (a ``Receipt``)    ``sent``, with the provider's message id
transient error             retried in process (tenacity: exponential backoff with
                            jitter, ``Retry-After``); then ``planned`` again, due after
                            a backoff that doubles per attempt, or ``expired`` when that
                            would pass ``not_after``
text longer than the        ``suppressed`` (reason ``too_long: N characters, P takes at
provider's ``max_length``   most M``, code ``too_long``), never sent cut; the contact
                            stays usable and the step's next channel gets a fallback row
permanent error             ``failed`` with the provider's code; the contact is flagged
(``recipient=True``)        (later messages to it: ``suppressed bad_contact``) and the
                            step's next channel gets a fallback row, due at once
permanent error             ``failed`` with the provider's code (a refusal of this
(``recipient=False``)       message only, e.g. Twilio 21617): the contact is not flagged;
                            the step's next channel gets a fallback row, due at once
outcome unknown             ``unknown``: never re-sent; ``remindkit outbox`` lists it
configuration error         the provider pauses (``[dispatch] provider_pause_minutes``);
                            the message goes back to ``planned``, the others on that
                            provider are not claimed; reported once
an unexpected exception     ``unknown`` (the call may have gone out); the run goes on
no answer within timeout    ``unknown``; the stuck thread is replaced (up to a bound,
                            then the provider stops)
==========================  =========================================================
"""

from __future__ import annotations

from remindkit.dispatch.dispatcher import Dispatcher
from remindkit.dispatch.outcomes import DispatchReport
from remindkit.dispatch.recheck import StatusCheck

__all__ = ["DispatchReport", "Dispatcher", "StatusCheck"]
