"""The package around the code: README's quick start, .ci/run, setup.cfg,
the entry points."""

import configparser
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e

CI_RUN = os.path.join(ROOT, ".ci", "run")


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def _quick_start():
    match = re.search(r"^```[^\n]*\n(.*?)^```", _read("README.md"), re.M | re.S)
    assert match, "README.md has no fenced code block"
    return match.group(1).splitlines()


def _setup_cfg():
    config = configparser.ConfigParser(interpolation=None)
    config.read(os.path.join(ROOT, "setup.cfg"))
    return config


def test_quick_start_is_two_commands_that_need_no_system_pip():
    install_and_run, run_tests = _quick_start()
    for command in (install_and_run, run_tests):
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install ")
        assert " sudo " not in command and "--break-system-packages" not in command
    assert re.search(r"&& \.venv/bin/pymap -x \$\$$", install_and_run)
    assert "pip install -e '.[test]'" in run_tests and run_tests.endswith(".venv/bin/python -m pytest -q")


def test_readme_keeps_the_sections_others_fill_in():
    headings = re.findall(r"^## (.*)$", _read("README.md"), re.M)
    for heading in ("Python API", "Snapshots", "JSON and reconcile", "Performance", "Testing",
                    "Which pmap release it follows", "pymap's own options", "Exit statuses"):
        assert heading in headings


CLEAN_ENVIRON = {"PATH": "/usr/bin:/bin", "LANG": "C"}


def _ci_copy(tmp_path, readme):
    """.ci/run beside a README of our own, committed in a repository of its
    own, to see what it does with it."""
    tree = tmp_path / "tree"
    (tree / ".ci").mkdir(parents=True)
    shutil.copy(CI_RUN, tree / ".ci" / "run")
    (tree / "README.md").write_text(readme)
    git = dict(CLEAN_ENVIRON, HOME=str(tmp_path), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "ci test"]):
        subprocess.run(["git"] + command, cwd=tree, env=git, check=True, capture_output=True, timeout=60)
    return str(tree / ".ci" / "run")


def _run_ci(script, **environ):
    env = dict(CLEAN_ENVIRON, HOME="/nonexistent", **environ)
    return subprocess.run(["bash", script], capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
                          timeout=60)


