"""LangChain integration: ``ChatLMStudio`` and ``LMStudioEmbeddings``.

Needs ``langchain-core``: ``pip install "lmstudio-provider[langchain]"``.
"""

from lmstudio_provider.langchain.chat_models import ChatLMStudio
from lmstudio_provider.langchain.embeddings import LMStudioEmbeddings
from lmstudio_provider.transport import StructuredOutputTruncatedError

__all__ = ["ChatLMStudio", "LMStudioEmbeddings", "StructuredOutputTruncatedError"]
