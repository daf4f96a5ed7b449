"""A vision-language model's free-text answer, mapped onto one of the task's class names.

`parse_reply` never guesses; it tries two rules in turn and gives -1 where neither decides.

1. Exact: the answer, each of its lines, and each side of an answer like "Dachshund (Dog)" are
   stripped of surrounding whitespace, quotes, markdown and punctuation and of prefixes such as
   "The answer is:", "It's a", "Class:"; one that equals a class name (case-insensitive, with
   spaces, hyphens and underscores alike), or one alternative of a name such as "T-shirt/top",
   names that class. Two different classes named this way: -1.
2. WordNet: the answer's words are read left to right, each time taking the longest phrase of up
   to three words (spaces as underscores) that WordNet knows as a noun; WordNet's morphology
   reduces plurals ("jeans" -> jean, "trousers" -> trouser). Every noun sense of every phrase is
   placed under the class whose synsets (`class_map.class_synsets`) it is one of, or a hyponym
   of, the nearest in the hypernym hierarchy ("T-shirt" is jersey.n.03, under both T-shirt/top's
   jersey.n.03 and Shirt's shirt.n.01: T-shirt/top, the nearer). Exactly one class claimed this
   way names the answer; none, several, or a sense equally near two classes: -1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .class_map import hypernym_steps
from .wordnet import wordnet

_STRIP = " \t\r\n\"'`*_.,;:!?"
_PREFIX = re.compile(
    r"^(?:(?:the\s+)?(?:final\s+)?(?:answer|class|label|category)\b(?:\s+is)?"
    r"|(?:it|this|that)(?:\s+is|'s)|an?\b|the\b)\s*:?\s*",
    re.IGNORECASE,
)
_PARENS = re.compile(r"^(.*?)\s*\(([^()]*)\)$")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_LONGEST = 3  # words in the longest phrase looked up in WordNet


def _key(text: str) -> str:
    """Lower case, with runs of spaces, hyphens and underscores as one space."""
    return re.sub(r"[\s_-]+", " ", text.lower()).strip()


def _variants(text: str) -> list[str]:
    """`text` stripped of punctuation, then of each prefix in turn ("The answer is: a Dog." ->
    "The answer is: a Dog", "a Dog", "Dog")."""
    out = [text.strip(_STRIP)]
    while (shorter := _PREFIX.sub("", out[-1], count=1).strip(_STRIP)) != out[-1]:
        out.append(shorter)
    return out


def _exact(text: str, class_names: Sequence[str]) -> set[int]:
    """The classes some part of `text` names exactly (see the module docstring)."""
    names: dict[str, set[int]] = {}
    for index, name in enumerate(class_names):
        for alternative in {name, *name.split("/")}:
            names.setdefault(_key(alternative), set()).add(index)
    parts = [text, *text.splitlines()]
    for part in list(parts):
        for variant in _variants(part):
            if match := _PARENS.match(variant):
                parts += [match[1], match[2]]
    found: set[int] = set()
    for part in parts:
        for variant in _variants(part):
            found |= names.get(_key(variant), set())
    return found


def _answer_senses(text: str) -> list:
    """Noun synsets of the longest phrases WordNet knows, read left to right."""
    wn = wordnet()
    words = _WORD.findall(text.lower())
    found, i = [], 0
    while i < len(words):
        for n in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = "_".join(words[i : i + n])
            senses = wn.synsets(phrase, pos="n") or wn.synsets(phrase.replace("-", "_"), pos="n")
            if senses:
                found += senses
                i += n
                break
        else:
            i += 1
    return found


def _by_wordnet(text: str, class_names: Sequence[str], synsets: Mapping[str, Sequence]) -> set[int]:
    """The classes the answer's noun senses fall under, each sense under its nearest class."""
    targets = [set(synsets.get(name, ())) for name in class_names]
    found: set[int] = set()
    for sense in set(_answer_senses(text)):
        steps = [hypernym_steps(sense, t) for t in targets]
        nearest = min(steps, default=float("inf"))
        if nearest < float("inf"):
            found |= {c for c, s in enumerate(steps) if s == nearest}
    return found


def parse_reply(text: str, class_names: Sequence[str], synsets: Mapping[str, Sequence]) -> int:
    """The index into `class_names` of the class a model's reply `text` names, or -1 where the
    reply names none or several (module docstring).

    `synsets` gives each class name its WordNet noun synsets (`class_map.class_synsets`); a
    class missing from it is matched by exact name only. Raises `HitlbenchError` when WordNet is
    not installed and the reply is not an exact class name.
    """
    found = _exact(text, class_names) or _by_wordnet(text, class_names, synsets)
    return next(iter(found)) if len(found) == 1 else -1