def test_ci_runs_the_readme_test_command():
    assert os.access(CI_RUN, os.X_OK)
    assert "set -euo pipefail" in _read(".ci", "run")
    result = _run_ci(CI_RUN, PYMAP_CI_DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == _quick_start()[1] + "\n"


@pytest.mark.parametrize("command, status", [("true", 0), ("exit 3", 3), ("exit 5", 5)])
def test_ci_passes_the_test_status_on(tmp_path, command, status):
    script = _ci_copy(tmp_path, "# x\n\n```sh\necho first\n%s\n```\n\n```\nnot this\n```\n" % command)
    result = _run_ci(script)
    assert result.returncode == status
    assert ("collected no tests" in result.stderr) == (status == 5)
    assert "first" not in result.stdout


def test_ci_runs_in_a_clean_clone_with_a_scrubbed_environment(tmp_path):
    """The command runs in a clone of the committed tree, in a folder with
    nothing beside it, with only PATH, HOME (empty) and LANG=C set."""
    probe = ("pwd; ls -A ..; ls -A; ls -A \"$HOME\"; env | sort; "
             "test -e ../shared && echo shared-beside || echo nothing-beside")
    script = _ci_copy(tmp_path, "```sh\necho first\n%s\n```\n" % probe)
    (tmp_path / "shared").mkdir()  # beside the source tree, not beside the clone
    (tmp_path / "tree" / "uncommitted").write_text("x")
    result = _run_ci(script, PYTHONUNBUFFERED="1", CI="true")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()[1:]  # after the "+ command" line
    clone = lines[0]
    assert clone.endswith("/pymap") and not clone.startswith(str(tmp_path))
    assert lines[1] == "pymap"  # nothing else beside the clone
    assert "uncommitted" not in lines and "README.md" in lines
    environment = sorted(line.split("=", 1)[0] for line in lines if "=" in line)
    assert set(environment) <= {"PATH", "HOME", "LANG", "PWD", "SHLVL", "_", "OLDPWD"}
    assert "PATH=/usr/bin:/bin" in lines and "LANG=C" in lines
    assert lines[-1] == "nothing-beside"
    assert not os.path.exists(os.path.dirname(clone))  # removed afterwards


@pytest.mark.parametrize("block", ["one command\n", "a\nb\nc\n"])
def test_ci_refuses_a_quick_start_that_is_not_two_commands(tmp_path, block):
    result = _run_ci(_ci_copy(tmp_path, "```\n%s```\n" % block))
    assert result.returncode == 1
    assert "exactly two commands" in result.stderr


def test_setup_cfg_installs_the_command_and_the_manual():
    config = _setup_cfg()
    assert config["options"]["scripts"].split() == ["bin/pymap", "bin/pymap-python"]
    assert "options.entry_points" not in config  # pip's generated wrapper imports re: a launcher of our own
    assert config["options.data_files"]["share/man/man1"].split() == ["man/pymap.1"]
    assert os.path.isfile(os.path.join(ROOT, "man", "pymap.1"))
    test_extra = config["options.extras_require"]["test"].split()
    assert {"pytest", "hypothesis"} <= set(test_extra)
    assert any(requirement.startswith("argparse-manpage") for requirement in test_extra)
    assert config["metadata"]["license_files"] == "LICENSE"
    assert _read("LICENSE").startswith("MIT License\n") and "pymap developers" in _read("LICENSE")


def test_pyproject_only_declares_the_build_system():
    tables = re.findall(r"^\[([^\]]+)\]", _read("pyproject.toml"), re.M)
    assert tables == ["build-system"]


def pymap_version():
    from pymap import __version__

    return __version__


def test_python_dash_m_pymap():
    result = subprocess.run([sys.executable, "-m", "pymap", "-V"], capture_output=True, cwd=ROOT, timeout=60,
                            env=CLEAN_ENVIRON)
    assert (result.returncode, result.stderr) == (0, b"")
    # it follows the pmap this environment would run, else upstream's development line
    from pymap.compat import installed_pmap

    installed = installed_pmap({b"PATH": CLEAN_ENVIRON["PATH"].encode()})
    expected = (b"%s, as %s" % (installed.release.encode(), installed.path) if installed
                else b"main, no procps-ng pmap is installed")
    assert result.stdout == b"pymap from pymap %s (procps-ng %s)\n" % (pymap_version().encode(), expected)


def test_installed_launcher():
    """pip installs the launcher's two halves side by side: the shell half
    as it is, the Python half with this interpreter in its first line."""
    bin_folder = os.path.dirname(sys.executable)
    launcher, python_half = os.path.join(bin_folder, "pymap"), os.path.join(bin_folder, "pymap-python")
    if not os.access(launcher, os.X_OK):
        pytest.skip("pymap is not installed beside %s (pip install -e '.[test]')" % sys.executable)
    with open(launcher, "rb") as handle:
        assert handle.readline() == b"#!/bin/sh\n"
    with open(python_half, "rb") as handle:
        interpreter = handle.readline()[2:].strip()
    assert os.path.samefile(interpreter, sys.executable)
    result = subprocess.run([launcher, "-V"], capture_output=True, timeout=60, env=CLEAN_ENVIRON)
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.startswith(b"pymap from pymap ")


def _install_prefix(tmp_path, package_folder, first_line=None):
    """The launcher laid out as pip installs it under a prefix: PREFIX/bin's
    two halves (the Python half's first line pointing at this interpreter)
    and, under PREFIX/lib/PACKAGE_FOLDER, a copy of pymap whose version says
    it is that copy (no copy when PACKAGE_FOLDER is None)."""
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "bin", "pymap"), prefix / "bin" / "pymap")
    body = _read("bin", "pymap-python").split("\n", 1)[1]
    (prefix / "bin" / "pymap-python").write_text((first_line or "#!" + sys.executable) + "\n" + body)
    for name in ("pymap", "pymap-python"):
        os.chmod(prefix / "bin" / name, 0o755)
    if package_folder is not None:
        copy = prefix / "lib" / package_folder / "pymap"
        shutil.copytree(os.path.join(ROOT, "pymap"), copy, ignore=shutil.ignore_patterns("__pycache__"))
        init = (copy / "__init__.py").read_text()
        (copy / "__init__.py").write_text(init.replace('__version__ = "%s"' % pymap_version(),
                                                       '__version__ = "0.0.0+beside"'))
    return prefix


