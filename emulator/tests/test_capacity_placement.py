"""Which capacity provider a service's tasks run on (ecs/capacity.py): the
base first, then the shares of the weights, at every count (the proportions
of the ECS developer guide's capacity provider strategies)."""
import pytest

from pocstack_emulator.ecs.capacity import next_provider


def place(strategy, count):
    running = []
    for _ in range(count):
        running.append(next_provider(strategy, running))
    return running


def test_no_strategy_is_the_fargate_launch_type():
    assert place(None, 3) == ["FARGATE"] * 3


def test_the_base_comes_first_then_the_weights_share_the_rest():
    strategy = [{"capacityProvider": "FARGATE", "base": 2, "weight": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 3}]
    placed = place(strategy, 10)
    assert placed[:2] == ["FARGATE", "FARGATE"]
    # of the 8 beyond the base: 2 on FARGATE, 6 on Spot; and 1:3 after every fourth
    assert placed[2:].count("FARGATE") == 2 and placed[2:].count("FARGATE_SPOT") == 6
    for n in (4, 8):
        beyond = placed[2:2 + n]
        assert beyond.count("FARGATE_SPOT") == 3 * beyond.count("FARGATE"), beyond


@pytest.mark.parametrize("strategy, expected", [
    ([{"capacityProvider": "FARGATE_SPOT", "weight": 1}], ["FARGATE_SPOT"] * 4),
    # a provider of weight 0 gets only its base
    ([{"capacityProvider": "FARGATE", "base": 1, "weight": 0}, {"capacityProvider": "FARGATE_SPOT", "weight": 1}],
     ["FARGATE"] + ["FARGATE_SPOT"] * 3),
    ([{"capacityProvider": "FARGATE", "weight": 1}, {"capacityProvider": "FARGATE_SPOT", "weight": 1}],
     ["FARGATE", "FARGATE_SPOT", "FARGATE", "FARGATE_SPOT"]),
])
def test_shares(strategy, expected):
    assert place(strategy, 4) == expected


def test_replacements_restore_the_share():
    strategy = [{"capacityProvider": "FARGATE", "weight": 1}, {"capacityProvider": "FARGATE_SPOT", "weight": 3}]
    running = place(strategy, 4)
    running.remove("FARGATE_SPOT")  # a Spot task stopped
    assert next_provider(strategy, running) == "FARGATE_SPOT"
