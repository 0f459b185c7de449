"""LM Studio's model runtime without leaving LangChain: load, chat, list, unload.

``ChatLMStudio.client`` (and ``LMStudioEmbeddings.client``) is the transport client
the model talks through; its ``load_model``, ``loaded_models``, ``unload_model``,
``download_model`` and ``warm_model`` manage LM Studio's models (LM Studio 0.4+).
Run against LM Studio: ``python examples/langchain_model_runtime.py [MODEL]``.
"""

from __future__ import annotations

import sys

from lmstudio_provider import LMStudioError, ModelManagementUnsupportedError
from lmstudio_provider.langchain import ChatLMStudio


def main(model: str = "qwen/qwen3-4b-2507") -> None:
    chat = ChatLMStudio(model=model, load_timeout=900)
    try:
        loaded = chat.client.load_model(model, context_length=8192)
    except ModelManagementUnsupportedError as error:  # LM Studio before 0.4, or llama.cpp
        print(error)
        return
    print(f"loaded {loaded.instance_id}: context {loaded.context_length} tokens")
    print(chat.invoke("Say hello in five words.").content)
    print([instance.id for instance in chat.client.loaded_models()])
    chat.client.unload_model(loaded.instance_id)  # a load_model load stays until unloaded


if __name__ == "__main__":
    try:
        main(*sys.argv[1:2])
    except LMStudioError as error:  # LM Studio down, model not downloaded, ...: message and hint
        sys.exit(str(error))
