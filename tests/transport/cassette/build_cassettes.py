"""Build the vcrpy cassettes under ``cassettes/<test module>/`` from the recorded captures.

Run it from the project root (it is re-runnable and rewrites every cassette it owns):

    uv run python tests/transport/cassette/build_cassettes.py

The captures in ``../shared/lmstudio-captures/`` are real LM Studio traffic recorded by
public projects: Ruby VCR cassettes (``cs3b__ace__*``, with full headers) and curl bodies
(``j-shelfwood__*``, bodies only). This script turns them into vcrpy's own format
(``interactions: [{request, response}]``, ``version: 1``) holding the requests *this*
transport makes, in the order it makes them:

* model listing falls back ``/api/v1/models`` -> ``/api/v0/models`` -> ``/v1/models``; the
  routes a capture's server did not know are answered as LM Studio answers unknown routes
  (200 ``{"error":"Unexpected endpoint or method. (GET /x)"}``);
* request bodies are the ones the transport sends for the test's messages (no
  ``"stream": false``, numbers as numbers: the Ruby recorder sent ``"max_tokens":"50"``);
* curl captures kept only bodies, so their responses get the headers LM Studio sent in
  the ``cs3b`` recordings (``X-Powered-By: Express``, pretty JSON) and, for SSE streams,
  ``Content-Type: text/event-stream``.

Every cassette starts with comments naming the captures it replays (with their
``# SOURCE`` lines) and saying what was synthesized. No ``Authorization`` header is ever
written: request headers are filtered here, and the tests' vcr config filters them too.
"""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
CAPTURES = ROOT.parent / "shared" / "lmstudio-captures"
CASSETTES = ROOT / "cassettes"
BASE_URL = "http://localhost:1234"
BUILDER = "tests/transport/cassette/build_cassettes.py"

# Request headers that must never reach a cassette (compared in lower case).
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key"})
# Response headers LM Studio 0.3.16 sent on every JSON answer in the cs3b recordings.
LMSTUDIO_HEADERS: dict[str, list[str]] = {
    "X-Powered-By": ["Express"],
    "Access-Control-Allow-Origin": ["*"],
    "Access-Control-Allow-Headers": ["*"],
}
# The headers the transport sends with a JSON body (vcrpy compares JSON bodies parsed
# only when both sides say application/json).
JSON_REQUEST_HEADERS: dict[str, list[str]] = {"Content-Type": ["application/json"]}

Interaction = dict[str, Any]


# -- Reading captures ---------------------------------------------------------------


def read_capture(name: str) -> tuple[str, str]:
    """A capture's ``# SOURCE`` line and the text after it."""
    text = (CAPTURES / name).read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    if not first.startswith("# SOURCE"):
        raise ValueError(f"{name} has no SOURCE line")
    return first, rest


class _RubyVcrLoader(yaml.SafeLoader):
    """Reads Ruby VCR YAML: ``!binary`` bodies (base64) and ``!ruby/...`` exceptions."""


def _binary(loader: yaml.SafeLoader, node: yaml.Node) -> bytes:
    assert isinstance(node, yaml.ScalarNode)
    return base64.b64decode(loader.construct_scalar(node))


