"""Sending a task once the transaction commits, when a beat sweeps up what was not sent.

With the broker down the write has already committed: raising would answer the user with
an error for a change that was made. The row the task is about stays unsent, and the
beat task that sweeps such rows sends it once the broker is back.
"""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)


def send_on_commit(task, **kwargs) -> None:
    """`task.apply_async(kwargs=kwargs)` after the commit; a broker that cannot take it
    is logged, not raised (the caller's sweep sends it later)."""

    def send():
        try:
            task.apply_async(kwargs=kwargs, retry=False)
        except (KombuOperationalError, OSError) as exc:
            logger.warning("%s%s left for its sweep: broker down (%s)", task.name, kwargs, exc)

    transaction.on_commit(send)
