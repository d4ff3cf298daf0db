"""pytest hooks of the whole checkout (tests/ and emulator/tests/): the run's
"measured" section, and how pytest-xdist groups and orders the test modules."""
import pytest

# Numbers a test measures on the way (retries under throttling, wall times):
# printed in one section at the end of the run, so CI's log carries them
# without `-s`. They travel as the report's user_properties, which pytest-xdist
# brings back from its workers. Reported, never asserted on as timings.
_MEASURED = []


@pytest.fixture
def measured(request):
    """measured("text"): a line for the run's closing "measured" section."""
    return lambda line: request.node.user_properties.append(("measured", line))


def pytest_runtest_logreport(report):
    if report.when == "teardown":
        _MEASURED.extend(f"{report.nodeid}: {line}" for key, line in report.user_properties if key == "measured")


def pytest_terminal_summary(terminalreporter):
    if _MEASURED:
        terminalreporter.section("measured")
        for line in _MEASURED:
            terminalreporter.write_line(line)


# tests/run.sh runs pytest-xdist with --dist loadgroup --no-loadscope-reorder:
# a test module is one group (its tests share an emulator and run in order),
# the audit and secret leak tests share one deployment, and each molecule
# scenario is a group of its own. Groups start in the order below, the longest
# first; xdist gives each worker two groups at the start, so the third is a
# short one and the longest module does not get another long one queued
# behind it. The rest keep their collection order.
_FIRST = ["test_data_plane", "test_lifecycle", "test_alb_data_plane", "test_capacity_and_platform", "test_sidecars",
          "test_role_docs",
          "test_many_services", "test_secrets_manager",
          "molecule-site", "test_alb_routing", "test_data_plane_failures", "test_real_account_path",
          "test_replacement_without_downtime", "molecule-fargate_service", "stack", "test_preflight",
          "test_galaxy"]


def _group(item):
    module = item.module.__name__.rsplit(".", 1)[-1]
    if module in ("test_audit", "test_secret_leak"):
        return "stack"
    scenario = getattr(item, "callspec", None) and item.callspec.params.get("scenario")
    if module == "test_molecule" and scenario:
        return f"molecule-{scenario}"
    return module


# tryfirst: xdist's worker turns the xdist_group marks into node ids in its own
# pytest_collection_modifyitems, which must see them.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    rank = {name: i for i, name in enumerate(_FIRST)}
    items.sort(key=lambda item: rank.get(_group(item), len(_FIRST)))
