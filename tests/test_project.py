"""The project's own promises: README commands, CI script, the dispatcher's behaviour."""

import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import binomgbml

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_setup_and_test_commands_and_ci_runs_the_test_one():
    commands = _readme_commands()
    assert len(commands) >= 2
    setup, test = commands[0], commands[1]
    assert "binomgbml bounds" in setup and "constraints.txt" in setup
    assert "pytest" in test
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_constraints_pin_torch_but_package_asks_for_a_range():
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().split()
    assert '"torch>=2.4"' in (ROOT / "pyproject.toml").read_text()


def test_dispatcher_unknown_subcommand_is_a_usage_error(capsys):
    assert binomgbml.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "frobnicate" in err and len(err.strip().splitlines()) == 1


def test_dispatcher_help_lists_every_subcommand(capsys):
    assert binomgbml.main(["--help"]) == 0
    out = capsys.readouterr().out
    for sub in binomgbml.SUBCOMMANDS:
        assert sub in out


def test_console_script_is_installed_and_answers():
    script = Path(sys.executable).with_name("binomgbml")
    assert script.exists(), "the binomgbml console script is not installed"
    proc = subprocess.run([str(script), "bounds", "--K", "2", "--L", "1", "--theorem", "3.6"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[2].split()[:3] == ["3.6", "2", "1"]


def test_python_dash_m_binomgbml_answers():
    proc = subprocess.run([sys.executable, "-m", "binomgbml", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "bounds" in proc.stdout


def _imports(package: str) -> dict[str, set[str]]:
    """module file -> the top-level names it imports (every import statement, lazy ones too)."""
    import ast

    out = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = names
    return out


def test_layering_no_package_imports_the_dispatcher_or_a_package_above_it():
    above = {"bounds": {"binomgbml", "estimators", "verify", "torch"},
             "estimators": {"binomgbml", "bounds", "verify"}, "verify": {"binomgbml"}}
    for package, forbidden in above.items():
        for path, names in _imports(package).items():
            assert not names & forbidden, f"{path} imports {sorted(names & forbidden)}"


def test_reference_imports_without_torch():
    code = "import sys; from estimators import reference; print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.split() == ["False"], proc.stderr


def test_pyproject_license_is_an_spdx_expression_setuptools_reads_without_warnings():
    """PEP 639: `license = "MIT"` (the TOML table form is deprecated by setuptools, which reads
    expressions from 77 on: the build requirement says so)."""
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["license"] == "MIT"
    assert data["build-system"]["requires"] == ["setuptools>=77"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert dist.metadata.license_expression == "MIT"
    assert not [w for w in caught if "license" in str(w.message)], [str(w.message) for w in caught]
