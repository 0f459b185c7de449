"""Credential-looking keywords are refused (ConfigError), never sent nor serialised; every
configuration error is an ``LMStudioError``, not pydantic's ``ValidationError``.

The rule (README, LangChain): an unknown keyword is refused when its name contains key,
token (not tokens), secret, passw, auth, credential or bearer, or is close to ``api_key``
(``apikey``, ``api_kye``), or when its value looks like a token (``sk-``, ``hf_``,
``Bearer ``..., or 32 or more letters and digits without a separator).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest
import respx
from langchain_core.load import dumpd

from langchain_fakes import CHAT_URL, completion, sent_body, serve_models
from lmstudio_provider import ConfigError, LMStudioError
from lmstudio_provider.langchain import ChatLMStudio, LMStudioEmbeddings

SECRET = "sk-PLANTED-7f3a9c"


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert "PLANTED" not in text


@pytest.mark.parametrize("cls", [ChatLMStudio, LMStudioEmbeddings])
@pytest.mark.parametrize(
    "keywords",
    [
        {"apikey": SECRET},
        {"api_kye": SECRET},
        {"openai_api_key": SECRET},
        {"auth_header": "x" + SECRET},
        {"colour": SECRET},  # an innocent name, a token for a value
        {"hf_token": "PLANTED"},
    ],
    ids=["apikey", "api_kye", "openai_api_key", "auth_header", "token-value", "hf_token"],
)
def test_credential_keywords_are_refused_at_construction(
    cls: type[Any], keywords: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lmstudio_provider")
    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        with pytest.raises(ConfigError) as caught:
            cls(**keywords)
    error = caught.value
    (name,) = keywords
    assert error.message.startswith(f"{name} is not a {cls.__name__} parameter")
    assert "looks like a credential" in error.message
    assert_clean(str(error), repr(error), caplog.text, *(str(w.message) for w in caught_warnings))


def test_a_close_name_is_suggested() -> None:
    with pytest.raises(
        ConfigError, match=r"apikey is not a ChatLMStudio parameter \(did you mean api_key\?\)"
    ):
        ChatLMStudio(apikey=SECRET)


@pytest.mark.parametrize("how", ["invoke", "bind"])
def test_a_credential_keyword_in_a_call_is_refused_and_nothing_sent(
    respx_mock: respx.MockRouter, how: str
) -> None:
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "hi"}))
    model = ChatLMStudio()

    def call() -> object:
        if how == "invoke":
            return model.invoke("Hi", apikey=SECRET)
        return model.bind(api_kye=SECRET).invoke("Hi")

    with pytest.raises(ConfigError) as caught:
        call()
    assert "looks like a credential" in caught.value.message
    assert_clean(str(caught.value))
    assert not route.calls


def test_the_real_key_is_kept_secret_everywhere(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lmstudio_provider")
    serve_models(respx_mock)
    route = respx_mock.post(CHAT_URL).respond(200, json=completion({"content": "hi"}))
    with pytest.warns(UserWarning, match="num_ctx"):
        model = ChatLMStudio(api_key=SECRET, num_ctx=4096)  # an innocent extra still goes
    model.invoke("Hi")
    body = route.calls[-1].request.content.decode()
    assert sent_body(route)["num_ctx"] == 4096
    assert route.calls[-1].request.headers["Authorization"] == f"Bearer {SECRET}"
    assert_clean(repr(model), str(model.model_dump()), str(dumpd(model)), body, caplog.text)


@pytest.mark.parametrize("cls", [ChatLMStudio, LMStudioEmbeddings])
@pytest.mark.parametrize(
    ("keywords", "match"),
    [
        ({"timeout": float("inf")}, "http.timeout_secs=inf"),
        ({"timeout": 1e300}, "http.timeout_secs=1e"),
        ({"base_url": "http://127.0.0.1:99999"}, "port must be a number from 1 to 65535"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
def test_configuration_errors_are_config_errors(
    cls: type[Any], keywords: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match) as caught:
        cls(**keywords)
    assert isinstance(caught.value, LMStudioError)


def test_a_wrong_type_is_a_config_error_too() -> None:
    with pytest.raises(ConfigError, match=r"temperature='hot': Input should be a valid number"):
        ChatLMStudio(temperature="hot")
