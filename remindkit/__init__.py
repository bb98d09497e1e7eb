"""remindkit: humane, compliant loan-repayment reminders in Chinese."""

from __future__ import annotations

__version__ = "0.1.0"
