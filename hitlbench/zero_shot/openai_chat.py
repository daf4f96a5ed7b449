"""A vision-language model behind an OpenAI-compatible chat-completions server, as a labeler."""

from __future__ import annotations

import base64
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from ..types import HitlbenchError, TaskInfo
from .base import Answers, Labeler, labelers
from .class_map import class_synsets
from .reply import parse_reply

DEFAULT_PROMPT = (
    "Which of these classes is the object in the image? {classes}. Answer with the class name only."
)
RETRIED_STATUS = (408, 409, 429)  # besides 5xx: statuses the openai client retries itself


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


@labelers.register("openai", "vlm")
class OpenAIChat(Labeler):
    """A vision-language model served by an OpenAI-compatible chat-completions server (vLLM,
    llama.cpp's server, Ollama) at `base_url`, asked about each image with `prompt` (its
    `{classes}` replaced by the class names, comma-separated) at temperature 0.

    Each reply maps to a class by `reply.parse_reply` (exact name, else WordNet, with `synsets`
    as in `class_map.class_synsets`); one it cannot map leaves the item unanswered (an all-zero
    row), as does a request that still times out or fails with a 5xx (or 408, 409, 429) status
    after the client's `retries` (exponential backoff). `last_counts` holds, after each
    `answer`, {"unparseable": n, "failed": n}; `last_replies` each item's reply text (None where
    the request failed). The API key is read from the environment variable `api_key_env`
    ("EMPTY" when unset), never stored. `concurrency` requests run at once.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        model: str = "default",
        api_key_env: str = "OPENAI_API_KEY",
        prompt: str = DEFAULT_PROMPT,
        timeout_s: float = 30.0,
        retries: int = 2,
        concurrency: int = 4,
        max_tokens: int = 20,
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
        self.last_counts = {"unparseable": 0, "failed": 0}
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
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get(self.api_key_env) or "EMPTY",
            timeout=self.timeout_s,
            max_retries=self.retries,
        )

    def answer(self, images: np.ndarray, items: np.ndarray) -> Answers:
        """One-hot float32 [N, C] rows for the replies that map to a class, all-zero rows for the
        others; `fine` is the reply text of each answered item (None elsewhere).

        Raises `HitlbenchError` when the server cannot be reached, or refuses a request for a
        reason retrying cannot fix (e.g. 404: no such model; 400: the model takes no images)."""
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
            replies = tuple(future.result() for future in futures)
        finally:
            pool.shutdown(cancel_futures=True)  # on an error, send nothing more
        proba = np.zeros((len(images), len(self._class_names)), np.float32)
        fine: list[str | None] = [None] * len(images)
        unparseable = 0
        for i, reply in enumerate(replies):
            if reply is None:
                continue
            index = parse_reply(reply, self._class_names, self._synsets)
            if index < 0:
                unparseable += 1
            else:
                proba[i, index] = 1.0
                fine[i] = reply
        self.last_counts = {"unparseable": unparseable, "failed": replies.count(None)}
        self.last_replies = replies
        if len(replies) and replies.count(None) == len(replies):
            raise HitlbenchError(
                f"labeler 'openai': every one of {len(replies)} requests to {self.base_url} "
                f"timed out or failed after {self.retries} retries; check the server, or raise "
                "timeout_s"
            )
        return Answers(proba, tuple(fine))

    def _ask(self, image: np.ndarray) -> str | None:
        """The model's reply text for one image (float32 [C, H, W]); None where the request
        timed out or failed with a retryable status after the retries."""
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
            return None
        except openai.APIConnectionError as exc:
            raise HitlbenchError(
                f"labeler 'openai': cannot reach a chat-completions server at {self.base_url} "
                f"({exc}); start the server (vLLM, llama.cpp's server, Ollama) or set base_url"
            ) from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500 or exc.status_code in RETRIED_STATUS:
                return None
            raise HitlbenchError(
                f"labeler 'openai': the server at {self.base_url} refused the request for model "
                f"{self.model!r} with status {exc.status_code}: {exc.message}"
            ) from exc
        choices = completion.choices or []
        return (choices[0].message.content or "") if choices else ""