def _ruby_object(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_RubyVcrLoader.add_constructor("!binary", _binary)
_RubyVcrLoader.add_multi_constructor("!ruby/", _ruby_object)


def ruby_interactions(name: str) -> list[dict[str, Any]]:
    """The ``http_interactions`` of a Ruby VCR capture (YAML or JSON)."""
    _, text = read_capture(name)
    data = json.loads(text) if name.endswith(".json") else yaml.load(text, Loader=_RubyVcrLoader)  # noqa: S506
    interactions = data["http_interactions"]
    assert isinstance(interactions, list)
    return interactions


def ruby_interaction(name: str, method: str, uri: str) -> dict[str, Any]:
    """The one interaction of a Ruby VCR capture with this method and URI."""
    found = [
        item
        for item in ruby_interactions(name)
        if item["request"]["method"].upper() == method and item["request"]["uri"] == uri
    ]
    if len(found) != 1:
        raise ValueError(f"{name}: {len(found)} interactions for {method} {uri}")
    return found[0]


def _body_text(body: dict[str, Any]) -> str:
    raw = body.get("string", "")
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


# -- Building vcrpy interactions ----------------------------------------------------


def _clean_headers(headers: dict[str, Any]) -> dict[str, list[str]]:
    """Headers as vcrpy stores them (name -> list of values), secrets left out."""
    cleaned: dict[str, list[str]] = {}
    for name, values in headers.items():
        if name.lower() in SECRET_HEADERS:
            continue
        cleaned[name] = [str(v) for v in values] if isinstance(values, list) else [str(values)]
    return cleaned


def request(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A vcrpy request (a JSON body is compared parsed, so it is written indented)."""
    if headers is None:
        headers = dict(JSON_REQUEST_HEADERS) if body is not None else {}
    return {
        "method": method,
        "uri": BASE_URL + path,
        "body": "" if body is None else json.dumps(body, ensure_ascii=False, indent=2),
        "headers": _clean_headers(headers),
    }


def response(
    body: str,
    *,
    status: int = 200,
    message: str = "OK",
    content_type: str = "application/json; charset=utf-8",
    headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A vcrpy response with LM Studio's headers (or the captured ones)."""
    if headers is None:
        headers = {**LMSTUDIO_HEADERS, "Content-Type": [content_type]}
        if not content_type.startswith("text/event-stream"):
            headers["Content-Length"] = [str(len(body.encode("utf-8")))]
        else:
            headers["Cache-Control"] = ["no-cache"]
            headers["Connection"] = ["keep-alive"]
    return {
        "status": {"code": status, "message": message},
        "headers": _clean_headers(headers),
        "body": {"string": body},
    }


def unexpected_endpoint(path: str) -> Interaction:
    """``GET path`` answered as LM Studio answers a route it does not know (status 200)."""
    error = json.dumps(
        {"error": f"Unexpected endpoint or method. (GET {path})"}, separators=(",", ":")
    )
    return {"request": request("GET", path), "response": response(error)}


def as_sent_by_transport(body: dict[str, Any]) -> dict[str, Any]:
    """A captured request body as this transport sends the same request.

    It leaves ``"stream": false`` out (LM Studio's default) and sends numbers as
    numbers (the Ruby recorder sent ``"max_tokens": "50"`` and ``"temperature": "0.1"``).
    """
    sent = {k: v for k, v in body.items() if not (k == "stream" and v is False)}
    for key in ("max_tokens", "seed", "top_k"):
        if isinstance(sent.get(key), str):
            sent[key] = int(sent[key])
    for key in ("temperature", "top_p"):
        if isinstance(sent.get(key), str):
            sent[key] = float(sent[key])
    return sent


def from_ruby(name: str, method: str, uri: str) -> Interaction:
    """A captured Ruby VCR interaction, request body as the transport sends it."""
    item = ruby_interaction(name, method, uri)
    captured_request, captured_response = item["request"], item["response"]
    body_text = _body_text(captured_request["body"])
    body = as_sent_by_transport(json.loads(body_text)) if body_text else None
    path = captured_request["uri"].removeprefix(BASE_URL)
    response_body = _body_text(captured_response["body"])
    headers = _clean_headers(captured_response["headers"])
    if "Content-Length" in headers:
        # The captured length must describe the captured body; keep it honest.
        assert headers["Content-Length"] == [str(len(response_body.encode("utf-8")))], name
    return {
        "request": request(method, path, body, headers=_clean_headers(captured_request["headers"])),
        "response": response(
            response_body,
            status=int(captured_response["status"]["code"]),
            message=str(captured_response["status"]["message"]),
            headers=headers,
        ),
    }


def curl_json(name: str, method: str, path: str, body: dict[str, Any] | None = None) -> Interaction:
    """A request this transport makes, answered with a curl-captured JSON body."""
    return {"request": request(method, path, body), "response": response(read_capture(name)[1])}


def curl_sse(name: str, path: str, body: dict[str, Any]) -> Interaction:
    """A streamed chat, answered with a curl-captured SSE body, byte for byte."""
    return {
        "request": request("POST", path, body),
        "response": response(read_capture(name)[1], content_type="text/event-stream"),
    }


# -- The cassettes ----------------------------------------------------------------------


@dataclass
class Cassette:
    module: str
    name: str
    summary: str
    captures: list[str]
    interactions: list[Interaction]
    synthesized: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return CASSETTES / self.module / f"{self.name}.yaml"


WEATHER = [{"role": "user", "content": "What is the weather in London?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The location to get weather for"}
            },
            "required": ["location"],
        },
    },
}
WEATHER_TOOL_WITH_UNIT = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city, e.g. London"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
STORY = [{"role": "user", "content": "Tell me a story about magic."}]
STREAM_FLAGS = {"stream": True, "stream_options": {"include_usage": True}}
EMBED_TEXTS = ["The capital of France is Paris.", "LM Studio runs models locally.", "Hello"]

