"""A tool-calling agent on LM Studio, with langchain-core only: the model asks for tools,
the loop runs them and hands back the results, until the model answers.

Use a model trained for tool use (e.g. ``qwen2.5-7b-instruct``); the stand-in's 135M
model answers without calling tools, and the loop then simply prints its answer::

    python examples/langchain_agent.py "What is 12 times 7, plus 5?"
"""

from __future__ import annotations

import sys

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, tool

from lmstudio_provider import LMStudioError
from lmstudio_provider.langchain import ChatLMStudio

MAX_STEPS = 6


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def run_agent(question: str, llm: ChatLMStudio, tools: list[BaseTool]) -> str:
    by_name = {t.name: t for t in tools}
    agent = llm.bind_tools(tools)  # tool_choice="auto": the model decides
    messages: list[BaseMessage] = [
        SystemMessage("Use the tools for arithmetic. Answer in one sentence."),
        HumanMessage(question),
    ]
    for _ in range(MAX_STEPS):
        reply = agent.invoke(messages)
        assert isinstance(reply, AIMessage)
        messages.append(reply)
        if not reply.tool_calls:
            return reply.text
        for call in reply.tool_calls:
            print(f"  -> {call['name']}({call['args']})")
            messages.append(by_name[call["name"]].invoke(call))  # a ToolMessage
    return "(no answer after the step limit)"


def main() -> None:
    question = sys.argv[1] if len(sys.argv) > 1 else "What is 12 times 7, plus 5?"
    llm = ChatLMStudio(temperature=0, max_tokens=200)
    print(question)
    print(run_agent(question, llm, [multiply, add]))


if __name__ == "__main__":
    try:
        main()
    except LMStudioError as error:  # LM Studio down, no model loaded, ...: the message and hint
        sys.exit(str(error))
