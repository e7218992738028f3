import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import asyncio
import inspect
import time
import warnings

import pytest


@pytest.fixture(autouse=True)
def _stray_tasks_checked(request):
    """Async tests: see `_reap_stray_tasks`."""
    if inspect.iscoroutinefunction(getattr(request.node, "function", None)):
        request.getfixturevalue("_reap_stray_tasks")
    yield


@pytest.fixture
async def _reap_stray_tasks():
    """After an async test and its fixtures: a task still running would be cancelled once by the
    loop's close, which then waits for it without a limit (a task that lost that one
    cancellation hung CI for 120 s, with no name). Cancel here, repeatedly, name what was left
    (a warning), and fail with its stack, rather than hang, if it will not end."""
    yield
    me = asyncio.current_task()
    left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    if not left:
        return
    names = ", ".join(f"{t.get_name()} ({t.get_coro().__qualname__})" for t in left)
    warnings.warn(f"tasks still running after the test: {names}", stacklevel=1)
    deadline = time.monotonic() + 5.0
    while left and time.monotonic() < deadline:
        for t in left:
            t.cancel()
        await asyncio.wait(left, timeout=0.2)
        left = [t for t in left if not t.done()]
    if left:
        stacks = "\n".join(f"{t.get_name()}: {t.get_stack()}" for t in left)
        for t in left:  # the loop's close would wait for it for ever
            asyncio.tasks._unregister_task(t)
        pytest.fail(f"tasks that would not end when cancelled:\n{stacks}")


@pytest.fixture(scope="module")
def default_cache():
    """The semantic cache as shipped (`seawall eval cache` without --config), one per test module."""
    from seawall.cache.eval import build_cache
    from seawall.cache.policy import CacheConfig

    return build_cache(CacheConfig().embedder)