# Capture files, by what they hold.
CS3B = "cs3b__ace__spec_cassettes_"
CS3B_QUERY = f"{CS3B}llm_lmstudio_query_integration_"
CS3B_SIMPLE = f"{CS3B_QUERY}queries_lm_studio_with_simple_prompt.yml__79d1a045.yml"
CS3B_SYSTEM = f"{CS3B_QUERY}uses_system_instruction.yml__f40a2f3c.yml"
CS3B_MAX_TOKENS = f"{CS3B_QUERY}respects_max_tokens.yml__e258c20f.yml"
CS3B_UNAVAILABLE = f"{CS3B}llm_query_integration_lmstudio_server_unavailable"
CS3B_UNAVAILABLE_YAML = f"{CS3B_UNAVAILABLE}.yml__b5a04c94.yml"
CS3B_UNAVAILABLE_JSON = f"{CS3B_UNAVAILABLE}.json__bb95ad97.json"
PHP = "j-shelfwood__prj-php-lmstudio__tests_mocks_"
# commit b93d6b28 (Mar 2025, qwen2.5-7b-instruct loaded with a 4096 context)
PHP_MODELS_B93D = f"{PHP}models_list.json__710ca4ad.json"
PHP_STORY_STREAM = f"{PHP}streaming_chat-stream.txt__2f975aae.txt"
PHP_TOOL_STREAM = f"{PHP}streaming_tool-stream.txt__527beafe.txt"
# commit fe932584 (Feb 2025, a duplicated qwen2.5-7b-instruct id)
PHP_MODELS_FE93 = f"{PHP}models_list.json__ebd9e1f6.json"
PHP_WEATHER_STREAM = f"{PHP}streaming_chat-stream.txt__c4db939d.txt"
# commit ca32167a (Feb 2025, qwen2.5-7b-instruct-1m loaded, a ":2" instance)
PHP_V0_MODELS_CA32 = f"{PHP}v0_models_list.json__af1d513f.json"
PHP_V1_MODELS_CA32 = f"{PHP}v1_models_list.json__8cbd37b9.json"
PHP_V1_CHAT_CA32 = f"{PHP}v1_chat_standard-response.json__e4dd3d9d.json"
PHP_V1_TOOL_CA32 = f"{PHP}v1_chat_tool-response.json__7bbe8254.json"
PHP_V1_STREAM_CA32 = f"{PHP}v1_streaming_chat-stream.txt__ce7d8d6c.txt"
PHP_V0_EMBED_CA32 = f"{PHP}v0_embeddings_standard-response.json__0bda23ab.json"
# commit 3264d632 (Feb 2025, granite-3.1-8b-instruct)
PHP_V1_MODELS_3264 = f"{PHP}v1_models_list.json__8ad79845.json"
PHP_V1_EMBED_3264 = f"{PHP}v1_embeddings_standard-response.json__64c71387.json"

