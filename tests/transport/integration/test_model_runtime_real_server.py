"""The model runtime on the server under test: LM Studio (load, list, unload for real)
or the stand-in, which has no ``/api/v1`` and must be refused without a request it
could misread."""

from __future__ import annotations

import pytest

from lmstudio_provider import LMStudioClient, ModelManagementUnsupportedError
from realserver import ServerUnderTest


@pytest.fixture
def without_model_management(server: ServerUnderTest) -> None:
    if server.is_lmstudio:
        pytest.skip("the server under test is LM Studio, which manages models")


@pytest.mark.usefixtures("without_model_management")
def test_a_server_without_api_v1_is_told_which_lms_command_does_it(
    client: LMStudioClient, server: ServerUnderTest
) -> None:
    with pytest.raises(ModelManagementUnsupportedError) as load_error:
        client.load_model(server.chat_model, context_length=2048)
    with pytest.raises(ModelManagementUnsupportedError) as list_error:
        client.loaded_models()
    with pytest.raises(ModelManagementUnsupportedError):
        client.download_model(server.chat_model).__next__()

    assert "(it lists models the OpenAI way only)" in load_error.value.message
    assert "`lms load <model>`" in str(load_error.value.hint)
    assert "`lms ps`" in str(list_error.value.hint)
    # The stand-in still answers: nothing it could misread was sent.
    assert client.chat([{"role": "user", "content": "Hi"}], max_tokens=2).text is not None


@pytest.mark.usefixtures("lmstudio_only")
def test_lm_studio_loads_lists_and_unloads_an_instance(
    client: LMStudioClient, server: ServerUnderTest
) -> None:
    model = client.resolve_model(server.chat_model).key
    before = {instance.id for instance in client.loaded_models()}

    loaded = client.load_model(model, context_length=2048)
    try:
        instances = {instance.id: instance for instance in client.loaded_models()}
        assert loaded.instance_id in instances
        assert instances[loaded.instance_id].model == model
        assert loaded.context_length is not None
        assert loaded.context_length <= 2048
        answer = client.chat([{"role": "user", "content": "Hi"}], model=model, max_tokens=4)
        assert answer.text is not None  # any instance of the key may answer
    finally:
        client.unload_model(loaded.instance_id)

    assert {instance.id for instance in client.loaded_models()} == before
