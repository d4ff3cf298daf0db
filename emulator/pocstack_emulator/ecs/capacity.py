"""Which Fargate capacity provider a service's next task runs on.

AWS (ECS developer guide, "Capacity provider strategies"): the provider with
a `base` runs that many tasks first; the tasks beyond the bases are shared
among the providers by `weight` (with FARGATE weight 1 and FARGATE_SPOT
weight 3, three of every four). ECS does not document the order within a
share; here each new task goes to the provider furthest below its weighted
share of the tasks beyond the base (ties: the strategy's order), which gives
AWS's proportions at every count.

moto 5.2.5 records no provider per task; before this the emulator put every
task on the strategy's first provider, so a Spot share was never visible.
"""


def next_provider(strategy, running):
    """`strategy`: [{capacityProvider, weight, base}] as CreateService stores it
    (none: the FARGATE launch type); `running`: the capacity provider names of
    the service's live tasks. The provider the next task is placed on."""
    if not strategy:
        return "FARGATE"
    counts = {s["capacityProvider"]: running.count(s["capacityProvider"]) for s in strategy}
    for item in strategy:
        if counts[item["capacityProvider"]] < int(item.get("base") or 0):
            return item["capacityProvider"]
    beyond = {s["capacityProvider"]: counts[s["capacityProvider"]] - int(s.get("base") or 0) for s in strategy}
    weighted = [s for s in strategy if int(s.get("weight") or 0) > 0] or strategy[:1]
    total = sum(beyond[s["capacityProvider"]] for s in weighted) + 1
    weights = sum(int(s.get("weight") or 1) for s in weighted)
    # the largest shortfall below its share once this task is placed
    return max(weighted, key=lambda s: (total * int(s.get("weight") or 1) / weights - beyond[s["capacityProvider"]],
                                        -weighted.index(s)))["capacityProvider"]
