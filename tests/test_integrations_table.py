"""The integrations table has one row for each integration the installed SDK ships."""
import ast
import os

from sentry_bootstrap import integrations_table, sdk_compat
from sentry_bootstrap.config.integration_options import sdk_dir


def _sdk_integration_classes():
    """Class paths of every `...Integration(Integration)` class in the SDK's integration modules,
    read from the source (importing them would import their frameworks)."""
    root = os.path.join(sdk_dir(), "integrations")
    found = set()
    for base, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith("_")]
        for name in files:
            if not name.endswith(".py") or (name.startswith("_") and name != "__init__.py"):
                continue
            path = os.path.join(base, name)
            module = "sentry_sdk." + os.path.relpath(path, sdk_dir())[:-3].replace(os.sep, ".")
            module = module[:-len(".__init__")] if module.endswith(".__init__") else module
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and node.name.endswith("Integration") and any(
                        getattr(b, "id", "").endswith("Integration") for b in node.bases):
                    found.add("{}:{}".format(module, node.name))
    return found


def test_every_sdk_integration_has_one_row():
    """Each integration class of the installed SDK is in the table (or says why it can't be)."""
    rows = {row.class_path for row in integrations_table.ROWS}
    missing = _sdk_integration_classes() - rows - set(integrations_table.NOT_CONFIGURABLE)
    assert not missing, "add rows to sentry_bootstrap/integrations_table.py: {}".format(sorted(missing))
    assert len(integrations_table.BY_NAME) == len(integrations_table.ROWS)


def test_every_row_names_a_class_the_sdk_has():
    """No row points at a class the SDK doesn't define (a rename in the SDK fails here); on 3.x,
    but for the integrations sdk_compat says 3.x removed (enabling one is a located error)."""
    rows = {row.class_path for row in integrations_table.ROWS}
    if sdk_compat.is_sdk3():
        rows -= {integrations_table.BY_NAME[n].class_path for n in sdk_compat.REMOVED_INTEGRATIONS_IN_SDK3}
    assert rows <= _sdk_integration_classes()


def test_min_versions_are_the_sdks():
    """The table's version floors are the SDK's own `_MIN_VERSIONS` (2.x's: on 3.x the plan reads
    the SDK's floors, which it raised)."""
    if sdk_compat.is_sdk3():
        from sentry_bootstrap.activation.integrations import plan_floors

        assert plan_floors() == sdk_compat.min_versions()
        return
    sdk = sdk_compat.min_versions()
    for row in integrations_table.ROWS:
        assert row.min_version == sdk.get(row.name), row.name


def test_auto_rows_know_when_to_start():
    """Every auto row names the distribution that makes it apply and the module that triggers it."""
    for row in integrations_table.of_kind(integrations_table.AUTO):
        assert row.distributions and row.trigger, row.name
    for row in integrations_table.of_kind(integrations_table.DEFAULT):
        assert row.trigger is None, row.name


def test_every_integration_the_sdk_leaves_opt_in_has_a_decision():
    """Each integration the SDK neither enables by default nor auto-enables says here whether it
    stays opt-in or is switched on with its module, and why (starting with its kind)."""
    sdk_on = {path.split(".")[-2] for path in
              sdk_compat.default_integrations() + sdk_compat.auto_enabling_integrations()}
    spelled = {integrations_table.OPT_IN: "opt-in: ", integrations_table.AUTO: "auto: "}
    for row in integrations_table.ROWS:
        if row.kind == integrations_table.OPT_IN or (
                row.kind == integrations_table.AUTO and row.class_path.split(":")[0].split(".")[-1]
                not in sdk_on and row.name not in sdk_on):
            assert row.decision and row.decision.startswith(spelled[row.kind]), row.name
            assert len(row.decision) > len(spelled[row.kind]) + 20, row.name  # a reason, not a word
    for name in integrations_table.CRASH_ONLY:
        assert integrations_table.BY_NAME[name].kind == integrations_table.AUTO, name
