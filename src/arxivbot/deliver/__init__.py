"""Delivery: a digest handed to every place the user reads it, through the Channel seam.

See :mod:`arxivbot.deliver.channel`. The published files (README, feeds, page, JSON) are the first
channel (:class:`arxivbot.publish.outputs.FilesChannel`).
"""

from __future__ import annotations

from arxivbot.deliver.channel import Channel, Delivery, Edition, deliver_all

__all__ = ["Channel", "Delivery", "Edition", "deliver_all"]
