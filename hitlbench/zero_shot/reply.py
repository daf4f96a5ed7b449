"""A vision-language model's free-text answer, mapped onto one of the task's class names.

`read_reply` sorts a reply first: a reasoning block that never closes (`<think>` with no
`</think>`: the reply was cut off inside it) is `truncated`; the finished blocks are dropped and
what follows is the answer; an answer that refuses or hedges ("I'm sorry", "I cannot tell",
"I am not sure", "hard to say") is `refused`. Only then does `parse_reply` read the answer as a
class. It never guesses; it tries two rules in turn and gives -1 where neither decides.

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
   way names the answer; none, several, or a sense equally near two classes: -1. Phrases never
   span a clause boundary (punctuation, a new line). A pronoun, article, quantifier,
   preposition, conjunction or form of "be", "do" or "have" is never looked up on its own
   (WordNet reads "I" as the number one, "a" as an ampere, "in" as an inch). A number word or
   numeral is looked up only as the answer: last in its clause (or before "and", "or") and not
   after a determiner ("The digit seven" and "it's a 7." name 7; "two dogs", "one of the
   digits" and "the one" name no number).
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
_CLAUSE = re.compile(r"[.,;:!?()\[\]\n]+")
# Words never looked up on their own: pronouns, articles, quantifiers, and the prepositions,
# conjunctions and forms of be, do and have that WordNet knows as nouns of another meaning.
_NEVER_ALONE = frozenset({
    "i", "me", "my", "mine", "myself", "you", "your", "yours", "yourself", "he", "him", "his",
    "himself", "she", "her", "hers", "herself", "it", "its", "itself", "we", "us", "our", "ours",
    "ourselves", "they", "them", "their", "theirs", "themselves", "this", "that", "these", "those",
    "who", "whom", "whose", "which", "what", "a", "an", "the", "some", "any", "all", "no", "none",
    "each", "every", "both", "either", "neither", "few", "many", "much", "several", "more", "most",
    "less", "least", "enough", "other", "another", "such", "lot", "lots", "plenty", "about", "as",
    "at", "by", "for", "from", "in", "into", "of", "on", "onto", "to", "with", "within", "without",
    "than", "and", "or", "but", "nor", "if", "so", "am", "is", "are", "was", "were", "be", "been",
    "being", "do", "does", "did", "have", "has", "had",
})  # fmt: skip
_NUMBER_WORDS = frozenset({
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
})  # fmt: skip
_DETERMINERS = frozenset({
    "the", "this", "that", "these", "those", "which", "each", "every", "any", "no", "another",
})  # fmt: skip
_CONJUNCTIONS = frozenset({"and", "or", "but", "nor"})
_UNFINISHED = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_FINISHED = re.compile(r"<(think|thinking|reasoning)>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_CLOSING = re.compile(r"</(?:think|thinking|reasoning)\s*>", re.IGNORECASE)
_REFUSAL = re.compile(
    r"\b(?:sorry|apologi[sz]e|unsure|uncertain|as an ai"
    r"|i (?:can ?not|can't|could ?not|couldn't|won't|will not|do ?n[o']t know|have no idea)"
    r"|i(?:'m| am) (?:unable|not able)"
    r"|(?:can ?not|can't|could ?not|couldn't) (?:tell|say|determine|identify|classify|be sure)"
    r"|not (?:sure|certain|possible to|able to)"
    r"|unable to|(?:hard|difficult|impossible) to (?:tell|say|determine|identify))\b",
    re.IGNORECASE,
)


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


def _looked_up_alone(words: Sequence[str], i: int) -> bool:
    """Whether the single word `words[i]` of a clause may name the answer (module docstring)."""
    word = words[i]
    if word in _NEVER_ALONE:
        return False
    if word in _NUMBER_WORDS or word.isdigit():
        last = i == len(words) - 1 or words[i + 1] in _CONJUNCTIONS
        return last and (i == 0 or words[i - 1] not in _DETERMINERS)
    return True


def _clause_senses(words: Sequence[str]) -> list:
    """Noun synsets of the longest phrases WordNet knows in one clause, read left to right."""
    wn = wordnet()
    found, i = [], 0
    while i < len(words):
        for n in range(min(_LONGEST, len(words) - i), 0, -1):
            if n == 1 and not _looked_up_alone(words, i):
                continue
            phrase = "_".join(words[i : i + n])
            senses = wn.synsets(phrase, pos="n") or wn.synsets(phrase.replace("-", "_"), pos="n")
            if senses:
                found += senses
                i += n
                break
        else:
            i += 1
    return found


def _answer_senses(text: str) -> list:
    """Noun synsets of the answer's phrases, clause by clause."""
    clauses = _CLAUSE.split(text.lower().replace("\u2019", "'"))
    return [sense for clause in clauses for sense in _clause_senses(_WORD.findall(clause))]


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


def answer_part(text: str) -> str | None:
    """`text` without its finished reasoning blocks (`<think>...</think>`, also `<thinking>`
    and `<reasoning>`; a server that drops the opening tag leaves the text before the last
    closing one, dropped too), stripped of surrounding whitespace; None where a block opens and
    never closes (the reply was cut off inside it)."""
    text = _FINISHED.sub(" ", text)
    closing = list(_CLOSING.finditer(text))
    if closing:
        text = text[closing[-1].end() :]
    return None if _UNFINISHED.search(text) else text.strip()


def is_refusal(answer: str) -> bool:
    """Whether an answer refuses or hedges ("I'm sorry", "I cannot", "I am not sure", "hard to
    tell"); such an answer is never read as a class, whatever class it also names."""
    return _REFUSAL.search(re.sub(r"\s+", " ", answer.replace("\u2019", "'"))) is not None


def read_reply(
    text: str, class_names: Sequence[str], synsets: Mapping[str, Sequence]
) -> tuple[str, int]:
    """A reply's kind and class: ("answered", index into `class_names`), or ("truncated", -1)
    for a reasoning block that never closes, ("refused", -1) for a refusal or hedge,
    ("unparseable", -1) for an answer that names no class or several (module docstring).

    Raises `HitlbenchError` as `parse_reply` does."""
    answer = answer_part(text)
    if answer is None:
        return "truncated", -1
    if is_refusal(answer):
        return "refused", -1
    index = parse_reply(answer, class_names, synsets)
    return ("answered" if index >= 0 else "unparseable"), index
