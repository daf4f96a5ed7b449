"""Binary concept tasks over any dataset's classes (Agile Modeling)."""

from .concept import Concept, concept_task, resolve_concept, shipped_concepts

__all__ = ["Concept", "concept_task", "resolve_concept", "shipped_concepts"]
