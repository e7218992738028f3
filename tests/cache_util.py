"""Shared by the cache look-alike tests: a one-user-message chat request, as `seawall eval cache` stores one."""


def chat(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}], "temperature": 0}
