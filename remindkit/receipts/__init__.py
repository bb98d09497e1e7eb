"""Delivery receipts (SPEC §12): what carriers later said about messages providers accepted.

A provider's ``Receipt`` at send time means *accepted*; whether the phone got the SMS comes
later, as a callback (Twilio's status callbacks, a domestic gateway's report). Every
callback is normalised to one vocabulary, :class:`DeliveryStatus`, and recorded on the
message the provider's message id names (:func:`record_receipt`):

=============  ==============================================================
``accepted``   queued at the provider (Twilio ``accepted``/``queued``/``sending``)
``sent``       handed to the carrier
``delivered``  the handset has it
``read``       read (channels that report it)
``undelivered``  the carrier could not deliver it; ``code`` says why
``failed``     the provider could not send it after all; ``code`` says why
=============  ==============================================================

Each receipt is an event on the message (from its state to the same state, the reason
``receipt: delivered`` and the words the provider used); the message's ``delivery_status``
moves only forward (a late ``sent`` after ``delivered`` is recorded but does not undo it).
The message's state stays ``sent``: the provider did accept it. A receipt for a message
id the outbox does not know is logged and ignored.
"""

from __future__ import annotations

from remindkit.receipts.record import (
    DeliveryReceipt,
    DeliveryStatus,
    delivery_counts,
    record_receipt,
)

__all__ = ["DeliveryReceipt", "DeliveryStatus", "delivery_counts", "record_receipt"]
