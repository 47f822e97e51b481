"""What posim is timed against: the M/M/3 flow in bare SimPy and in Ciw.

Two bare-SimPy models (Store-based, with long-lived servers, and the textbook
one, a process per job requesting a ``Resource``) and Ciw's, all three at the
rates of :mod:`benchmarks.scenarios`; and the Erlang C mean time in system
(:mod:`benchmarks.queueing`) that checks they are the flow they claim to be.
Nothing here comes from posim.
"""

from __future__ import annotations

import math
import random
from typing import Any

import simpy

from benchmarks.queueing import mmc_lead_time
from benchmarks.scenarios import MM3_LOAD, MM3_SERVERS, MM3_SERVICE_RATE


def simpy_store_mm3(
    horizon: float, seed: int, service_rate: float = MM3_SERVICE_RATE
) -> tuple[int, float]:
    """Bare SimPy, Store-based: arrivals put jobs in a store, three long-lived servers pull.

    Returns (items done, mean lead time).
    """
    env = simpy.Environment()
    arrival_rng = random.Random(seed)
    work_rng = random.Random(seed + 1)
    arrival_rate = MM3_LOAD * MM3_SERVERS * service_rate
    store = simpy.Store(env)
    done = [0, 0.0]

    def arrivals() -> Any:
        timeout, gap, put = env.timeout, arrival_rng.expovariate, store.put
        while True:
            yield timeout(gap(arrival_rate))
            put(env.now)

    def server() -> Any:
        timeout, work, get = env.timeout, work_rng.expovariate, store.get
        while True:
            arrived = yield get()
            yield timeout(work(service_rate))
            done[0] += 1
            done[1] += env.now - arrived

    env.process(arrivals())
    for _ in range(MM3_SERVERS):
        env.process(server())
    env.run(until=horizon)
    count = int(done[0])
    return count, (done[1] / count if count else math.nan)


def simpy_resource_mm3(
    horizon: float, seed: int, service_rate: float = MM3_SERVICE_RATE
) -> tuple[int, float]:
    """Bare SimPy, Resource-based: one process per job requests a capacity-3 resource.

    Returns (items done, mean lead time).
    """
    env = simpy.Environment()
    arrival_rng = random.Random(seed)
    work_rng = random.Random(seed + 1)
    arrival_rate = MM3_LOAD * MM3_SERVERS * service_rate
    team = simpy.Resource(env, capacity=MM3_SERVERS)
    done = [0, 0.0]

    def job(arrived: float) -> Any:
        with team.request() as request:
            yield request
            yield env.timeout(work_rng.expovariate(service_rate))
        done[0] += 1
        done[1] += env.now - arrived

    def arrivals() -> Any:
        timeout, gap, process = env.timeout, arrival_rng.expovariate, env.process
        while True:
            yield timeout(gap(arrival_rate))
            process(job(env.now))

    env.process(arrivals())
    env.run(until=horizon)
    count = int(done[0])
    return count, (done[1] / count if count else math.nan)


def ciw_available() -> bool:
    """Whether Ciw (the ``bench`` extra) is installed."""
    try:
        import ciw  # noqa: F401
    except ImportError:
        return False
    return True


def ciw_mm3(horizon: float, seed: int, service_rate: float = MM3_SERVICE_RATE) -> tuple[int, float]:
    """The M/M/3 flow in Ciw. Returns (items done, mean lead time)."""
    import ciw

    arrival_rate = MM3_LOAD * MM3_SERVERS * service_rate
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=service_rate)],
        number_of_servers=[MM3_SERVERS],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(horizon)
    records = simulation.get_all_records()
    count = len(records)
    total = sum(r.exit_date - r.arrival_date for r in records)
    return count, (total / count if count else math.nan)


def erlang_c_lead_time(
    arrival_rate: float = MM3_LOAD * MM3_SERVERS * MM3_SERVICE_RATE,
    service_rate: float = MM3_SERVICE_RATE,
    servers: int = MM3_SERVERS,
) -> float:
    """Mean time in system of the M/M/3 flow (Erlang C), to check the models above."""
    return mmc_lead_time(arrival_rate, service_rate, servers)
