"""A loopback stand-in for LM Studio's server, for the streaming benchmark.

Run it as its own process (``bench_streaming.py`` does) so that its CPU time is
not counted in the client's ``time.process_time()``::

    python benchmarks/sse_server.py --chunks 10000

It binds 127.0.0.1 on a free port and prints one JSON line on stdout once it is
listening: ``{"url": ..., "chunks": N, "chars": ..., "sha256": ...}`` (the text a
client must receive, so that a broken contender cannot look fast). Then it serves
until it is terminated:

- ``GET /api/v0/models``: one loaded LLM, ``bench-model``; ``GET /api/v0/models/bench-model``
  its entry alone;
- ``GET /api/v1/models``: 200 ``{"error": "Unexpected endpoint or method. ..."}``,
  as LM Studio before 0.4 answers it;
- ``GET /v1/models``: the OpenAI-shaped list, for OpenAI-compatible clients;
- ``POST /v1/chat/completions``: with ``"stream": true``, N chunks shaped exactly
  like LM Studio's (every delta repeats ``"role": "assistant"``), a finishing chunk,
  a usage chunk and ``data: [DONE]``, with chunked transfer encoding; without it,
  the whole answer as one completion.

The stream is rendered once at start-up and sent one event per write (or
``--events-per-write`` events), with no sleeping, so that the server is never
what the client waits for.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "bench-model"
CREATED = 1740598368
COMPLETION_ID = "chatcmpl-kjujk0o6emj89faucu33c7"
# Token-sized pieces, a few of them multi-byte in UTF-8; none contains "<" (a
# "<think>" tag would be split out of the text and change the character count).
TOKENS = (
    "I",
    "'m",
    " sorry",
    " for",
    " any",
    " incon",
    "venience",
    ",",
    " but",
    " the",
    " café",
    " naïve",
    " résumé",
    " —",
    " 東京",
    ' "quoted"',
    " back\\slash",
    " emoji 🙂",
    ".",
    "\n",
)
PROMPT_TOKENS = 24


def _compact(obj: Any) -> bytes:
    # LM Studio writes JSON the way JSON.stringify does: no spaces, raw UTF-8.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _chunk(delta: dict[str, str], finish_reason: str | None) -> bytes:
    return _compact(
        {
            "id": COMPLETION_ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": MODEL,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
    )


def _usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion_tokens,
        "total_tokens": PROMPT_TOKENS + completion_tokens,
    }


def answer_pieces(chunks: int) -> list[str]:
    """The text of each content chunk, in order."""
    return [TOKENS[i % len(TOKENS)] for i in range(chunks)]


def render_events(chunks: int) -> list[bytes]:
    """Every SSE event of one streamed answer, each ending with its blank line."""
    payloads = [
        _chunk({"role": "assistant", "content": piece}, None) for piece in answer_pieces(chunks)
    ]
    payloads.append(_chunk({}, "stop"))
    payloads.append(
        _compact(
            {
                "id": COMPLETION_ID,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": MODEL,
                "system_fingerprint": MODEL,
                "choices": [],
                "usage": _usage(chunks),
            }
        )
    )
    payloads.append(b"[DONE]")
    return [b"data: " + payload + b"\n\n" for payload in payloads]


def chunked_frames(events: list[bytes], events_per_write: int) -> list[bytes]:
    """The events grouped into HTTP/1.1 chunks, the zero-length last chunk included."""
    frames = []
    for start in range(0, len(events), events_per_write):
        body = b"".join(events[start : start + events_per_write])
        frames.append(b"%x\r\n%s\r\n" % (len(body), body))
    frames.append(b"0\r\n\r\n")
    return frames


def whole_completion(chunks: int) -> bytes:
    """The same answer, not streamed."""
    return _compact(
        {
            "id": COMPLETION_ID,
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(answer_pieces(chunks))},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(chunks),
            "stats": {},
        }
    )


V0_MODELS = _compact(
    {
        "object": "list",
        "data": [
            {
                "id": MODEL,
                "object": "model",
                "type": "llm",
                "publisher": "bench",
                "arch": "llama",
                "compatibility_type": "gguf",
                "quantization": "Q4_K_M",
                "state": "loaded",
                "max_context_length": 131072,
                "loaded_context_length": 16384,
            }
        ],
    }
)


V0_MODEL = _compact(json.loads(V0_MODELS)["data"][0])


def unexpected_endpoint(method: str, path: str) -> bytes:
    """What LM Studio answers, with status 200, for a route it does not know."""
    return _compact({"error": f"Unexpected endpoint or method. ({method} {path})"})


V1_MODELS_UNSUPPORTED = unexpected_endpoint("GET", "/api/v1/models")
OPENAI_MODELS = _compact(
    {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "organization_owner"}]}
)


class Handler(BaseHTTPRequestHandler):
    """Answers the few routes a chat client needs; everything is pre-rendered."""

    protocol_version = "HTTP/1.1"  # keep-alive, and chunked transfer encoding
    disable_nagle_algorithm = True  # small writes go out at once, as token streams do
    server: BenchServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request on stderr would only be noise

    def _send_json(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/api/v0/models":
            self._send_json(200, V0_MODELS)
        elif path == "/api/v1/models":
            self._send_json(200, V1_MODELS_UNSUPPORTED)
        elif path == "/v1/models":
            self._send_json(200, OPENAI_MODELS)
        elif path == f"/api/v0/models/{MODEL}":  # one model's info (LM Studio 0.3.6+)
            self._send_json(200, V0_MODEL)
        else:
            self._send_json(200, unexpected_endpoint("GET", path))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path not in ("/v1/chat/completions", "/api/v0/chat/completions"):
            self._send_json(200, unexpected_endpoint("POST", path))
            return
        try:
            request = json.loads(raw)
        except ValueError:
            self._send_json(400, _compact({"error": "'messages' field is required"}))
            return
        if not (isinstance(request, dict) and request.get("stream")):
            self._send_json(200, self.server.completion)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        write = self.wfile.write
        for frame in self.server.frames:
            write(frame)


class BenchServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, chunks: int, events_per_write: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.frames = chunked_frames(render_events(chunks), events_per_write)
        self.completion = whole_completion(chunks)


def _exit_when_stdin_closes() -> None:
    # The benchmark holds our stdin open: if it dies without stopping us, so do we.
    sys.stdin.buffer.read()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=10_000, help="content chunks per answer")
    parser.add_argument("--events-per-write", type=int, default=1, help="SSE events per write")
    parser.add_argument(
        "--exit-with-stdin", action="store_true", help="exit when stdin reaches end of file"
    )
    args = parser.parse_args(argv)
    server = BenchServer(args.chunks, max(1, args.events_per_write))
    text = "".join(answer_pieces(args.chunks))
    ready = {
        "url": f"http://127.0.0.1:{server.server_address[1]}",
        "chunks": args.chunks,
        "chars": len(text),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    if args.exit_with_stdin:
        threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