FALLBACK_V0 = (
    "GET /api/v1/models: answered as LM Studio 0.3.x answers a route it does not know "
    "(200, Unexpected endpoint); the capture's server predates /api/v1."
)
FALLBACK_OPENAI = (
    FALLBACK_V0 + " GET /api/v0/models: answered the same way (as LM Studio before 0.3.6 "
    "does), so that the transport falls back to the captured GET /v1/models."
)
CURL_HEADERS = (
    "Response headers: the curl capture kept only the body; LM Studio's own headers "
    "(from the cs3b recordings) are used, Content-Length computed."
)
CURL_REQUEST = (
    "Request body: the curl capture kept only the response; the body is the one this "
    "transport sends for the test's messages (prompt as in the recorder's "
    "scripts/generate-mocks.sh)."
)


def models_v0(capture: str) -> list[Interaction]:
    return [unexpected_endpoint("/api/v1/models"), curl_json(capture, "GET", "/api/v0/models")]


def models_openai_from_curl(capture: str) -> list[Interaction]:
    return [
        unexpected_endpoint("/api/v1/models"),
        unexpected_endpoint("/api/v0/models"),
        curl_json(capture, "GET", "/v1/models"),
    ]


def models_openai_from_ruby(capture: str) -> list[Interaction]:
    return [
        unexpected_endpoint("/api/v1/models"),
        unexpected_endpoint("/api/v0/models"),
        from_ruby(capture, "GET", BASE_URL + "/v1/models"),
    ]


def chat_from_ruby(capture: str) -> Interaction:
    return from_ruby(capture, "POST", BASE_URL + "/v1/chat/completions")


