"""Delivery: a digest handed to every place the user reads it, through the Channel seam.

::

    channel.py        the Channel seam (name, deliver(Edition) -> Delivery) and deliver_all
    outbox.py         exactly once: what is due to which message channel, recorded in the store;
                      message_channels(config), deliver_due, deliver_by_hand, send_test_messages
    settings.py       the ``delivery`` section of the configuration
    email.py          the e-mail channel (smtplib); render_email.py + templates/ its message
    chat.py           the chat/webhook channel (httpx, the one retry policy) and GenericService
    slack.py discord.py telegram.py feishu.py   what each service is sent
    digest_view.py    a digest as plain views; summaries as lines of spans
    markup.py         the four chat markups and their escaping
    secrets.py        secrets read from the environment, and kept out of every text

The published files (README, feeds, page, JSON) are the first channel
(:class:`arxivbot.publish.outputs.FilesChannel`), rewritten by every run; the others send messages.
"""

from __future__ import annotations

from arxivbot.deliver.channel import Channel, Edition, deliver_all
from arxivbot.models import Delivery

__all__ = ["Channel", "Delivery", "Edition", "deliver_all"]