def _run_launcher(launcher, *args):
    """LAUNCHER ARGS (an argument "$$" is the PID of the shell that execs
    the launcher, which becomes pymap's Python)."""
    command = 'exec "$0"' + "".join(" $$" if arg == "$$" else " '%s'" % arg for arg in args)
    result = subprocess.run(["/bin/sh", "-c", command, str(launcher)], capture_output=True, timeout=60,
                            env=CLEAN_ENVIRON)
    assert (result.returncode, result.stderr) == (0, b""), result
    return result.stdout


def _own_header(launcher):
    """The command line pymap runs as: the header of "LAUNCHER $$" run so
    that $$ is pymap's own PID (without that last argument)."""
    header = _run_launcher(launcher, "$$").split(b"\n", 1)[0]
    pid, command_line = header.split(b":   ", 1)
    assert command_line.endswith(b" " + pid)
    return command_line[:-len(pid) - 1]


PACKAGE_FOLDERS = ["python%d.%d/site-packages" % sys.version_info[:2], "python%d.%d/dist-packages" % sys.version_info[:2],
                   "python3/dist-packages"]


@pytest.mark.parametrize("package_folder", PACKAGE_FOLDERS)
def test_the_launcher_starts_python_without_site_and_finds_pymap_beside_it(tmp_path, package_folder):
    """Installed by pip (a venv, --user, pipx, Debian's dist-packages), the
    shell half runs the interpreter of the Python half's first line with -S
    (site costs a third of a bare start), and the Python half imports the
    pymap installed beside it, also through a link to the launcher."""
    prefix = _install_prefix(tmp_path, package_folder)
    launcher = prefix / "bin" / "pymap"
    assert _own_header(launcher) == b"%s -S %s --from-launcher default %s" % (
        os.fsencode(sys.executable), os.fsencode(prefix / "bin" / "pymap-python"), os.fsencode(launcher))
    assert _run_launcher(launcher, "-V").startswith(b"pymap from pymap 0.0.0+beside (procps-ng ")
    (tmp_path / "links").mkdir()
    os.symlink(launcher, tmp_path / "links" / "pymap")
    assert _run_launcher(tmp_path / "links" / "pymap", "-V").startswith(b"pymap from pymap 0.0.0+beside ")
    # a linked folder: the launcher is no link, the Python half finds its real PREFIX
    os.symlink(prefix / "bin", tmp_path / "linked-bin")
    assert _run_launcher(tmp_path / "linked-bin" / "pymap", "-V").startswith(b"pymap from pymap 0.0.0+beside ")


