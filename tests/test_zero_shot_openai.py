"""The `openai` labeler against a small OpenAI-compatible server run by the test, and
`parse_reply` on its own."""

from __future__ import annotations

import base64
import io
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("openai", reason="the openai labeler needs the openai package")

from hitlbench import testing
from hitlbench.types import HitlbenchError, TaskInfo  # noqa: E402
from hitlbench.zero_shot.base import labelers  # noqa: E402
from hitlbench.zero_shot.class_map import class_synsets  # noqa: E402
from hitlbench.zero_shot.openai_chat import OpenAIChat  # noqa: E402
from hitlbench.zero_shot.reply import parse_reply  # noqa: E402

CLASSES = ("cat", "dog", "bird")
TASK = TaskInfo(n_classes=3, class_names=CLASSES, input_shape=(3, 8, 12))
FMNIST = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
FAST = {"timeout_s": 0.5, "retries": 1}


class ChatServer(ThreadingHTTPServer):
    """Answers POST /v1/chat/completions by `script`, keyed by the image's first pixel value
    (0-255, red channel): ("reply", text), ("status", code) or ("sleep", seconds)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1"
        self.script: dict[int, tuple[str, object]] = {}
        self.requests: list[dict] = []  # each: body, Authorization header, image
        self.stop = threading.Event()  # ends the sleeps at teardown


class ChatHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        server: ChatServer = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        url = next(p for p in body["messages"][0]["content"] if p["type"] == "image_url")
        url = url["image_url"]["url"]
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        server.requests.append(
            {"body": body, "auth": self.headers.get("Authorization"), "image": image}
        )
        kind, value = server.script[np.asarray(image.convert("RGB"))[0, 0, 0]]
        if kind == "sleep":
            server.stop.wait(value)
            kind, value = "reply", "cat"
        if kind == "status":
            self._send(value, {"error": {"message": "boom", "type": "server_error"}})
            return
        message = {"role": "assistant", "content": value}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        completion = {"id": "c", "object": "chat.completion", "created": 0, "model": "m"}
        self._send(200, {**completion, "choices": [choice]})

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("retry-after-ms", "1")  # the client's retries need not wait
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout)
            pass


@pytest.fixture
def server():
    chat = ChatServer()
    thread = threading.Thread(target=chat.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield chat
    chat.stop.set()
    chat.shutdown()
    chat.server_close()


def images_for(*markers: int, channels: int = 3) -> np.ndarray:
    """float32 [N, channels, 8, 12], image i filled with markers[i] / 255."""
    values = np.asarray(markers, np.float32)[:, None, None, None] / 255
    return np.broadcast_to(values, (len(markers), channels, 8, 12)).copy()


def labeler(server, **params) -> OpenAIChat:
    chat = OpenAIChat(base_url=server.url, **{**FAST, **params})
    chat.bind(TASK, device="cpu", seed=0)
    return chat


def ask(server, replies: list[tuple[str, object]], **params):
    server.script = dict(enumerate(replies))
    chat = labeler(server, **params)
    answers = chat.answer(images_for(*range(len(replies))), np.arange(len(replies)))
    return chat, answers


def test_right_answers_are_one_hot_rows_in_input_order(server):
    texts = ["Dog", "The answer is: cat.", "**Bird**", "Dachshund (Dog)", "cat", "bird"]
    chat, answers = ask(server, [("reply", t) for t in texts], concurrency=4)
    assert answers.proba.dtype == np.float32 and answers.proba.shape == (6, 3)
    np.testing.assert_array_equal(answers.proba, np.eye(3, dtype=np.float32)[[1, 0, 2, 1, 0, 2]])
    assert answers.fine == tuple(texts)
    assert chat.last_counts == {"unparseable": 0, "failed": 0}


def test_free_text_maps_through_wordnet(server):
    chat, answers = ask(server, [("reply", "It looks like a tabby cat.")])
    np.testing.assert_array_equal(answers.proba, [[1, 0, 0]])
    assert answers.fine == ("It looks like a tabby cat.",)


def test_garbage_is_unanswered_and_counted(server):
    chat, answers = ask(server, [("reply", "asdf qwerty"), ("reply", "dog")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [0, 1, 0]])
    assert answers.fine == (None, "dog")
    assert chat.last_counts == {"unparseable": 1, "failed": 0}
    assert chat.last_replies == ("asdf qwerty", "dog")


def test_timeout_is_unanswered_after_the_retries(server):
    chat, answers = ask(server, [("sleep", 10.0), ("reply", "bird")], timeout_s=0.3)
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [0, 0, 1]])
    assert chat.last_counts == {"unparseable": 0, "failed": 1}
    slept = [r for r in server.requests if np.asarray(r["image"])[0, 0, 0] == 0]
    assert len(slept) == 2  # the client's own retry


def test_server_error_is_unanswered_after_the_retries(server):
    chat, answers = ask(server, [("status", 500), ("reply", "cat")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [1, 0, 0]])
    assert answers.fine == (None, "cat")
    assert chat.last_counts == {"unparseable": 0, "failed": 1}
    assert len(server.requests) == 3  # 500, its retry, the cat


def test_client_error_is_refused_with_the_status(server):
    with pytest.raises(HitlbenchError, match="404"):
        ask(server, [("status", 404)])


def test_unreachable_server_names_the_url():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    chat = OpenAIChat(base_url=url, **FAST)
    chat.bind(TASK, device="cpu", seed=0)
    with pytest.raises(HitlbenchError, match="cannot reach") as error:
        chat.answer(images_for(0), np.arange(1))
    assert url in str(error.value) and "base_url" in str(error.value)


@pytest.mark.parametrize("channels", [1, 3])
def test_request_carries_the_image_and_the_class_names(server, monkeypatch, channels):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MY_VLM_KEY", "secret-123")
    server.script = {7: ("reply", "dog")}
    chat = labeler(server, model="qwen", max_tokens=5, api_key_env="MY_VLM_KEY")
    chat.answer(images_for(7, channels=channels), np.arange(1))
    (request,) = server.requests
    assert request["image"].format == "PNG" and request["image"].size == (12, 8)
    assert np.all(np.asarray(request["image"].convert("RGB")) == 7)
    body = request["body"]
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("qwen", 0, 5)
    content = {p["type"]: p for p in body["messages"][0]["content"]}
    assert content["image_url"]["image_url"]["url"].startswith("data:image/png;base64,")
    text = content["text"]["text"]
    assert "cat, dog, bird" in text
    assert request["auth"] == "Bearer secret-123"
    assert "secret-123" not in repr(chat.get_params())


def test_unset_key_variable_sends_empty(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.script = {0: ("reply", "dog")}
    labeler(server).answer(images_for(0), np.arange(1))
    assert server.requests[0]["auth"] == "Bearer EMPTY"


def test_registered_with_checked_parameters():
    assert labelers.get("vlm") is OpenAIChat and labelers.canonical("vlm") == "openai"
    chat = labelers.create("openai", synsets={"cat": ["cat.n.01"]}, timeout_s=2)
    assert chat.get_params()["synsets"] == {"cat": ["cat.n.01"]}
    for bad in ({"retries": -1}, {"concurrency": 0}, {"api_key_env": "sk-abc123"}):
        with pytest.raises(HitlbenchError):
            labelers.create("openai", **bad)
    with pytest.raises(HitlbenchError, match="retries"):
        labelers.create("openai", retries=1.5)


def test_missing_openai_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(HitlbenchError, match=r"pip install 'hitlbench\[openai\]'"):
        OpenAIChat().bind(TASK, device="cpu", seed=0)


# -- parse_reply ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dog", 1),
        ("  'Bird'. ", 2),
        ("The answer is: Cat.", 0),
        ("It's a dog!", 1),
        ("Let me think.\nBird\n", 2),
        ("Dachshund (Dog)", 1),
        ("It looks like a tabby cat.", 0),
        ("two dachshunds", 1),
        ("cat or dog", -1),  # ambiguous
        ("Cat (Dog)", -1),
        ("asdf qwerty", -1),
        ("", -1),
    ],
)
def test_parse_reply(text, expected):
    assert parse_reply(text, CLASSES, class_synsets(CLASSES)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Trousers", "Trouser"),
        ("jeans", "Trouser"),
        ("T-shirt", "T-shirt/top"),  # jersey.n.03 itself, nearer than Shirt's shirt.n.01
        ("top", "T-shirt/top"),
        ("ankle-boot", "Ankle boot"),
        ("A pair of sandals.", "Sandal"),  # sandal.n.01, nearer than Sneaker's shoe.n.01
        ("a shirt or a coat", None),
    ],
)
def test_parse_reply_fashion(text, expected):
    index = parse_reply(text, FMNIST, class_synsets(FMNIST))
    assert index == (FMNIST.index(expected) if expected else -1)


def test_passes_the_labeler_contract(server):
    server.script = {v: ("reply", f"class{v % 3}") for v in range(256)}
    testing.check_labeler(lambda: OpenAIChat(base_url=server.url, **FAST))


def test_a_server_that_fails_every_request_stops_the_run(server):
    with pytest.raises(HitlbenchError, match="every one of 2 requests"):
        ask(server, [("status", 500), ("status", 503)], retries=0)
