"""The README's chat examples work: each phrase of the "Say, for example" table is sent to the real
backend (offline `local` agent, POST /api/chat) against a small task list, and must be acted on
(tools called, all succeeding) or, for greetings and help, answered without a failed action.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docscheck
import httpx

#: The task list each phrase starts from: what the README's examples refer to.
SEED: list[dict[str, Any]] = [
    {"title": "buy milk"},
    {"title": "call mom"},
    {"title": "pay rent"},
    {"title": "buy bread"},
    {"title": "walk the dog", "priority": "low"},
    {"title": "send the report", "completed": True},
]
#: Phrases that undo a completion need the task completed first.
REOPEN = re.compile(r"isn't done|not done|reopen", re.I)


def readme_examples() -> list[tuple[str, str]]:
    chat = docscheck.section(docscheck.load("README.md").text, "The chat assistant")
    examples = []
    for cells in docscheck.table_rows(chat):
        intent = cells[0]
        for phrase in re.findall(r"\u201c([^\u201d]+)\u201d|\"([^\"]+)\"", cells[1]):
            examples.append((intent, phrase[0] or phrase[1]))
    return examples


EXAMPLES = readme_examples()


def test_the_readme_shows_examples_for_every_kind_of_request() -> None:
    intents = {intent for intent, _ in EXAMPLES}
    assert {"add tasks", "see them", "complete / reopen", "change", "delete", "get help"} <= intents
    assert len(EXAMPLES) >= 15


def try_example(backend: str, number: int, intent: str, phrase: str) -> str | None:
    """Run one example as a fresh user on the seed list; the problem, or None when understood."""
    with httpx.Client(base_url=backend, timeout=30) as client:
        account = {"email": f"chat-example-{number}@example.com", "password": "example-password"}
        signup = client.post("/api/auth/signup", json=account)
        assert signup.status_code == 201, signup.text
        client.headers["Authorization"] = f"Bearer {signup.json()['access_token']}"
        for task in SEED:
            body = dict(task)
            if REOPEN.search(phrase) and task["title"] == "buy milk":
                body["completed"] = True
            assert client.post("/api/tasks", json=body).status_code == 201
        answer = client.post("/api/chat", json={"message": phrase})
    if answer.status_code != 200:
        return f"{phrase!r}: HTTP {answer.status_code} {answer.text}"
    body = answer.json()
    failed = [a for a in body["actions"] if not a["ok"]]
    if not body["reply"].strip():
        return f"{phrase!r}: empty reply"
    if failed:
        return f"{phrase!r}: failed actions {failed}; reply {body['reply']!r}"
    if intent != "get help" and not body["actions"]:
        return f"{phrase!r} did nothing; reply {body['reply']!r}"
    return None


def test_readme_chat_examples_are_understood(backend: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda e: try_example(backend, e[0], *e[1]), enumerate(EXAMPLES)))
    # the check can fail: gibberish is answered, but nothing is done
    assert try_example(backend, len(EXAMPLES), "add tasks", "blorf zzzt qwx") is not None
    problems = [r for r in results if r]
    assert not problems, "README chat examples the local agent does not handle:\n" + "\n".join(
        problems
    )
