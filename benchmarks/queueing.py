"""Closed forms of queueing theory that posim is checked against.

Written once, here, and used by the benchmark (to check that its bare-SimPy
and Ciw models are the M/M/3 flow they claim to be) and by the engine's truth
checks in ``tests/engine/test_queueing.py``.  Nothing here comes from posim.
"""

from __future__ import annotations

import math


def erlang_c(servers: int, offered: float) -> float:
    """Erlang's C: the chance an arrival waits in an M/M/c queue with offered load ``a``.

    ``offered`` is ``lambda / mu`` and must be below ``servers`` (a stable queue).
    """
    if not 0 <= offered < servers:
        raise ValueError(f"offered load {offered} is not below {servers} servers")
    top = offered**servers / math.factorial(servers) * servers / (servers - offered)
    return top / (sum(offered**k / math.factorial(k) for k in range(servers)) + top)


def mmc_lead_time(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in an M/M/c system (waiting + service): ``C(c, a) / (c mu - lambda) + 1 / mu``."""
    offered = arrival_rate / service_rate
    return erlang_c(servers, offered) / (servers * service_rate - arrival_rate) + 1 / service_rate