def _venv_with_pth(tmp_path):
    """A scratch venv (no pip) whose site-packages holds no pymap but a .pth
    naming a folder with a copy of it, as an editable install has: only
    site finds that copy (its version is 0.0.0+site)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True,
                   timeout=120, env=CLEAN_ENVIRON)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(os.path.join(ROOT, "pymap"), elsewhere / "pymap", ignore=shutil.ignore_patterns("__pycache__"))
    init = (elsewhere / "pymap" / "__init__.py").read_text()
    (elsewhere / "pymap" / "__init__.py").write_text(init.replace('__version__ = "%s"' % pymap_version(),
                                                                  '__version__ = "0.0.0+site"'))
    site_packages = venv / "lib" / ("python%d.%d" % sys.version_info[:2]) / "site-packages"
    assert site_packages.is_dir() and not (site_packages / "pymap").exists()
    (site_packages / "elsewhere.pth").write_text(str(elsewhere) + "\n")
    return venv


def test_without_pymap_beside_it_the_launcher_imports_site(tmp_path):
    """An editable install (as this checkout's own venv) has no pymap under
    PREFIX/lib: the Python half, started with -S, imports site, which finds
    it."""
    venv = _venv_with_pth(tmp_path)
    prefix = _install_prefix(tmp_path, None, first_line="#!%s" % (venv / "bin" / "python"))
    launcher = prefix / "bin" / "pymap"
    assert _own_header(launcher).startswith(b"%s -S " % os.fsencode(venv / "bin" / "python"))
    assert _run_launcher(launcher, "-V").startswith(b"pymap from pymap 0.0.0+site (procps-ng ")


def test_a_launcher_without_its_python_half_says_so_once(tmp_path):
    prefix = _install_prefix(tmp_path, None)
    os.unlink(prefix / "bin" / "pymap-python")
    result = subprocess.run([str(prefix / "bin" / "pymap"), "-V"], capture_output=True, timeout=60, env=CLEAN_ENVIRON)
    assert result.returncode == 127 and result.stdout == b""
    assert result.stderr.count(b"\n") == 1 and b"pymap-python: not found" in result.stderr


def test_uvs_trampoline_is_run_as_the_kernel_runs_it(tmp_path):
    """uv writes a "#!/bin/sh" trampoline instead of a long or spaced
    interpreter path: the launcher leaves it to the kernel (no -S for sh)."""
    venv = _venv_with_pth(tmp_path)
    python = os.fsencode(venv / "bin" / "python")
    trampoline = "#!/bin/sh\n'''exec' '%s' \"$0\" \"$@\"\n' '''" % os.fsdecode(python)
    prefix = _install_prefix(tmp_path, None, first_line=trampoline)
    launcher = prefix / "bin" / "pymap"
    assert _own_header(launcher) == b"%s %s --from-launcher default %s" % (
        python, os.fsencode(prefix / "bin" / "pymap-python"), os.fsencode(launcher))
    assert _run_launcher(launcher, "-V").startswith(b"pymap from pymap 0.0.0+site (procps-ng ")


def test_a_first_line_with_arguments_is_run_as_the_kernel_runs_it(tmp_path):
    """A Python half whose first line is not pip's bare interpreter path is
    left to the kernel: no -S is added and site is imported as usual."""
    venv = _venv_with_pth(tmp_path)
    python = os.fsencode(venv / "bin" / "python")
    prefix = _install_prefix(tmp_path, None, first_line="#!%s -E" % os.fsdecode(python))
    launcher = prefix / "bin" / "pymap"
    assert _own_header(launcher) == b"%s -E %s --from-launcher default %s" % (
        python, os.fsencode(prefix / "bin" / "pymap-python"), os.fsencode(launcher))
    assert _run_launcher(launcher, "-V").startswith(b"pymap from pymap 0.0.0+site (procps-ng ")


@pytest.mark.skipif(not os.access("/usr/bin/pmap", os.X_OK), reason="the benchmark times /usr/bin/pmap")
def test_benchmark_runs_and_finds_the_outputs_identical():
    """benchmarks/bench.py on a small target: it runs from the checkout, and
    its output comparisons (every mode) find pymap and pmap agreeing."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench.py"), "--mappings", "300",
                             "--pairs", "1", "--memory-mappings", "2000", "--sorted-diff-mappings", "3000"],
                            capture_output=True, timeout=300, cwd=ROOT,
                            env=CLEAN_ENVIRON)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    for mode in ("default", "-x", "-X", "-XX"):
        row = next(line for line in lines if line.startswith(mode + " "))
        assert "pymap/pmap" in row and "output identical" in row, row
    assert any(line.startswith("start-up pymap -x") for line in lines)
    # the memory part ran every mode, each to its end
    memory = [line for line in lines if line.startswith("  pymap ")]
    assert len(memory) == 12 + 3 and not any("exit" in line for line in memory), memory
    assert "within the target" in lines[-1], lines[-1]


def test_openmetrics_benchmark_runs():
    """benchmarks/openmetrics.py on a few processes, from the checkout: every
    pair is timed and given as a ratio."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "openmetrics.py"), "--processes", "20",
                             "--programs", "5", "--rounds", "1", "--no-venv"],
                            capture_output=True, timeout=300, cwd=ROOT, env=CLEAN_ENVIRON)
    assert result.returncode == 0, result.stderr
    ratios = [line for line in result.stdout.decode().splitlines() if "target <= +5%" in line]
    assert len(ratios) == 4 and all(re.search(r" \d+\.\d+x .*CPU \d+\.\d+x$", line) for line in ratios), ratios


def _oldest_python():
    """setup.cfg's python_requires, as a (major, minor) tuple."""
    requires = _setup_cfg()["options"]["python_requires"]
    match = re.fullmatch(r">=\s*(\d+)\.(\d+)", requires.strip())
    assert match, "python_requires is not '>=X.Y': %r" % requires
    return int(match.group(1)), int(match.group(2))


