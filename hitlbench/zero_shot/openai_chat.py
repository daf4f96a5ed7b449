"""A vision-language model behind an OpenAI-compatible chat-completions server, as a labeler."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..types import HitlbenchError, TaskInfo
from .base import Answers, Labeler, labelers
from .class_map import class_synsets
from .reply import answer_part, read_reply

DEFAULT_PROMPT = (
    "Which of these classes is the object in the image? {classes}. Answer with the class name only."
)
RETRIED_STATUS = (408, 409, 429)  # besides 5xx: statuses the openai client retries itself
# What a request can come back as; the last four are unusable (never read as a class).
REPLY_KINDS = ("answered", "unparseable", "refused", "truncated", "error_payload", "timed_out")
UNUSABLE = ("refused", "truncated", "error_payload", "timed_out")
HINTS = {
    "refused": "change the prompt or the model",
    "truncated": "raise max_tokens",
    "error_payload": "check the server, or lower concurrency",
    "timed_out": "raise timeout_s, or lower concurrency",
}
WHO = {"refused": "the model said", "error_payload": "the server said"}  # whose words, quoted
SAID_CHARS = 200  # of the server's words quoted in an error


def _openai():
    """The `openai` package, imported on first use."""
    try:
        import openai
    except ImportError as exc:
        raise HitlbenchError(
            "labeler 'openai' needs the openai package: pip install 'hitlbench[openai]'"
        ) from exc
    return openai


def png_data_url(image: np.ndarray) -> str:
    """`image` (float32 [C, H, W] in [0, 1], C 1 or 3) as an RGB PNG `data:` URL (grey images
    repeated over three channels, which every server's image loader accepts)."""
    pixels = np.rint(np.clip(np.nan_to_num(image), 0.0, 1.0) * 255).astype(np.uint8)
    rgb = np.repeat(pixels, 3, axis=0) if len(pixels) == 1 else pixels
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb.transpose(1, 2, 0))).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass(frozen=True)
class Reply:
    """What one request came back as: `kind` (one of REPLY_KINDS; None for a text not read
    yet), the class it names (`index` into the class names, -1 for none), the reply text (None
    where no reply came), and `said`, the server's or the model's own words where the reply is
    unusable."""

    kind: str | None
    index: int = -1
    text: str | None = None
    said: str | None = None


def _text_of(content: Any) -> str:
    """A message's content as text: a string as it is, a list of parts as its text parts joined
    (image and reasoning parts left out), None as ""."""
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(
        part if isinstance(part, str) else str(part.get("text") or "")
        for part in content
        if isinstance(part, str)
        or (isinstance(part, dict) and part.get("type", "text") in ("text", "output_text"))
    )


def _event_data(text: str) -> list[dict]:
    """The JSON objects of a body sent as an event stream (`data:` lines, events apart by a
    blank line, `data: [DONE]` and comments left out; a bare JSON body is read as one event).
    Raises ValueError where an event is not a JSON object."""
    kept = [line for line in text.splitlines() if not re.fullmatch(r"data:\s*\[DONE\]\s*", line)]
    events = []
    for block in re.split(r"\n\s*\n", "\n".join(kept)):
        lines = [
            line for line in block.splitlines() if not re.match(r"(?::|event:|id:|retry:)", line)
        ]
        data = "\n".join(re.sub(r"^data: ?", "", line) for line in lines).strip()
        if data:
            event = json.loads(data)
            if not isinstance(event, dict):
                raise ValueError(f"an event of the stream is not a JSON object: {data[:80]!r}")
            events.append(event)
    return events


