"""The dispatcher's promises for every subcommand: output into a closed pipe ends quietly, Ctrl-C
is one line and exit status 130 (worker processes included), input errors are one line and exit
status 2, and every subcommand has a `python -m` form."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import binomgbml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("binomgbml")
#: the `python -m` form of every subcommand (README.md lists them)
PYTHON_M = {"bounds": ["bounds"], "plot": ["bounds.plotting"], "verify": ["verify"],
            "check-estimator": ["verify", "check-estimator"], "experiment": ["verify.experiments"],
            "tightness": ["verify", "tightness"], "diagnose": ["verify", "diagnose"]}


def _env(buffered=True):
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def _start(argv, env, **kwargs):
    return subprocess.Popen([str(SCRIPT), *argv], env=env, cwd=ROOT, text=True, stderr=subprocess.PIPE,
                            **kwargs)


def test_output_into_a_closed_pipe_ends_quietly():
    """`binomgbml --help | true`: the reader is gone before the first write (with buffered
    stdout, the write fails at the flush at exit), for the dispatcher's own help and for
    subcommands' help and output."""
    cases = [(argv, True) for argv in [["--help"], ["bounds", "--help"], ["bounds", "--K", "3", "--L", "1"],
                                       ["plot", "--help"], ["verify", "--list"], ["check-estimator", "--help"],
                                       ["experiment", "sinusoid", "--help"]]]
    cases += [(["--help"], False), (["bounds", "--K", "3", "--L", "1"], False)]
    procs = []
    for argv, buffered in cases:
        read, write = os.pipe()
        os.close(read)
        procs.append((argv, _start(argv, _env(buffered), stdout=write)))
        os.close(write)
    for argv, proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and err == "", (argv, proc.returncode, err)


@pytest.mark.parametrize("sub", list(binomgbml.SUBCOMMANDS))
def test_every_subcommand_interrupted_piped_or_failing_is_one_line(sub, monkeypatch, capsys):
    module_name, func_name = binomgbml.SUBCOMMANDS[sub][0].split(":")
    module = __import__(module_name, fromlist=[func_name])
    previous = signal.getsignal(signal.SIGINT)

    def raising(exc):
        def main(argv):
            print("partial output")
            raise exc
        return main

    try:
        for exc, status, err in [(KeyboardInterrupt(), 130, f"binomgbml {sub}: interrupted\n"),
                                 (BrokenPipeError(), 0, ""),
                                 (ValueError("a bad\n value"), 2, f"binomgbml {sub}: error: a bad value\n"),
                                 (SystemExit(0), 0, "")]:  # argparse after --help
            monkeypatch.setattr(module, func_name, raising(exc))
            assert binomgbml.main([sub]) == status, exc
            assert capsys.readouterr().err == err, exc
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_stops_every_kind_of_run_at_once_without_a_traceback(tmp_path):
    """SIGINT to the process group (Ctrl-C at a terminal) or to the main process alone, during a
    long run: serial, with worker processes (fork: verify --jobs; spawn: experiment --workers,
    possibly while the workers still import), and inside Hypothesis (check-estimator)."""
    (tmp_path / "slow_estimators.py").write_text("import estimators\n\ndef binom(traj, L):\n"
                                                 "    return estimators.binom(traj, L)\n")
    out = str(tmp_path / "w")
    runs = {"verify --jobs 1": (["verify", "--examples", "100000", "--jobs", "1", "--out", out], True),
            "verify --jobs 2": (["verify", "--examples", "100000", "--jobs", "2", "--out", out], True),
            "verify --jobs 2, main process only": (["verify", "--examples", "100000", "--jobs", "2",
                                                    "--out", out], False),
            "experiment --workers 2": (["experiment", "sinusoid", "--batches", "1000", "--workers", "2"], True),
            "experiment --workers 2, main process only": (["experiment", "sinusoid", "--batches", "1000",
                                                           "--workers", "2", "--no-progress"], False),
            "experiment --workers 2, many tasks submitted": (["experiment", "sinusoid", "--batches", "100000",
                                                              "--workers", "2", "--no-progress"], False),
            "check-estimator": (["check-estimator", "slow_estimators:binom", "--claim", "thm3.6.binom",
                                 "--examples", "100000", "--out", out], True)}
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *filter(None, [env.get("PYTHONPATH")])])
    procs = {name: (_start(argv, env, stdout=subprocess.PIPE, start_new_session=True), group)
             for name, (argv, group) in runs.items()}
    try:
        time.sleep(4)
        for proc, group in procs.values():
            assert proc.poll() is None, "the run ended before it could be interrupted"
            (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
        start = time.monotonic()
        for name, (proc, _) in procs.items():
            _, err = proc.communicate(timeout=60)
            sub = runs[name][0][0]
            messages = [line for line in err.replace("\r", "\n").splitlines() if line and "|" not in line]
            assert proc.returncode == 130 and messages == [f"binomgbml {sub}: interrupted"], (name, err[-2000:])
        assert time.monotonic() - start < 30  # the workers were stopped, not waited for
    finally:
        for proc, _ in procs.values():  # a run that ignored the interrupt must not outlive the test
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _interrupted_run(tmp_path, body, form):
    """Run a command whose ``main`` executes ``body`` (which sends itself SIGINT) under
    ``run_command``, as ``python -m MODULE`` or ``python FILE`` (how the console script runs)."""
    (tmp_path / "interrupted_cmd.py").write_text(
        "import os, signal, sys, time\nfrom cli_common import run_command\n\n"
        f"def main(argv):\n    {body}\n    time.sleep(30)\n    return 0\n\n"
        "sys.exit(run_command('demo', main, sys.argv[1:]))\n")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)])
    argv = ["-m", "interrupted_cmd"] if form == "-m" else [str(tmp_path / "interrupted_cmd.py")]
    start = time.monotonic()
    proc = subprocess.run([sys.executable, *argv], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False)
    return proc, time.monotonic() - start