def test_the_code_is_for_the_oldest_python_it_admits():
    """pymap's modules parse as the oldest admitted Python's grammar, and
    no pattern uses possessive runs or atomic groups: Python 3.11 brought
    them, and 3.11 before 3.11.5 (Debian 12's python3) matches some of them
    wrongly (CPython gh-106052), which once broke the smaps accelerator."""
    import ast

    regex_of_3_11 = re.compile(r"[}*+?]\+|\(\?>")
    oldest = _oldest_python()
    assert oldest <= (3, 11), "from 3.12 on (3.11.5 on), the pattern rule below may go"
    found = []
    for folder, _, names in os.walk(os.path.join(ROOT, "pymap")):
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                tree = ast.parse(handle.read(), path, feature_version=oldest)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
                    text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
                    if regex_of_3_11.search(text):
                        found.append("%s:%d %r" % (os.path.relpath(path, ROOT), node.lineno, text[:60]))
    assert not found


_DUMP_MODULES = r'''
import json, os, sys
folder = sys.argv[1]
names = []
for directory, folders, files in os.walk(folder):
    folders[:] = sorted(name for name in folders if name != "__pycache__")
    package = "pymap" + directory[len(folder):].replace("/", ".")
    names += [package] + [package + "." + name[:-3] for name in sorted(files)
                          if name.endswith(".py") and name not in ("__init__.py", "__main__.py")]
for name in names:
    __import__(name)
def spec_of(module):
    spec = module.__spec__
    return [spec.name, spec.origin, spec.cached, spec.parent, spec.submodule_search_locations, spec.has_location,
            type(spec.loader).__name__, spec.loader.path, module.__file__, module.__cached__, module.__package__,
            getattr(module, "__path__", None)]
first = sys.meta_path[0]
print(json.dumps({"finder": getattr(first, "__name__", type(first).__name__), "modules": {name: spec_of(sys.modules[name]) for name in names}}))
'''


def test_the_launchers_finder_finds_pymaps_modules_as_python_does(tmp_path):
    """The Python half finds pymap's modules by name in the folder it found
    pymap in (Python's general search costs a fifth of a small run's
    imports): every module of the package, imported through it, has the
    spec, loader, file and cache Python's own search gives it."""
    folder = PACKAGE_FOLDERS[0]
    prefix = _install_prefix(tmp_path, folder)
    package = prefix / "lib" / folder / "pymap"
    launcher = prefix / "bin" / "pymap-python"
    text = launcher.read_text()
    assert text.endswith("launch_and_exit(sys.argv)\n")
    dumping = tmp_path / "dump.py"
    dumping.write_text(text[:-len("launch_and_exit(sys.argv)\n")] + _DUMP_MODULES)
    # the launcher's own code, run as the shell half runs it (python -S), from its folder
    shutil.copy(dumping, prefix / "bin" / "dump.py")
    through_finder = subprocess.run([sys.executable, "-S", str(prefix / "bin" / "dump.py"), str(package)],
                                    capture_output=True, timeout=120, env=CLEAN_ENVIRON, check=True)
    plain = subprocess.run([sys.executable, "-S", "-c", "import sys; sys.path.insert(0, %r); sys.argv[1:] = [%r]\n%s"
                            % (str(prefix / "lib" / folder), str(package), _DUMP_MODULES)],
                           capture_output=True, timeout=120, env=CLEAN_ENVIRON, check=True)
    found, expected = json.loads(through_finder.stdout), json.loads(plain.stdout)
    assert found["finder"] == "PymapFinder" and expected["finder"] != "PymapFinder"
    assert len(found["modules"]) > 20 and "pymap.source.sysv" in found["modules"]
    assert found["modules"] == expected["modules"]
