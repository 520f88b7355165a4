"""Wall-clock timing shared by the benchmark scripts."""

import time


def timings(fn, runs, warmup):
    """Calls `fn` `warmup` times untimed, then `runs` times; returns each run's seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times
