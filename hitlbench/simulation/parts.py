"""What a run of the loop is made of: its five components, its settings and its random streams."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..classifiers.base import Classifier
from ..core.explain import CamSpec
from ..detectors.base import Detector
from ..feedback.base import Feedback
from ..oracles.base import Oracle
from ..samplers.base import Sampler
from .evaluation import EVALUATION_CAM


@dataclass
class Components:
    """One instance of each kind, ready to run."""

    sampler: Sampler
    detector: Detector
    classifier: Classifier
    oracle: Oracle
    feedback: Feedback


@dataclass(frozen=True)
class LoopSettings:
    batch_size: int | None  # None: everything in one round
    rounds: int | None  # None: until the pool is exhausted
    effort_seconds: Mapping[str, float]
    cam: CamSpec = EVALUATION_CAM  # the maps explanation metrics score (`evaluation_cam`)
    # "random": round 0's batch is plain random from its own stream, the same for every sampler
    first_batch: str = "sampler"


@dataclass(frozen=True)
class LoopRngs:
    """Independent random streams, so changing one component never shifts another's draws."""

    sampler: np.random.Generator
    oracle: np.random.Generator
    fit: np.random.Generator
    first_batch: np.random.Generator  # round 0 with `first_batch: random`
