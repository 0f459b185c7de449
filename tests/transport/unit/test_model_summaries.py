"""Text summaries of ``ModelInfo`` and ``LoadedInstance`` (``_models``)."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport import LoadedInstance, ModelInfo


@pytest.mark.parametrize(
    ("loaded", "maximum", "text"),
    [(4096, 32768, "4096/32768"), (None, 32768, "32768"), (4096, None, "4096"), (None, None, "")],
)
def test_context_as_loaded_over_maximum(loaded: int | None, maximum: int | None, text: str) -> None:
    model = ModelInfo("m", loaded_context_length=loaded, max_context_length=maximum)

    assert model.context_summary() == text


def test_an_instance_shows_the_load_options_that_tell_instances_apart() -> None:
    config = {"context_length": 8192, "eval_batch_size": 512, "flash_attention": False}

    assert LoadedInstance("a", "m", 8192, config).config_summary() == (
        "flash_attention=False, eval_batch_size=512"
    )
    assert LoadedInstance("a", "m", 8192, {"context_length": 8192}).config_summary() == ""
