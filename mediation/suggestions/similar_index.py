"""Similar suggestions from an index each app process keeps up to date, not rebuilt per view.

The first look-up in a process reads the texts of the suggestions received since the start
of the same month last year and builds a ``similarity.SimilarityIndex`` in a worker thread
(so the event loop keeps serving other pages meanwhile); suggestions with the same text
(topic, reason and measures) share one vector. Every later look-up first adds the
suggestions registered since (``id`` above the last one indexed: a suggestion's texts never
change once it is received), then searches, also in a worker thread. Results are kept per
suggestion until a new suggestion arrives, so reloading a page costs two cheap queries.

Several app processes each keep their own index; each catches up with the others' new
suggestions on its next look-up.
"""

from __future__ import annotations

import asyncio
import heapq
import weakref
from collections import OrderedDict
from datetime import date

import anyio.to_thread

from mediation.db import engine
from mediation.suggestions import similarity
from mediation.suggestions.tables import Suggestion

CACHED_RESULTS = 2048


class _Corpus:
    def __init__(self) -> None:
        # One vector per distinct text (topic, reason, measures): suggestions sent in the same
        # words (a petition passed round, a message sent twice) share it.
        self.index = similarity.SimilarityIndex()
        self.groups: dict[tuple[str, str, str], list[int]] = {}
        self.received: dict[int, date] = {}
        self.since: date | None = None
        self.last_id = 0
        self.results: OrderedDict[tuple[int, int, date, int], list[tuple[int, float]]] = (
            OrderedDict()
        )

    def add(self, row: dict) -> None:
        key = (row["title"] or "", row["reason"] or "", row["measures"] or "")
        self.received[row["id"]] = row["received_on"]
        ids = self.groups.get(key)
        if ids is not None:
            ids.append(row["id"])
            return
        self.groups[key] = [row["id"]]
        self.index.add(similarity.SuggestionText(key, *key))

    def search(
        self, item: similarity.SuggestionText, since: date, limit: int
    ) -> list[tuple[int, float]]:
        """What ``similarity.find_similar`` gives over the window's suggestions, ``item``
        left out: best first, ties in the order the suggestions came in."""
        probe = similarity.SuggestionText(_PROBE, item.topic, item.reason, item.measures)
        tiers: dict[float, list[list[int]]] = {}
        for key, score in self.index.scores(probe):
            if score >= similarity.DEFAULT_THRESHOLD:
                # The keys are the groups' keys added above; similarity keeps them as Hashable.
                tiers.setdefault(score, []).append(self.groups[key])  # type: ignore[index]
        found: list[tuple[int, float]] = []
        for score in sorted(tiers, reverse=True):
            # Each group's ids ascend: merged, a tier comes out in the order of arrival.
            for suggestion_id in heapq.merge(*tiers[score]):
                if suggestion_id != item.id and self.received[suggestion_id] >= since:
                    found.append((suggestion_id, score))
                    if len(found) >= limit:
                        return found
        return found


_PROBE = object()  # the id of a text searched for: matches no indexed text's key
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


def _build(rows: list[dict]) -> _Corpus:
    corpus = _Corpus()
    for row in rows:
        corpus.add(row)
    return corpus


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
            corpus = await anyio.to_thread.run_sync(_build, rows)
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
                corpus.add(row)
            corpus.last_id = max([corpus.last_id, *(r["id"] for r in rows)])
        return corpus


async def find_similar(
    item: similarity.SuggestionText, since: date, limit: int
) -> list[tuple[int, float]]:
    """(id, score) of the suggestions received on or after ``since`` that are like ``item``
    (itself left out), best first: what ``similarity.find_similar`` gives over them."""
    corpus = await _corpus(since)
    key = (hash(item.id), corpus.last_id, since, limit)
    cached = corpus.results.get(key)
    if cached is not None:
        corpus.results.move_to_end(key)
        return cached
    found = await anyio.to_thread.run_sync(corpus.search, item, since, limit)
    corpus.results[key] = found
    if len(corpus.results) > CACHED_RESULTS:
        corpus.results.popitem(last=False)
    return found
