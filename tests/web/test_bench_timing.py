"""bench/timeline.py times its cases in turn, slice after slice (the shared machine's drift
falls on every case alike), and pools each case's slices as one measurement."""
from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

import pytest

# appended: bench/crm.py and bench/recommender.py must never shadow the packages
sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))
import timeline  # noqa: E402
from timeline import POINTS, LoadResult, in_turn, pool  # noqa: E402


def test_the_cases_take_turns_each_turn_opened_by_the_next():
    cases = ["hello", "timeline_one_url", "timeline", "child_home"]
    order = in_turn(cases, 3)
    assert order == ["hello", "timeline_one_url", "timeline", "child_home",
                     "timeline_one_url", "timeline", "child_home", "hello",
                     "timeline", "child_home", "hello", "timeline_one_url"]
    assert in_turn(["hello"], 2) == ["hello", "hello"]


def _slice(samples_ms: list[float], seconds: float) -> LoadResult:
    samples = sorted(samples_ms)
    points = [samples[min(len(samples) - 1, int((i + 0.5) * len(samples) / POINTS))]
              for i in range(POINTS)]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return LoadResult(requests=len(samples), seconds=seconds, p50_ms=cuts[49],
                      p95_ms=cuts[94], p99_ms=cuts[98], non_200=1, socket_errors=0,
                      bytes=10, points=points)


def test_slices_pool_into_one_measurement_of_all_their_answers():
    rng = random.Random(7)
    fast = [rng.uniform(5, 15) for _ in range(3000)]    # a quiet moment
    slow = [rng.uniform(50, 150) for _ in range(1000)]  # a busy one, a third as many answers
    pooled = pool([_slice(fast, 2.0), _slice(slow, 2.0)])
    assert pooled.requests == 4000 and pooled.seconds == 4.0 and pooled.req_per_s == 1000
    assert pooled.non_200 == 2 and pooled.bytes == 20
    every = statistics.quantiles(fast + slow, n=100, method="inclusive")
    # the percentiles of all 4,000 answers, not the median of the two slices' percentiles
    assert abs(pooled.p50_ms - every[49]) < 0.5
    assert abs(pooled.p95_ms - every[94]) < 1.5
    assert abs(pooled.p99_ms - every[98]) < 1.5
    assert pooled.p95_ms > 100  # the busy slice's answers are a quarter: p95 is among them
    assert pool([_slice(fast, 2.0)]).p95_ms == _slice(fast, 2.0).p95_ms


def test_a_slice_is_whole_seconds_and_no_longer_than_the_duration():
    args = timeline.parse_args(["--duration", "10"])
    assert args.slice == 2
    assert timeline.parse_args(["--duration", "10", "--slice", "5"]).slice == 5
    for bad in (["--duration", "4", "--slice", "5"], ["--slice", "0"]):
        with pytest.raises(SystemExit) as exit_:
            timeline.parse_args(bad)
        assert exit_.value.code == 2


# --- bench/compare.py -----------------------------------------------------------------------

def test_compare_takes_cases_with_hello_and_known_names_only(capsys):
    import compare

    args = compare.parse_args(["--old", "HEAD~1", "--cases", "hello, child_home"])
    assert args.cases == ["hello", "child_home"] and args.new is None and args.rounds == 8
    for bad in (["--cases", "child_home"], ["--cases", "hello,shop"], ["--rounds", "0"]):
        with pytest.raises(SystemExit):
            compare.parse_args(["--old", "HEAD~1", *bad])
    assert "must include hello" in capsys.readouterr().err


def test_compare_refuses_a_revision_with_other_migrations(tmp_path):
    """Both versions serve one database: an old revision whose migrations differ from the
    working tree's would serve a schema it does not know."""
    import compare
    from _common import BenchError

    first = compare._git("rev-list", "--max-parents=0", "HEAD").splitlines()[-1]
    run = type("FakeRun", (), {"tmp": tmp_path, "on_exit": lambda *a, **k: None})()
    with pytest.raises(BenchError, match="other migrations"):
        compare.worktree(run, first, "old")
    assert not (tmp_path / "old").exists()
