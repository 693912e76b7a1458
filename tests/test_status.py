"""``gate.status``: the countdowns the live line renders, on a clock given by hand."""

from __future__ import annotations

from gate.status import Countdown, Status, prefixed


def test_a_countdown_reads_its_elapsed_and_left_seconds_at_any_moment() -> None:
    wait = Countdown("waiting for the first message {elapsed}/{limit} s", 10.0, started=100.0)
    assert wait.render(now=104.2) == "waiting for the first message 4/10 s"
    assert wait.render(now=130.0) == "waiting for the first message 10/10 s"  # never past it
    bake = Countdown("step 20%: bake {left} s left", 60.0, lambda: "3 probe rounds passed",
                     started=0.0)  # fmt: skip
    assert bake.render(now=19.0) == "step 20%: bake 41 s left, 3 probe rounds passed"


def test_a_prefix_names_the_target_and_may_hold_braces() -> None:
    shown: list[Status] = []
    named = prefixed(shown.append, "eu{1}: ")
    named("reading Cloud Logging")
    named(Countdown("log settle {left} s", 3.0, started=0.0))
    assert shown[0] == "eu{1}: reading Cloud Logging"
    countdown = shown[1]
    assert isinstance(countdown, Countdown)
    assert countdown.render(now=1.0) == "eu{1}: log settle 2 s"
