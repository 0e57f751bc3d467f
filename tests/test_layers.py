"""pymap's layers hold: no import cycle, no layer importing one above it,
no private name imported (or reached) across modules, in pymap and in the
tests.  README's "Layers" section draws them.

Every import counts, at the top of a module or inside a function: an
import hidden in a function is still a tie between the two modules.
"""

import ast
import os

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.unit

# lower first; a module may import its own layer or any below it
LAYERS = ("base", "source", "parse", "emulate", "report", "modes", "command", "api")
PACKAGES = {"source", "parse", "emulate", "report", "modes", "command"}


def layer_of(module):
    parts = module.split(".")
    if module in ("pymap", "pymap.__main__"):
        return "api"  # read_process() and python -m pymap: above everything
    return parts[1] if parts[1] in PACKAGES else "base"


def python_files(folder):
    for directory, folders, files in os.walk(os.path.join(ROOT, folder)):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def module_name(path):
    name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return name[:-len(".__init__")] if name.endswith(".__init__") else name


MODULES = {module_name(path): path for folder in ("pymap", "tests") for path in python_files(folder)}


def imports(module):
    """(imported module, name or None, line) of every import in a module,
    relative ones resolved; ``name`` is the name taken from a module (None
    when the import takes a module itself)."""
    path = MODULES[module]
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                full = source + "." + alias.name
                if full in MODULES:
                    yield full, None, node.lineno
                else:
                    yield source, alias.name, node.lineno


def is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def pymap_graph():
    graph = {}
    for module in MODULES:
        if module.startswith("pymap"):
            graph[module] = {target for target, name, _ in imports(module)
                             if target.startswith("pymap") and not (target == "pymap" and name == "__version__")}
    return graph


def cycles(graph):
    """Each cycle of the graph once, found by a depth-first walk."""
    found, state, stack = [], {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


def test_the_walk_sees_pymaps_modules_and_imports():
    """The walk finds what it checks (else every check below passes on nothing)."""
    graph = pymap_graph()
    assert {"pymap.source", "pymap.parse.smaps", "pymap.emulate.listing", "pymap.report.sinks",
            "pymap.modes.listing", "pymap.command.cli"} <= set(graph)
    assert "pymap.parse.c_rules" in graph["pymap.emulate.listing"]
    assert "pymap.source" in graph["pymap.command.run"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycle():
    assert cycles(pymap_graph()) == []


def test_no_layer_imports_a_layer_above_it():
    upward = ["%s (%s) imports %s (%s)" % (module, layer_of(module), target, layer_of(target))
              for module, targets in sorted(pymap_graph().items()) for target in sorted(targets)
              if LAYERS.index(layer_of(target)) > LAYERS.index(layer_of(module))]
    assert upward == []


def test_no_private_name_is_imported_across_modules():
    """In pymap and in the tests: ``from module import _name`` is refused
    (a module's own package's __init__ included)."""
    private = ["%s:%d imports %s.%s" % (module, line, target, name)
               for module in sorted(MODULES) for target, name, line in imports(module)
               if name is not None and is_private(name) and target != module]
    assert private == []


def test_tests_reach_no_private_name_of_pymap():
    """No test reads or patches a private name of a pymap module or class:
    ``module._name``, ``Class._name`` or ``setattr(module, "_name", ...)``
    (monkeypatch's too).  A test that needs a knob uses a public one."""
    found = []
    for module in sorted(MODULES):
        if not module.startswith("tests"):
            continue
        path = MODULES[module]
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
        pymap_names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pymap"):
                pymap_names.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                pymap_names.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                                   if alias.name.startswith("pymap"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and is_private(node.attr):
                root = node.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in pymap_names:
                    found.append("%s:%d %s" % (module, node.lineno, ast.unparse(node)))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "setattr" and len(node.args) >= 2
                  and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
                  and is_private(node.args[1].value)):
                found.append("%s:%d %s" % (module, node.lineno, ast.unparse(node)))
    assert found == []


# The modules that open files themselves, and why; every other reads through
# the source layer (pymap/source/), so /proc and snapshots are read bounded,
# without following links, with errors mapped once.
OPENS_FILES = {
    "pymap.compat": "reads the installed pmap binary for its version",
    "pymap.language": "reads the message catalogs (.mo files)",
    "pymap.emulate.rcfile": "reads and creates pmap's rc file",
    "pymap.report.capture": "writes the capture folder",
    "pymap.report.textfile": "writes node_exporter's textfile (--textfile DIR)",
}


def test_only_the_source_layer_reads_proc():
    """open(), os.open(), os.listdir() and os.scandir() appear only in the
    source layer and the few modules above that have files of their own."""
    calls = {}
    for module, path in MODULES.items():
        if not module.startswith("pymap") or layer_of(module) == "source":
            continue
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in ("open", "os.open", "os.listdir", "os.scandir", "io.open", "os.fdopen"):
                    calls.setdefault(module, []).append("%s:%d" % (name, node.lineno))
    assert "pymap.report.capture" in calls  # the walk sees calls
    assert sorted(calls) == sorted(OPENS_FILES), calls