def completion_from_events(text: str) -> dict:
    """A chat completion's JSON from a body the server sent as `text/event-stream` although no
    stream was asked for: one event holding the whole completion, or chunks whose `delta`
    contents are joined (their last finish_reason kept). Raises ValueError where no event holds
    JSON."""
    events = _event_data(text)
    if not events:
        raise ValueError("the event stream holds no data")
    choices = [e["choices"][0] for e in events if e.get("choices")]
    if len(events) == 1 or not choices:
        return events[-1]
    pieces = [c.get("delta") or c.get("message") or {} for c in choices]
    reasons = [c["finish_reason"] for c in choices if c.get("finish_reason")]
    message = {"role": "assistant", "content": "".join(_text_of(p.get("content")) for p in pieces)}
    choice = {"index": 0, "message": message, "finish_reason": reasons[-1] if reasons else None}
    return {**events[0], "object": "chat.completion", "choices": [choice]}


def _error_said(body: Any) -> str | None:
    """The message of an error object: a body's `{"error": {"message": ...}}` (or the error
    object itself, as the client hands it over with a status error), vLLM's `{"object":
    "error", "message": ...}`, or `{"detail": ...}`; None where it holds none."""
    if not isinstance(body, dict):
        return None
    error = body.get("error") or body
    if not isinstance(error, dict):
        return str(error)
    said = error.get("message") or error.get("detail")
    return str(said) if said else None


