"""The clock: the one module that touches SimPy's internals.

posim runs on SimPy's event queue.  Every other module of the engine uses
only what this module offers:

* :class:`Clock`, a :class:`simpy.Environment` whose current day is a plain
  attribute, :attr:`Clock.now` (SimPy's ``now`` is a property, and an item
  reads the clock about ten times), kept equal to SimPy's own ``_now`` by
  :meth:`Clock.step` and :meth:`Clock.run_until`;
* :meth:`Clock.run_through`, the game's clock: every event of a moment, moment
  by moment, stopping where the player is wanted;
* :meth:`Clock.run_until`, SimPy's ``run(until=day)`` as one tight loop that
  stops at exactly ``day`` (SimPy schedules its stop at ``now + (day - now)``,
  which can miss ``day`` by an ulp);
* :class:`Due`, a timeout born with its callback (one is built per piece of
  work and per request, so the saving counts), :meth:`Clock.call` for a
  callback after a delay, :meth:`Clock.first` for one at the current day
  before any ordinary event, and :meth:`Clock.at_horizon` for the event that
  closes the books.

Events keep SimPy's order: by day, then urgent before normal, then in the
order they were scheduled.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.events import NORMAL, URGENT

GC_THRESHOLD = 100_000
"""Generation-0 garbage-collection threshold while the clock runs (Python's default: 700)."""

Callback = Callable[[simpy.Event], None]
"""What SimPy calls when an event fires."""


class Due(simpy.Event):
    """A timeout born with its callback: ``env.timeout(delay)`` and
    ``callbacks.append`` in one step (the same event, scheduled the same way)."""

    def __init__(self, env: simpy.Environment, delay: float, callback: Callback) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        # env.schedule(self, NORMAL, delay), without the call: two of these per item.
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


class Clock(simpy.Environment):
    """SimPy's environment with the current day as a plain attribute (a float from day 0)."""

    now: float = 0.0  # shadows SimPy's property: a plain attribute, read on hot paths

    def __init__(self) -> None:
        super().__init__(0.0)
        self.now = 0.0

    def step(self) -> None:
        """Process the next event (SimPy's step, keeping :attr:`now` in step).

        :attr:`now` moves to the event's day *before* its callbacks run, so
        whatever they record or schedule happens at the event's day.
        """
        queue: list[Any] = self._queue
        if queue:
            self.now = queue[0][0]
        super().step()
        self.now = self._now

    def peek_day(self) -> float:
        """The day of the next event (infinity: none)."""
        return float(self.peek())

    def run_until(self, target: float) -> None:
        """Process every event before day ``target``, then stand at ``target`` exactly.

        Like SimPy's ``run(until=target)``: an urgent stop is queued at
        ``target``, so urgent events already queued for that day run and the
        rest wait.  A simulation allocates many short-lived objects and few
        cycles: the youngest generation is collected far less often meanwhile.
        """
        if target <= self._now:
            return
        stop = simpy.Event(self)  # never triggered: only the queue entry's marker
        queue: list[Any] = self._queue
        heappush(queue, (target, URGENT, next(self._eid), stop))
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], GC_THRESHOLD), *thresholds[1:])
        try:
            while True:
                now, _, _, event = heappop(queue)
                self._now = self.now = now
                if event is stop:
                    return
                callbacks, event.callbacks = event.callbacks, None
                for callback in callbacks:
                    callback(event)
                if not event._ok and not hasattr(event, "_defused"):
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    raise exc
        finally:
            gc.set_threshold(*thresholds)

    def run_through(
        self, target: float, stop: Callable[[], bool] | None = None, *, inclusive: bool = True
    ) -> bool:
        """Process the events moment by moment through day ``target`` (a person's game).

        Each moment's events run to the last (``inclusive``: those at ``target``
        too, and the clock then stands at ``target``; otherwise only those
        before it, and the clock stands at the last moment run).  With
        ``stop``, the clock stops at the first moment before ``target`` after
        whose events ``stop()`` is true; returns whether it stopped there.
        """
        while True:
            moment = self.peek()
            if moment > target or (moment == target and not inclusive):
                break
            while self.peek() == moment:
                self.step()
            if stop is not None and stop() and moment < target:
                return True
        if inclusive and target > self._now:
            self._now = self.now = target
        return False

    def call(self, delay: float, callback: Callback) -> Due:
        """Call ``callback(event)`` after ``delay`` days."""
        return Due(self, delay, callback)

    def first(self, callback: Callback) -> None:
        """Call ``callback(event)`` at the current day, before any ordinary event of that day."""
        event = simpy.Event(self)
        event._ok = True
        event._value = None
        event.callbacks.append(callback)
        self.schedule(event, URGENT)

    def at_horizon(self, day: float, callback: Callback) -> None:
        """Call ``callback(event)`` at ``day``, before anything else that day (the horizon)."""
        event = simpy.Event(self)
        event._ok = True
        event._value = None
        event.callbacks.append(callback)
        heappush(self._queue, (day, URGENT, next(self._eid), event))