def cassettes() -> list[Cassette]:
    return [
        # -- test_models ---------------------------------------------------------------
        Cassette(
            "test_models",
            "v0_models_duplicates",
            "/api/v0/models listing qwen2.5-7b-instruct twice (loaded first).",
            [PHP_MODELS_FE93],
            models_v0(PHP_MODELS_FE93),
            [FALLBACK_V0, CURL_HEADERS],
        ),
        Cassette(
            "test_models",
            "v0_models_loaded",
            "/api/v0/models with loaded_context_length 4096 and two embedding models.",
            [PHP_MODELS_B93D],
            models_v0(PHP_MODELS_B93D),
            [FALLBACK_V0, CURL_HEADERS],
        ),
        Cassette(
            "test_models",
            "openai_models_instance",
            "/v1/models with a ':2' instance id and a repeated id.",
            [PHP_V1_MODELS_CA32],
            models_openai_from_curl(PHP_V1_MODELS_CA32),
            [FALLBACK_OPENAI, CURL_HEADERS],
        ),
        Cassette(
            "test_models",
            "openai_models_variants",
            "/v1/models with @q4_k_m / @q8_0 variant ids (LM Studio 0.3.16, June 2025).",
            [CS3B_SIMPLE],
            models_openai_from_ruby(CS3B_SIMPLE),
            [FALLBACK_OPENAI],
        ),
        # -- test_chat -----------------------------------------------------------------
        Cassette(
            "test_chat",
            "chat_simple_prompt",
            "/v1/models then POST /v1/chat/completions answering '4'.",
            [CS3B_SIMPLE],
            [*models_openai_from_ruby(CS3B_SIMPLE), chat_from_ruby(CS3B_SIMPLE)],
            [FALLBACK_OPENAI, 'Request body: captured, without "stream": false.'],
        ),
        Cassette(
            "test_chat",
            "chat_system_instruction",
            "A system message; the answer body was recorded as !binary (UTF-8 with an emoji).",
            [CS3B_SYSTEM],
            [*models_openai_from_ruby(CS3B_SYSTEM), chat_from_ruby(CS3B_SYSTEM)],
            [FALLBACK_OPENAI, 'Request body: captured, without "stream": false.'],
        ),
        Cassette(
            "test_chat",
            "chat_max_tokens",
            "max_tokens 50: finish_reason length.",
            [CS3B_MAX_TOKENS],
            [*models_openai_from_ruby(CS3B_MAX_TOKENS), chat_from_ruby(CS3B_MAX_TOKENS)],
            [
                FALLBACK_OPENAI,
                'Request body: captured, without "stream": false and with max_tokens as '
                'the number 50 (the Ruby recorder sent the string "50").',
            ],
        ),
        Cassette(
            "test_chat",
            "chat_loaded_model",
            "/api/v0/models (qwen2.5-7b-instruct-1m loaded) then a /v1 chat answer.",
            [PHP_V0_MODELS_CA32, PHP_V1_CHAT_CA32],
            [
                *models_v0(PHP_V0_MODELS_CA32),
                curl_json(
                    PHP_V1_CHAT_CA32,
                    "POST",
                    "/v1/chat/completions",
                    {"model": "qwen2.5-7b-instruct-1m", "messages": WEATHER, "temperature": 0.7},
                ),
            ],
            [FALLBACK_V0, CURL_HEADERS, CURL_REQUEST],
        ),
        Cassette(
            "test_chat",
            "chat_tool_call",
            "A /v1 chat answered with a tool call (numeric-string id).",
            [PHP_V0_MODELS_CA32, PHP_V1_TOOL_CA32],
            [
                *models_v0(PHP_V0_MODELS_CA32),
                curl_json(
                    PHP_V1_TOOL_CA32,
                    "POST",
                    "/v1/chat/completions",
                    {
                        "model": "qwen2.5-7b-instruct-1m",
                        "messages": WEATHER,
                        "temperature": 0.7,
                        "tools": [WEATHER_TOOL],
                        "tool_choice": "auto",
                    },
                ),
            ],
            [FALLBACK_V0, CURL_HEADERS, CURL_REQUEST],
        ),
        # -- test_streaming ------------------------------------------------------------
        Cassette(
            "test_streaming",
            "stream_story",
            "A 650-chunk SSE story stream from qwen2.5-7b-instruct.",
            [PHP_MODELS_B93D, PHP_STORY_STREAM],
            [
                *models_v0(PHP_MODELS_B93D),
                curl_sse(
                    PHP_STORY_STREAM,
                    "/v1/chat/completions",
                    {"model": "qwen2.5-7b-instruct", "messages": STORY, **STREAM_FLAGS},
                ),
            ],
            [
                FALLBACK_V0,
                CURL_HEADERS,
                "Request body: the one this transport sends for the test's messages (the "
                "capture kept only the stream, and its prompt is not known).",
            ],
        ),
        Cassette(
            "test_streaming",
            "stream_weather",
            "An SSE chat stream about London's weather (a duplicated model id in the list).",
            [PHP_MODELS_FE93, PHP_WEATHER_STREAM],
            [
                *models_v0(PHP_MODELS_FE93),
                curl_sse(
                    PHP_WEATHER_STREAM,
                    "/v1/chat/completions",
                    {
                        "model": "qwen2.5-7b-instruct",
                        "messages": WEATHER,
                        "temperature": 0.7,
                        **STREAM_FLAGS,
                    },
                ),
            ],
            [FALLBACK_V0, CURL_HEADERS, CURL_REQUEST],
        ),
        Cassette(
            "test_streaming",
            "stream_instance",
            "An SSE stream asked of the ':2' instance; chunks name the base model id.",
            [PHP_V1_MODELS_CA32, PHP_V1_STREAM_CA32],
            [
                *models_openai_from_curl(PHP_V1_MODELS_CA32),
                curl_sse(
                    PHP_V1_STREAM_CA32,
                    "/v1/chat/completions",
                    {"model": "qwen2.5-7b-instruct-1m:2", "messages": WEATHER, **STREAM_FLAGS},
                ),
            ],
            [FALLBACK_OPENAI, CURL_HEADERS, CURL_REQUEST],
        ),
        Cassette(
            "test_streaming",
            "stream_tool_call",
            "A streamed tool call: id in the first chunk, repeated empty names, "
            "finish_reason stop (LM Studio before 0.3.15).",
            [PHP_MODELS_B93D, PHP_TOOL_STREAM],
            [
                *models_v0(PHP_MODELS_B93D),
                curl_sse(
                    PHP_TOOL_STREAM,
                    "/v1/chat/completions",
                    {
                        "model": "qwen2.5-7b-instruct",
                        "messages": WEATHER,
                        "tools": [WEATHER_TOOL_WITH_UNIT],
                        **STREAM_FLAGS,
                    },
                ),
            ],
            [
                FALLBACK_V0,
                CURL_HEADERS,
                "Request body: the one this transport sends for the test's messages and tool "
                "(the tool's 'unit' parameter is inferred from the captured arguments).",
            ],
        ),
        # -- test_embeddings -----------------------------------------------------------
        Cassette(
            "test_embeddings",
            "embed_chat_model",
            "Embeddings asked of a chat model: JIT load fails with 'Model is not embedding.'",
            [PHP_V1_MODELS_CA32, PHP_V0_EMBED_CA32],
            [
                *models_openai_from_curl(PHP_V1_MODELS_CA32),
                {
                    "request": request(
                        "POST",
                        "/v1/embeddings",
                        {"model": "qwen2.5-7b-instruct-1m", "input": EMBED_TEXTS[:1]},
                    ),
                    "response": response(
                        read_capture(PHP_V0_EMBED_CA32)[1], status=400, message="Bad Request"
                    ),
                },
            ],
            [
                FALLBACK_OPENAI,
                CURL_HEADERS,
                "Status 400: curl kept only the body; LM Studio answers JIT load failures "
                "with 400 (see LMSTUDIO-API.md).",
            ],
        ),
        Cassette(
            "test_embeddings",
            "embed_insufficient_resources",
            "Embeddings whose JIT load is refused by the memory guardrail.",
            [PHP_V1_MODELS_3264, PHP_V1_EMBED_3264],
            [
                *models_openai_from_curl(PHP_V1_MODELS_3264),
                {
                    "request": request(
                        "POST",
                        "/v1/embeddings",
                        {"model": "granite-3.1-8b-instruct", "input": EMBED_TEXTS[:1]},
                    ),
                    "response": response(
                        read_capture(PHP_V1_EMBED_3264)[1], status=400, message="Bad Request"
                    ),
                },
            ],
            [
                FALLBACK_OPENAI,
                CURL_HEADERS,
                "Status 400: curl kept only the body; LM Studio answers JIT load failures "
                "with 400 (see LMSTUDIO-API.md).",
            ],
        ),
        Cassette(
            "test_embeddings",
            "embed_refused_locally",
            "/api/v0/models only: a chat model named for embeddings is refused before "
            "anything is sent.",
            [PHP_V0_MODELS_CA32],
            models_v0(PHP_V0_MODELS_CA32),
            [FALLBACK_V0, CURL_HEADERS],
        ),
        Cassette(
            "test_embeddings",
            "embed_vectors",
            "SYNTHETIC embeddings answer (data out of index order) after a captured model list.",
            [PHP_V0_MODELS_CA32],
            [
                *models_v0(PHP_V0_MODELS_CA32),
                {
                    "request": request(
                        "POST",
                        "/v1/embeddings",
                        {"model": "text-embedding-nomic-embed-text-v1.5", "input": EMBED_TEXTS},
                    ),
                    "response": response(synthetic_embeddings(EMBED_TEXTS)),
                },
            ],
            [
                FALLBACK_V0,
                CURL_HEADERS,
                "POST /v1/embeddings answer: SYNTHESIZED. No capture holds a successful "
                "embeddings body (the j-shelfwood embeddings captures are JIT load errors); "
                "its shape is OpenAI's, as LM Studio sends it (usage 0), with the items in "
                "index order 2, 0, 1 and small made-up vectors.",
            ],
        ),
        # -- test_unreachable ----------------------------------------------------------
        Cassette(
            "test_unreachable",
            "server_unavailable",
            "A refused connection (Errno::ECONNREFUSED on GET /v1/models): no interaction.",
            [CS3B_UNAVAILABLE_YAML, CS3B_UNAVAILABLE_JSON],
            [],
            [
                "vcrpy cannot store a refused connection (the Ruby capture's response has "
                "status 0 and an adapter exception): this cassette holds no interaction, so "
                "nothing is replayed; the test lets the request through and makes the "
                "transport's TCP connect fail with ECONNREFUSED, as recorded."
            ],
        ),
    ]


