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
from hitlbench.cli import main  # noqa: E402
from hitlbench.harness.runner import execute  # noqa: E402
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
    (0-255, red channel), else by `default`: ("reply", text), ("choice", {content,
    finish_reason, refusal}), ("body", JSON sent with status 200), ("events", text sent as
    text/event-stream), ("status", code or (code, message)) or ("sleep", seconds)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/v1"
        self.script: dict[int, tuple[str, object]] = {}
        self.default: tuple[str, object] | None = None
        self.requests: list[dict] = []  # each: body, Authorization header, image
        self.stop = threading.Event()  # ends the sleeps at teardown


def completion(content, finish_reason="stop", refusal=None) -> dict:
    """A chat.completion body with one choice."""
    message = {"role": "assistant", "content": content, "refusal": refusal}
    choice = {"index": 0, "message": message, "finish_reason": finish_reason}
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]}


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
        marker = np.asarray(image.convert("RGB"))[0, 0, 0]
        kind, value = server.script.get(marker, server.default)
        if kind == "sleep":
            server.stop.wait(value)
            kind, value = "reply", "cat"
        if kind == "status":
            code, message = value if isinstance(value, tuple) else (value, "boom")
            self._send(code, {"error": {"message": message, "type": "server_error"}})
        elif kind == "body":
            self._send(200, value)
        elif kind == "events":
            self._send(200, value, "text/event-stream")
        elif kind == "choice":
            self._send(200, completion(**value))
        else:
            self._send(200, completion(value))

    def _send(self, status, payload, content_type="application/json"):
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
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


def counts(**given: int) -> dict[str, int]:
    """The six reply counts, zero where not given."""
    kinds = ("answered", "unparseable", "refused", "truncated", "error_payload", "timed_out")
    return {kind: given.get(kind, 0) for kind in kinds}


def test_right_answers_are_one_hot_rows_in_input_order(server):
    texts = ["Dog", "The answer is: cat.", "**Bird**", "Dachshund (Dog)", "cat", "bird"]
    chat, answers = ask(server, [("reply", t) for t in texts], concurrency=4)
    assert answers.proba.dtype == np.float32 and answers.proba.shape == (6, 3)
    np.testing.assert_array_equal(answers.proba, np.eye(3, dtype=np.float32)[[1, 0, 2, 1, 0, 2]])
    assert answers.fine == tuple(texts)
    assert chat.last_counts == counts(answered=6)


def test_free_text_maps_through_wordnet(server):
    chat, answers = ask(server, [("reply", "It looks like a tabby cat.")])
    np.testing.assert_array_equal(answers.proba, [[1, 0, 0]])
    assert answers.fine == ("It looks like a tabby cat.",)


def test_garbage_is_unanswered_and_counted(server):
    chat, answers = ask(server, [("reply", "asdf qwerty"), ("reply", "dog")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [0, 1, 0]])
    assert answers.fine == (None, "dog")
    assert chat.last_counts == counts(answered=1, unparseable=1)
    assert chat.last_replies == ("asdf qwerty", "dog")


def test_timeout_is_unanswered_after_the_retries(server):
    chat, answers = ask(server, [("sleep", 10.0), ("reply", "bird")], timeout_s=0.3)
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [0, 0, 1]])
    assert chat.last_counts == counts(answered=1, timed_out=1)
    assert chat.last_replies == (None, "bird")
    slept = [r for r in server.requests if np.asarray(r["image"])[0, 0, 0] == 0]
    assert len(slept) == 2  # the client's own retry


def test_server_error_is_unanswered_after_the_retries(server):
    chat, answers = ask(server, [("status", 500), ("reply", "cat")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [1, 0, 0]])
    assert answers.fine == (None, "cat")
    assert chat.last_counts == counts(answered=1, error_payload=1)
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
    with pytest.raises(HitlbenchError, match="2 of 2 replies .* unusable .*boom"):
        ask(server, [("status", 500), ("status", 503)], retries=0)


# -- replies that are no answer, and replies read despite their form ------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "model is overloaded", "code": 503}, "choices": None},
        {"error": {"message": "model is overloaded"}, "choices": []},
        {"object": "error", "message": "model is overloaded", "code": 503},  # vLLM's form
    ],
)
def test_an_error_object_sent_with_status_200_is_an_error_payload(server, body):
    chat, answers = ask(server, [("body", body), ("reply", "dog"), ("reply", "cat")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [0, 1, 0], [1, 0, 0]])
    assert chat.last_counts == counts(answered=2, error_payload=1)
    with pytest.raises(HitlbenchError, match="the server said: 'model is overloaded'"):
        ask(server, [("body", body), ("body", body), ("reply", "cat")])


