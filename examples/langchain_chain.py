"""A LangChain chain on LM Studio: prompt template | ChatLMStudio | output parser.

Start LM Studio's server with a model loaded (or the stand-in:
``python -m lmstudio_provider.standin --port 1234``), then::

    python examples/langchain_chain.py "the sea"
"""

from __future__ import annotations

import sys

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from lmstudio_provider import LMStudioError
from lmstudio_provider.langchain import ChatLMStudio


def main() -> None:
    topic = sys.argv[1] if len(sys.argv) > 1 else "the sea"
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a poet who answers in at most four lines."),
            ("human", "Write a short poem about {topic}."),
        ]
    )
    llm = ChatLMStudio(temperature=0.7, max_tokens=120)  # the loaded model
    chain = prompt | llm | StrOutputParser()

    print(chain.invoke({"topic": topic}))
    print("--- streamed ---")
    for piece in chain.stream({"topic": "mountains"}):
        print(piece, end="", flush=True)
    print()


if __name__ == "__main__":
    try:
        main()
    except LMStudioError as error:  # LM Studio down, no model loaded, ...: the message and hint
        sys.exit(str(error))
