"""Structured output with a pydantic model: LM Studio constrains the answer to the schema.

``method="json_schema"`` (the default) uses LM Studio's constrained decoding. The
stand-in (llama.cpp's server) does not accept ``json_schema``: against it this example
shows the typed error and its hint instead::

    python examples/langchain_structured_output.py
"""

from __future__ import annotations

import sys

from pydantic import BaseModel, Field

from lmstudio_provider import LMStudioError
from lmstudio_provider.langchain import ChatLMStudio


class Movie(BaseModel):
    """A film and the facts asked about it."""

    title: str = Field(description="The film's title")
    year: int = Field(description="Year of release")
    director: str = Field(description="Who directed it")


def main() -> None:
    llm = ChatLMStudio(temperature=0, max_tokens=200)
    structured = llm.with_structured_output(Movie, include_raw=True)
    result = structured.invoke("Tell me about the film Alien (1979).")
    if result["parsing_error"] is not None:
        print(f"The answer did not parse: {result['parsing_error']}")
        print(f"Raw answer: {result['raw'].text!r}")
        return
    movie: Movie = result["parsed"]
    print(movie.model_dump_json(indent=2))


if __name__ == "__main__":
    try:
        main()
    except LMStudioError as error:  # LM Studio down, no model loaded, ...: the message and hint
        sys.exit(str(error))