@pytest.mark.parametrize(
    "reply",
    [
        ("reply", "I'm sorry, but I can't help with identifying this image."),
        ("reply", "I am not sure. It could be a dog."),
        ("reply", "I cannot tell whether this is a cat or a dog."),
        ("reply", "Hard to tell; maybe a bird"),
        ("choice", {"content": None, "refusal": "I can't assist with that."}),
        ("choice", {"content": "dog", "finish_reason": "content_filter"}),
    ],
)
def test_a_refusal_or_hedge_is_refused_never_a_class(server, reply):
    chat, answers = ask(server, [reply, ("reply", "dog"), ("reply", "bird")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert answers.fine == (None, "dog", "bird")
    assert chat.last_counts == counts(answered=2, refused=1)


@pytest.mark.parametrize(
    "choice",
    [
        {"content": "The image shows a dog sitting on", "finish_reason": "length"},
        {"content": "<think>The ears are pointed, so a cat or a dog", "finish_reason": "length"},
        {"content": "<think>The ears are pointed, so a cat", "finish_reason": "stop"},
    ],
)
def test_a_reply_cut_off_by_max_tokens_is_truncated_never_a_class(server, choice):
    chat, answers = ask(server, [("choice", choice), ("reply", "dog")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 0], [0, 1, 0]])
    assert chat.last_counts == counts(answered=1, truncated=1)
    with pytest.raises(HitlbenchError, match="truncated.*raise max_tokens"):
        ask(server, [("choice", choice)] * 2 + [("reply", "dog")])


def test_content_sent_as_a_list_of_parts_is_read(server):
    parts = [{"type": "text", "text": "The answer is: "}, {"type": "text", "text": "bird"}]
    chat, answers = ask(server, [("choice", {"content": parts}), ("reply", "cat")])
    np.testing.assert_array_equal(answers.proba, [[0, 0, 1], [1, 0, 0]])
    assert chat.last_counts == counts(answered=2)


@pytest.mark.parametrize(
    "events",
    [
        "data: " + json.dumps(completion("dog")) + "\n\ndata: [DONE]\n\n",
        json.dumps(completion("dog")) + "\ndata: [DONE]\n",
        "".join(
            "data: " + json.dumps({"object": "chat.completion.chunk", "choices": [c]}) + "\n\n"
            for c in (
                {"index": 0, "delta": {"role": "assistant", "content": "Do"}},
                {"index": 0, "delta": {"content": "g"}, "finish_reason": "stop"},
            )
        )
        + "data: [DONE]\n\n",
    ],
)
def test_a_json_body_sent_as_an_event_stream_is_read(server, events):
    chat, answers = ask(server, [("events", events), ("reply", "cat")])
    np.testing.assert_array_equal(answers.proba, [[0, 1, 0], [1, 0, 0]])
    assert chat.last_counts == counts(answered=2)


def test_a_finished_reasoning_block_before_the_answer_is_dropped(server):
    reply = "<think>Pointed ears, whiskers; a dog has none of these. One cat.</think>\n\nCat"
    chat, answers = ask(server, [("reply", reply), ("reply", "dog")])
    np.testing.assert_array_equal(answers.proba, [[1, 0, 0], [0, 1, 0]])
    assert answers.fine == ("Cat", "dog")
    assert chat.last_counts == counts(answered=2)


def test_more_than_half_unusable_stops_with_the_servers_words(server):
    limit = (429, "Rate limit reached for requests per minute")
    with pytest.raises(HitlbenchError, match="3 of 4 replies") as error:
        ask(server, [("status", limit)] * 3 + [("reply", "dog")], retries=0)
    assert "Rate limit reached for requests per minute" in str(error.value)
    assert "\n" not in str(error.value)
    chat, _ = ask(server, [("status", limit)] * 2 + [("reply", "dog")] * 2, retries=0)
    assert chat.last_counts == counts(answered=2, error_payload=2)  # half: the run goes on


def test_max_tokens_leaves_room_for_a_reasoning_model(server):
    assert OpenAIChat().max_tokens >= 1024
    server.script = {0: ("reply", "dog")}
    chat = OpenAIChat(base_url=server.url, **FAST)
    chat.bind(TASK, device="cpu", seed=0)
    chat.answer(images_for(0), np.arange(1))
    assert server.requests[0]["body"]["max_tokens"] == OpenAIChat().max_tokens


def test_the_record_counts_replies_by_kind_and_says_how_far_it_repeats(
    server, tmp_path, digits_spec
):
    server.default = ("reply", "seven")
    server.script = {0: ("reply", "seven"), 255: ("reply", "asdf")}
    backend = {"name": "openai", "params": {"base_url": server.url, **FAST}}
    spec = digits_spec(classifier={"name": "zero_shot", "params": {"backend": backend}})
    record, _ = execute(spec, out=tmp_path)
    replies = record["summary"]["replies"]
    assert set(replies) == set(counts())
    assert sum(replies.values()) == len(server.requests) > 0
    assert replies["answered"] + replies["unparseable"] == len(server.requests)
    assert server.url in record["summary"]["replies_repeat"]
    assert record["summary"]["unparseable"] == sum(r["unparseable"] for r in record["rounds"])


def test_the_command_line_stops_with_status_2_and_the_servers_words(server, tmp_path, capsys):
    server.default = ("status", (429, "Rate limit reached for requests per minute"))
    code = main(
        ["run", "--dataset", "digits", "--set", "dataset.pool_size=60", "--rounds", "1",
         "--batch-size", "10", "--threads", "1", "--device", "cpu", "--quiet",
         "--classifier", "zero_shot", "--set", "classifier.backend=openai",
         "--set", f"classifier.backend.base_url={server.url}",
         "--set", "classifier.backend.retries=0", "--out", str(tmp_path)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "Rate limit reached for requests per minute" in err and server.url in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The digit seven", 7),
        ("seven", 7),
        ("It's a 7.", 7),
        ("I think it is a 4", 4),  # "I" is no answer (WordNet: the number one)
        ("It is one of the digits: a seven", 7),  # "one" counts the digits
        ("I see two sevens", 7),
        ("A three", 3),
        ("It's the one on the left", -1),
        ("two dogs", -1),
        ("seven or one", -1),
    ],
)
def test_parse_reply_reads_a_number_word_only_as_the_answer(text, expected):
    digits = tuple(str(d) for d in range(10))
    assert parse_reply(text, digits, class_synsets(digits)) == expected
