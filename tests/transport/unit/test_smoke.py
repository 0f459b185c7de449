from lmstudio_provider.transport._sse import SSEDecoder


def test_decoder_splits_two_events() -> None:
    events = SSEDecoder().feed(b"data: a\n\ndata: b\n\n")
    assert [e.data for e in events] == [b"a", b"b"]
