"""Similar suggestions from an index each app process keeps up to date, not rebuilt per view.

The first look-up in a process reads the texts of the suggestions received since the start
of the same month last year and builds a ``similarity.SimilarityIndex`` in a worker thread
(so the event loop keeps serving other pages meanwhile). Every later look-up first adds the
suggestions registered since (``id`` above the last one indexed: a suggestion's topic, reason
and measures never change once it is received), then searches. Results are kept per
suggestion until the index grows, so reloading a page costs one cheap query.

Several app processes each keep their own index; each catches up with the others' new
suggestions on its next look-up.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date

import anyio.to_thread

from mediation.db import engine
from mediation.suggestions import similarity
from mediation.suggestions.tables import Suggestion

CACHED_RESULTS = 2048


class _Corpus:
    def __init__(self) -> None:
        self.index = similarity.SimilarityIndex()
        self.received: dict[Hashable, date] = {}
        self.since: date | None = None
        self.last_id = 0
        self.results: OrderedDict[tuple[int, int, date, int], list[tuple[Hashable, float]]] = (
            OrderedDict()
        )


_corpora: dict[int, _Corpus] = {}  # per engine (the database in use)
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)

_TEXT_COLUMNS = (
    Suggestion.id,
    Suggestion.title,
    Suggestion.reason,
    Suggestion.measures,
    Suggestion.received_on,
)


def _text(row: dict) -> similarity.SuggestionText:
    return similarity.SuggestionText(row["id"], row["title"], row["reason"], row["measures"])


def _build(rows: list[dict]) -> similarity.SimilarityIndex:
    index = similarity.SimilarityIndex()
    for row in rows:
        index.add(_text(row))
    return index


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def _corpus(since: date) -> _Corpus:
    """This process's index for the database in use, brought up to date."""
    db = id(engine())
    async with _lock():
        corpus = _corpora.get(db)
        newest = (
            await Suggestion.select(Suggestion.id).order_by(Suggestion.id, ascending=False).first()
        )
        top = newest["id"] if newest else 0
        if corpus is None or corpus.since is None or since < corpus.since or top < corpus.last_id:
            # First use, a window reaching further back, or suggestions deleted (a reset
            # database): index afresh.
            rows = (
                await Suggestion.select(*_TEXT_COLUMNS)
                .where(Suggestion.received_on >= since)
                .order_by(Suggestion.id)
            )
            corpus = _Corpus()
            corpus.index = await anyio.to_thread.run_sync(_build, rows)
            corpus.received = {r["id"]: r["received_on"] for r in rows}
            corpus.since = since
            corpus.last_id = max([top, *(r["id"] for r in rows)])
            _corpora[db] = corpus
        elif top > corpus.last_id:
            rows = (
                await Suggestion.select(*_TEXT_COLUMNS)
                .where(Suggestion.id > corpus.last_id)
                .order_by(Suggestion.id)
            )
            for row in rows:
                corpus.index.add(_text(row))
                corpus.received[row["id"]] = row["received_on"]
            corpus.last_id = max([corpus.last_id, *(r["id"] for r in rows)])
        return corpus


async def find_similar(
    item: similarity.SuggestionText, since: date, limit: int
) -> list[tuple[Hashable, float]]:
    """(id, score) of the suggestions received on or after ``since`` that are like ``item``
    (itself left out), best first: what ``similarity.find_similar`` gives over them."""
    corpus = await _corpus(since)
    key = (hash(item.id), len(corpus.index), since, limit)
    cached = corpus.results.get(key)
    if cached is not None:
        corpus.results.move_to_end(key)
        return cached

    def search() -> list[tuple[Hashable, float]]:
        found = corpus.index.search(item, limit=None)
        received = corpus.received
        return [(i, s) for i, s in found if received.get(i, date.min) >= since][:limit]

    found = await anyio.to_thread.run_sync(search)
    corpus.results[key] = found
    if len(corpus.results) > CACHED_RESULTS:
        corpus.results.popitem(last=False)
    return found