# The llm plugin's cassettes (tests/llm_plugin/cassette/test_llm_plugin.py), each the transport's
# cassette of the same traffic: the plugin sends exactly what the transport sends.
LLM_PLUGIN_CASSETTES = {
    "prompt_simple": "chat_simple_prompt",
    "prompt_system": "chat_system_instruction",
    "stream_story": "stream_story",
    "stream_tool_call": "stream_tool_call",
    "embed_multi": "embed_vectors",
    "server_unavailable": "server_unavailable",
}


def llm_plugin_cassettes() -> list[Cassette]:
    by_name = {cassette.name: cassette for cassette in cassettes()}
    return [
        replace(by_name[source], module="test_llm_plugin", name=name)
        for name, source in LLM_PLUGIN_CASSETTES.items()
    ]


def synthetic_embeddings(texts: list[str]) -> str:
    """An embeddings body: item ``i`` is ``[i + 0.25, -(i + 0.5), 0.125 * i]``."""
    order = [2, 0, 1] if len(texts) == 3 else list(range(len(texts)))
    data = [
        {"object": "embedding", "embedding": [i + 0.25, -(i + 0.5), 0.125 * i], "index": i}
        for i in order
    ]
    body = {
        "object": "list",
        "data": data,
        "model": "text-embedding-nomic-embed-text-v1.5",
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }
    return json.dumps(body, indent=2)


