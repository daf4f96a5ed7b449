"""Zero-shot labelers (the `zero_shot` classifier's backends); importing this package registers
the built-in ones."""

from . import imagenet_wordnet, open_clip_labeler, openai_chat, simulated  # noqa: F401
from .base import Answers, Labeler, labelers

__all__ = ["Answers", "Labeler", "labelers"]
