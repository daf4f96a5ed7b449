"""Labels only: plain cross-entropy."""

from __future__ import annotations

from .base import Feedback, feedback


@feedback.register("labels", "none")
class LabelsOnly(Feedback):
    """Class labels only, trained with plain cross-entropy (the setting of Holmes et al. 2023)."""