def _one_line(text: str) -> str:
    """`text` on one line, cut to SAID_CHARS characters."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= SAID_CHARS else text[: SAID_CHARS - 3] + "..."


@labelers.register("openai", "vlm")
class OpenAIChat(Labeler):
    """A vision-language model served by an OpenAI-compatible chat-completions server (vLLM,
    llama.cpp's server, Ollama) at `base_url`, asked about each image with `prompt` (its
    `{classes}` replaced by the class names, comma-separated) at temperature 0.

    Every reply is counted as one of six kinds; only an `answered` one becomes a class (a
    one-hot row), every other leaves the item unanswered (an all-zero row: the person labels
    it from scratch, `unparseable` in the record's rounds):

    - `answered`: the answer names exactly one class (`reply.parse_reply`: exact name, else
      WordNet, with `synsets` as in `class_map.class_synsets`; a pronoun, article or quantifier
      is never the answer, a number word that is counts: "The digit seven" is 7). Content sent
      as a list of parts is read as its text parts joined; a finished reasoning block
      (`<think>...</think>`) before the answer is dropped; a JSON body sent as
      `text/event-stream` (`data:` lines up to `data: [DONE]`) is read like a plain one.
    - `unparseable`: the answer names no class, or several.
    - `refused`: the model refuses or hedges ("I'm sorry...", "I am not sure", "I cannot..."),
      or the server sets `refusal` or finish_reason `content_filter`.
    - `truncated`: the reply was cut off by `max_tokens` (finish_reason `length`), or a
      reasoning block never closes.
    - `error_payload`: the server answered with an error object and no choices (with HTTP
      200, `choices` null or empty), or with a 5xx, 408, 409 or 429 status still there after
      the client's `retries` (exponential backoff).
    - `timed_out`: no reply within `timeout_s`, after the retries.

    When more than half of the replies to one `answer` call (the zero_shot classifier asks
    about at most 64 images at once, a round's new items among them) are unusable (the last
    four kinds), the run stops with a `HitlbenchError` (exit status 2) that quotes the server's
    own words (its error message, e.g. a rate limit; the model's refusal). A status retrying
    cannot fix (404: no such model; 400: the model takes no images) stops it at once. The
    record's summary holds `replies`, the run's count of each kind, and `replies_repeat`: a run
    against a live server repeats only as far as the server does (its model, weights and
    decoding are not part of the run's identity). The record's `unparseable` (rounds and
    summary) still counts the batch items left unanswered, whatever the kind of their reply.
    `last_counts` holds the counts of the last `answer` call, `last_replies` each item's reply
    text (None where no reply came).

    `max_tokens` leaves room for the reasoning a reasoning model writes before its answer (give
    such a model a `timeout_s` that covers it). The API key is read from the environment
    variable `api_key_env` ("EMPTY" when unset), never stored. `concurrency` requests run at
    once.
    """

    # 2: replies sorted into six kinds (refusals, cut-off replies and error objects are never
    # read as a class; reasoning blocks dropped; event-stream bodies and content parts read);
    # stops when more than half of a call's replies are unusable; max_tokens 20 -> 1024;
    # pronouns, articles and quantifiers are never an answer in parse_reply
    version = "2"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        model: str = "default",
        api_key_env: str = "OPENAI_API_KEY",
        prompt: str = DEFAULT_PROMPT,
        timeout_s: float = 30.0,
        retries: int = 2,
        concurrency: int = 4,
        max_tokens: int = 1024,
        synsets: dict[str, list[str]] | None = None,
    ):
        if not re.match(r"https?://", base_url):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
            raise ValueError(
                "api_key_env must be the name of an environment variable (e.g. OPENAI_API_KEY), "
                "not a key"
            )
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.prompt = prompt
        self.timeout_s = timeout_s
        self.retries = retries
        self.concurrency = concurrency
        self.max_tokens = max_tokens
        self.synsets = synsets
        self.last_counts = dict.fromkeys(REPLY_KINDS, 0)
        self.reply_counts = dict.fromkeys(REPLY_KINDS, 0)
        self.last_replies: tuple[str | None, ...] = ()
        self._client = None

    def bind(self, task: TaskInfo, *, device: str, seed: int) -> None:
        """Resolve the classes' synsets and open the client (no request is made yet).

        Raises `HitlbenchError` when the openai package is missing or `synsets` names an
        unknown class or synset."""
        openai = _openai()
        self._class_names = tuple(task.class_names)
        self._synsets = class_synsets(self._class_names, self.synsets)
        self._text = self.prompt.replace("{classes}", ", ".join(self._class_names))
        self.reply_counts = dict.fromkeys(REPLY_KINDS, 0)
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get(self.api_key_env) or "EMPTY",
            timeout=self.timeout_s,
            max_retries=self.retries,
        )

    def answer(self, images: np.ndarray, items: np.ndarray) -> Answers:
        """One-hot float32 [N, C] rows for the `answered` replies, all-zero rows for the others;
        `fine` is the answer text of each answered item (None elsewhere).

        Raises `HitlbenchError` when the server cannot be reached, refuses a request for a
        reason retrying cannot fix (e.g. 404: no such model; 400: the model takes no images),
        or gives more than half of these replies unusable (quoting its words)."""
        if self._client is None:
            raise RuntimeError("labeler 'openai': bind() must be called before answer()")
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise HitlbenchError(
                f"labeler 'openai' takes images [N, 1 or 3, H, W], got shape {images.shape}"
            )
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            futures = [pool.submit(self._ask, image) for image in images]
            replies = [self._sorted(future.result()) for future in futures]
        finally:
            pool.shutdown(cancel_futures=True)  # on an error, send nothing more
        self.last_counts = {kind: sum(r.kind == kind for r in replies) for kind in REPLY_KINDS}
        self.reply_counts = {k: self.reply_counts[k] + n for k, n in self.last_counts.items()}
        self.last_replies = tuple(r.text for r in replies)
        self._check_usable(replies)
        proba = np.zeros((len(images), len(self._class_names)), np.float32)
        for i, reply in enumerate(replies):
            if reply.kind == "answered":
                proba[i, reply.index] = 1.0
        fine = tuple(answer_part(r.text) if r.kind == "answered" else None for r in replies)
        return Answers(proba, fine)

    def record_summary(self) -> dict[str, Any]:
        """What the run's record adds to its summary: `replies`, the count of each kind of
        reply over the run (class docstring), and `replies_repeat`, how far the run repeats."""
        return {
            "replies": dict(self.reply_counts),
            "replies_repeat": (
                f"only as far as the server at {self.base_url} does: the model it serves as "
                f"{self.model!r}, its weights, decoding and load are not part of the run's "
                "identity, so the same spec may get other replies"
            ),
        }

    def _check_usable(self, replies: list[Reply]) -> None:
        """Raise `HitlbenchError`, quoting the server's most frequent words, when more than
        half of `replies` are unusable."""
        unusable = [r for r in replies if r.kind in UNUSABLE]
        if 2 * len(unusable) <= len(replies):
            return
        kinds = Counter(r.kind for r in unusable)
        kind = kinds.most_common(1)[0][0]
        said = Counter(r.said for r in unusable if r.kind == kind and r.said).most_common(1)
        words = ""
        if said:
            words = f"; {WHO[kind]}: {said[0][0]!r}" if kind in WHO else f"; {said[0][0]}"
        counts = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
        raise HitlbenchError(
            f"labeler 'openai': {len(unusable)} of {len(replies)} replies from {self.base_url} "
            f"(model {self.model!r}) were unusable ({counts}){words}; {HINTS[kind]}"
        )

    def _sorted(self, reply: Reply) -> Reply:
        """`reply` with its text read (`reply.read_reply`) where its kind is not known yet; in
        the calling thread, as nltk's WordNet reader is not thread-safe."""
        if reply.kind is not None:
            return reply
        kind, index = read_reply(reply.text or "", self._class_names, self._synsets)
        return Reply(kind, index, reply.text, _one_line(reply.text or "") if index < 0 else None)

    def _ask(self, image: np.ndarray) -> Reply:
        """The reply to one image (float32 [C, H, W]): its kind where the request or the
        completion shows it, else its text to read (kind None).

        Raises `HitlbenchError` as `answer` does for an unreachable server or a status retrying
        cannot fix."""
        openai = _openai()
        content = [
            {"type": "image_url", "image_url": {"url": png_data_url(image)}},
            {"type": "text", "text": self._text},
        ]
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": content}],
                temperature=0,
                max_tokens=self.max_tokens,
            )
        except openai.APITimeoutError:  # a subclass of APIConnectionError: first
            said = f"no reply within timeout_s={self.timeout_s} s, after {self.retries} retries"
            return Reply("timed_out", said=said)
        except openai.APIConnectionError as exc:
            raise HitlbenchError(
                f"labeler 'openai': cannot reach a chat-completions server at {self.base_url} "
                f"({exc}); start the server (vLLM, llama.cpp's server, Ollama) or set base_url"
            ) from exc
        except openai.APIStatusError as exc:
            said = _one_line(_error_said(exc.body) or exc.message)
            if exc.status_code >= 500 or exc.status_code in RETRIED_STATUS:
                return Reply("error_payload", said=f"status {exc.status_code}: {said}")
            raise HitlbenchError(
                f"labeler 'openai': the server at {self.base_url} refused the request for model "
                f"{self.model!r} with status {exc.status_code}: {said}"
            ) from exc
        return self._read(completion)

    def _read(self, completion: Any) -> Reply:
        """A completion (the client's `ChatCompletion`, or the text of a body it could not read
        as JSON) as an unusable reply, or as a text to read (kind None)."""
        openai = _openai()
        if isinstance(completion, str):
            try:
                data = completion_from_events(completion)
            except ValueError:
                return Reply("error_payload", said=_one_line(f"unreadable reply: {completion}"))
            completion = openai.types.chat.ChatCompletion.construct(**data)
        if not completion.choices:
            said = _error_said(completion.to_dict()) or "a reply with no choices"
            return Reply("error_payload", said=_one_line(said))
        choice = completion.choices[0]
        text = _text_of(choice.message.content)
        if choice.finish_reason == "length":
            return Reply("truncated", text=text, said=f"cut off at max_tokens={self.max_tokens}")
        refusal = choice.message.refusal
        if refusal or choice.finish_reason == "content_filter":
            return Reply("refused", text=text, said=_one_line(refusal or "content_filter"))
        return Reply(None, text=text)