# -- Writing ------------------------------------------------------------------------------


class _CassetteDumper(yaml.SafeDumper):
    """Multi-line strings (JSON and SSE bodies) as literal blocks, for readable diffs."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CassetteDumper.add_representer(str, _str)


def render(cassette: Cassette) -> str:
    lines = [
        f"# {cassette.summary}",
        f"# Built by {BUILDER} from ../shared/lmstudio-captures; do not edit by hand.",
        "# Replays:",
    ]
    for name in cassette.captures:
        lines += [f"#   {name}", f"#     {read_capture(name)[0]}"]
    if cassette.synthesized:
        lines.append("# Synthesized:")
        for note in cassette.synthesized:
            wrapped = textwrap.wrap(note, width=94)
            lines.append(f"#   - {wrapped[0]}")
            lines += [f"#     {line}" for line in wrapped[1:]]
    document = {"interactions": cassette.interactions, "version": 1}
    dumped = yaml.dump(
        document, Dumper=_CassetteDumper, sort_keys=False, allow_unicode=True, width=100
    )
    return "\n".join(lines) + "\n" + dumped


def check_no_secrets(text: str, where: Path) -> None:
    lowered = text.lower()
    for marker in ("authorization", "bearer ", "sk-lm-"):
        if marker in lowered:
            raise ValueError(f"{where} would contain {marker!r}: refusing to write it")


def build(write: Callable[[Path, str], None]) -> list[Path]:
    """Render every cassette and hand it to ``write``; returns their paths."""
    paths = []
    for cassette in [*cassettes(), *llm_plugin_cassettes()]:
        text = render(cassette)
        check_no_secrets(text, cassette.path)
        write(cassette.path, text)
        paths.append(cassette.path)
    return paths


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    paths = build(_write)
    print(f"wrote {len(paths)} cassettes under {CASSETTES.relative_to(ROOT)}/")  # noqa: T201


if __name__ == "__main__":
    main()