def test_where_a_ctrl_c_is_put_off():
    """Only the top-level code of exec/eval of a string puts Ctrl-C off; a function that such code
    defined (Hypothesis wraps every test so) runs outside it."""
    import sys

    import cli_common

    seen = {}

    def probe(argv):
        here = lambda: cli_common._inside_exec(sys._getframe(1))  # noqa: E731
        seen["plain"] = here()
        namespace = {"here": here}
        exec("inside = here()\ndef defined():\n    return here()", namespace)
        seen["exec"], seen["defined"] = namespace["inside"], namespace["defined"]()
        seen["eval"] = eval("here()", {"here": here})
        return 0

    assert cli_common.run_command("probe", probe, []) == 0
    assert seen == {"plain": False, "exec": True, "defined": False, "eval": True}


@pytest.mark.parametrize("where", ["weakref callback", "__del__", "gc callback"])
def test_a_ctrl_c_that_python_swallows_is_delivered_again(tmp_path, where):
    """A KeyboardInterrupt raised inside a weakref callback (importlib's module locks have them),
    a __del__ or a gc callback is swallowed by CPython ("Exception ignored in ..."), and the run
    went on: it is now sent again, so the run ends with 130 and one line, at once."""
    kill = "[os.kill(os.getpid(), signal.SIGINT)] + [x for x in range(1000)]"
    body = {"weakref callback": f"import weakref; C = type('C', (), {{}}); c = C(); "
                                f"r = weakref.ref(c, lambda _: {kill}); del c",
            "__del__": f"C = type('C', (), {{'__del__': lambda self: {kill}}}); C()",
            "gc callback": f"import gc; cb = lambda phase, info: {kill} if phase == 'start' else None; "
                           "gc.callbacks.append(cb); gc.collect(); gc.callbacks.remove(cb)"}[where]
    proc, seconds = _interrupted_run(tmp_path, body, "-m")
    assert proc.returncode == 130 and proc.stderr == "binomgbml demo: interrupted\n", proc
    assert seconds < 15  # not after the 30 s sleep


@pytest.mark.parametrize("form", ["-m", "file"])
def test_ctrl_c_inside_code_run_from_a_string_exits_130(tmp_path, form):
    """Ctrl-C while ``exec`` runs a string (as ``dataclasses`` does when a lazily imported module
    defines a dataclass): raised there, CPython records the KeyboardInterrupt as unhandled and a
    ``python -m`` program then ends by SIGINT (status -2) although run_command returned 130."""
    body = ('exec("import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\n'
            'for _ in range(10 ** 6): pass")')
    proc, _ = _interrupted_run(tmp_path, body, form)
    assert proc.returncode == 130 and proc.stderr == "binomgbml demo: interrupted\n", proc


def test_ctrl_c_inside_long_code_run_from_a_string_is_not_put_off_for_long(tmp_path):
    """Inside a string that ``exec`` runs for a long time, Ctrl-C is put off 100 times 10 ms,
    then raised there: the run ends within seconds, not after the 30 s loop."""
    body = ('exec("import os, signal, time\\nos.kill(os.getpid(), signal.SIGINT)\\n'
            't = time.monotonic()\\nwhile time.monotonic() - t < 30: pass")')
    proc, seconds = _interrupted_run(tmp_path, body, "file")
    assert proc.stderr == "binomgbml demo: interrupted\n" and seconds < 15, (proc, seconds)


@pytest.mark.parametrize("sub", list(binomgbml.SUBCOMMANDS))
def test_every_subcommand_has_the_python_dash_m_form_the_readme_names(sub):
    form = PYTHON_M[sub]
    assert f"`python -m {' '.join(form)}` ({sub})" in (ROOT / "README.md").read_text().replace("\n", " ")
    proc = subprocess.run([sys.executable, "-m", *form, "--help"], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert proc.returncode == 0 and proc.stdout.startswith(f"usage: binomgbml {sub}"), (form, proc.stderr)
