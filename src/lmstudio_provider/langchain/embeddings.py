"""``LMStudioEmbeddings``: LM Studio's embedding models as LangChain embeddings."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings
from pydantic import Field

from lmstudio_provider.langchain._clients import LMStudioConnection
from lmstudio_provider.transport import EMBED_BATCH_SIZE

__all__ = ["LMStudioEmbeddings"]


class LMStudioEmbeddings(LMStudioConnection, Embeddings):
    """LM Studio embedding model integration.

    Setup:
        Install the LangChain extra and download an embedding model in LM Studio
        (``lms get nomic-embed-text``); LM Studio loads it just in time.

        .. code-block:: bash

            pip install "lmstudio-provider[langchain]"

    Key init args:
        model: str | None
            An embedding model id or a unique part of one; unset: the loaded (else a
            downloaded) embedding model. A chat model is refused with the list of
            embedding models.
        batch_size: int
            Texts sent per request (default 64).
        base_url, api_key, timeout, max_retries, settings, http_client, http_async_client:
            As for ``ChatLMStudio``.

    Instantiate:
        .. code-block:: python

            from lmstudio_provider.langchain import LMStudioEmbeddings

            embed = LMStudioEmbeddings(model="text-embedding-nomic-embed-text-v1.5")

    Embed single text:
        .. code-block:: python

            embed.embed_query("The meaning of life is 42")[:3]  # [-0.0246, -0.0075, 0.0039]

    Embed multiple texts:
        .. code-block:: python

            vectors = embed.embed_documents(["Document 1...", "Document 2..."])  # 2 x 768

    Async:
        .. code-block:: python

            await embed.aembed_query("The meaning of life is 42")
            await embed.aembed_documents(["Document 1...", "Document 2..."])
    """

    model: str | None = None
    """Embedding model id or a unique part of one; unset: the loaded embedding model."""

    batch_size: int = Field(default=EMBED_BATCH_SIZE, ge=1)
    """Texts per request; longer lists are sent in batches, vectors in input order."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts``; one vector per text, in order."""
        if not texts:
            return []
        result = self.client.embed(texts, model=self.model, batch_size=self.batch_size)
        return result.vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` asynchronously; one vector per text, in order."""
        if not texts:
            return []
        client = self.async_client
        result = await client.embed(texts, model=self.model, batch_size=self.batch_size)
        return result.vectors

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one text asynchronously."""
        return (await self.aembed_documents([text]))[0]
