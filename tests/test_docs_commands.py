"""Docs that match: every command and Python snippet of README.md, docs/*.md and docs/related/*.md
is run (or listed below as skipped, with the reason), and the output a doc shows is compared with
what is printed.

What counts as a command: a line in a fenced block that starts with ``binomgbml``, ``$ binomgbml``,
``.venv/bin/binomgbml`` or ``python -m`` of one of the packages. Its shown output is
- for a ``$ ...`` line: the lines after it, up to the next ``$`` line (or the end of the block);
- for a plain command line: the ``# ...`` lines right below it (the ``# `` removed);
- for a block with one command (or a Python snippet): a plain/``text`` fence opening at most four
  lines after it, when it holds no command.
An inline ``# exit N`` gives the expected exit status (else 0, or 2 when the output is an error).
In a shown output, ``...`` matches any text (timings, paths that vary): only the rest is compared.

Python snippets run as scripts in a temporary directory with the repository on sys.path; the names a
snippet uses as placeholders (model, loss_fn, the support and query sets, tasks, an optimizer, a
trajectory) are bound first to a small float64 classification task. An expression statement whose
comment (at its end, or on the lines right below) starts like a value (``{``, ``[``, ``(``, a
quote, a number, ``Fraction(``, ``tensor(``, ``array(``, ...) is compared with the repr of its value.
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "related").glob("*.md"))]
BIN = Path(sys.executable).parent

COMMAND = re.compile(r"^(?:\$ )?(?:\.venv/bin/)?(binomgbml\b|python3? -m (?:binomgbml|bounds|verify)\b)")
EXIT = re.compile(r"#.*\bexit (\d+)")

#: commands not run, with the reason (the file and the command as written, comment removed)
SKIPPED_COMMANDS: dict[tuple[str, str], str] = {}
LONG = "runs for minutes (training, the full verify, an experiment); tested at small size elsewhere"
PLACEHOLDER = "names a placeholder module, folder or '...'"
SLOW = "runs longer than this test's budget; the same code is tested at small size elsewhere"
for _doc, _cmds, _why in [
    ("README.md", ["binomgbml verify", "binomgbml experiment sinusoid --json",
                   "binomgbml experiment train --out figures/"], LONG),
    ("README.md", ["binomgbml check-estimator mypkg.mod:my_est --equals binom --claim thm3.6.binom",
                   "binomgbml experiment train --images DIR --device cuda",
                   "binomgbml diagnose mypkg.mod:make_task --K 5"], PLACEHOLDER),
    ("README.md", ["binomgbml tightness --variant all", "binomgbml plot figure2 --tightness --out figures/"], SLOW),
    ("docs/verify.md", ["binomgbml verify"], LONG),
    ("docs/verify.md", ["binomgbml check-estimator mypkg.mymod:my_estimator --equals binom --claim thm3.6.binom",
                        "python -m verify check-estimator mypkg.mymod:my_estimator --equals binom",
                        "binomgbml check-estimator mymod:my_binom --equals binom",
                        "binomgbml check-estimator mymod:my_binom --replay witnesses/check-equals-reference_binom.json",
                        "binomgbml check-estimator mymod:real_binom --claim thm3.6.binom --claim thm3.8.binom"],
     PLACEHOLDER),
    ("docs/experiments.md", [
        ".venv/bin/binomgbml experiment sinusoid",
        ".venv/bin/binomgbml experiment sinusoid --batches 1000 --json --out out/sinusoid1000 --data",
        ".venv/bin/binomgbml experiment sinusoid --batches 1000 --seed 0 --workers 2 --out out/sinusoid1000 --data --json > out/sinusoid1000/result.json",
        ".venv/bin/binomgbml experiment train",
        ".venv/bin/binomgbml experiment train --iterations 500 --estimators fo,trunc,binom,binom_rescaled,maml,imaml,maml_autograd --L 1,2 --workers 2 --out out/train500 --data --json",
        ".venv/bin/binomgbml experiment train --json --out out/train --data > out/train.json"], LONG),
    ("docs/experiments.md", [".venv/bin/binomgbml experiment train --images ~/data/miniimagenet --shots 1 --device cuda --out out/mini",
                             "python -m verify.experiments sinusoid ...",
                             "python -m verify.experiments train ..."], PLACEHOLDER),
    ("docs/tightness.md", ["binomgbml tightness", "binomgbml tightness --variant all --out docs/witnesses/tightness",
                           "binomgbml tightness --replay docs/witnesses/tightness/*.json",
                           "binomgbml plot figure2 --tightness --out docs/figures --formats png",
                           "binomgbml plot bounds --vs L --theorem 3.8 --K 10 --alpha 1/2 --tightness --out docs/figures --formats png"],
     SLOW),
    ("docs/tightness.md", ["binomgbml tightness --replay witnesses/tightness/*.json",
                           "binomgbml diagnose mytask:make_task --K 5 --alpha 0.01"], PLACEHOLDER),
    ("docs/verify.md", ["binomgbml check-estimator mymod:my_cg --claim imaml.cg --steps 2",
                        "binomgbml check-estimator mymod:my_cg --replay witnesses/check-imaml.cg.json"],
     PLACEHOLDER),
]:
    for _cmd in _cmds:
        SKIPPED_COMMANDS[(_doc, _cmd)] = _why

#: Python blocks that are not scripts (a file of a package, a signature), with the reason; keyed by
#: the doc and a line of the block
SKIPPED_SNIPPETS: dict[tuple[str, str], str] = {
    ("docs/contributing.md", '"""An example paper: one theorem, one bound (docs/contributing.md)."""'): "a module of bounds/papers/ (relative imports); tests/test_contributing.py builds it",
    ("docs/contributing.md", "from . import binomgbml, example"): "an excerpt of bounds/papers/__init__.py; tests/test_contributing.py builds it",
    ("docs/contributing.md", 'Variant("corrected", "corrected", "corrected", Formula(...), proof="docs/errata.md V1: ...")'): "two constructor calls with '...' arguments (a pattern, not code to run)",
    ("docs/verify.md", "verify.check_estimator(estimator, *, equals=None, claim=None, examples=50, starts=4, seed=0,"): "a signature, not code",
    ("docs/verify.md", 'verify.check_estimator(estimator, *, equals="imaml")                      # estimator(traj, lam)'): "signatures, not code",
    ("docs/estimators.md", "import torch.distributed as dist"): "starts two processes and a gloo process group; tests/test_estimators_distributed.py runs it",
    ("docs/tightness.md", "from verify.experiments import sinusoid"): "the module mytask.py, run by the diagnose command below it",
}
#: untagged blocks that look like a command but are a synopsis


#: the placeholders of the snippets: a small float64 classification task (3 classes, 4 features)
PRELUDE = """\
import torch as _torch
_torch.manual_seed(0)
_gen = _torch.Generator().manual_seed(0)
model = _torch.nn.Sequential(_torch.nn.Linear(4, 5), _torch.nn.Tanh(), _torch.nn.Linear(5, 3)).double()
loss_fn = _torch.nn.functional.cross_entropy
x_s, x_q = (_torch.randn(8, 4, generator=_gen, dtype=_torch.float64) for _ in range(2))
y_s, y_q = (_torch.randint(0, 3, (8,), generator=_gen) for _ in range(2))
tasks = [((x_s, y_s), (x_q, y_q)), ((x_q, y_q), (x_s, y_s))]
meta_batches = [tasks, tasks]
optimizer = opt = _torch.optim.SGD(model.parameters(), lr=1e-3)
"""
PRELUDE_TRAJ = """\
from estimators import Trajectory as _Trajectory
traj = _Trajectory.from_model(model, loss_fn, (x_s, y_s), (x_q, y_q), K=5, alpha=0.01)
"""
PLACEHOLDERS = {"model", "loss_fn", "x_s", "y_s", "x_q", "y_q", "tasks", "meta_batches", "optimizer", "opt", "traj"}

#: how a comment that shows a value starts (on the lines below the statement: also any bracket)
VALUE_INLINE = re.compile(r"^(\{'|'|-?\d|Fraction\(|tensor\(|array\(|RationalBracket\()")
VALUE_BELOW = re.compile(r"^(\{|\[|\((?![a-z])|'|-?\d|Fraction\(|tensor\(|array\(|RationalBracket\()")


@dataclass
class Block:
    doc: str
    line: int          # line of the opening fence
    lang: str
    lines: list[str]
    output_after: list[str] | None = None   # the output fence right after it, if any


@dataclass
class Command:
    doc: str
    line: int
    text: str
    output: list[str] | None
    exit: int | None


def blocks(path: Path) -> list[Block]:
    doc = str(path.relative_to(ROOT))
    found, current, closed_at = [], None, {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            if current is None:
                current = Block(doc, number, line[3:].strip(), [])
            else:
                found.append(current)
                closed_at[id(current)] = number
                current = None
        elif current is not None:
            current.lines.append(line)
    for before, after in itertools.pairwise(found):
        if after.lang in ("", "text") and after.line - closed_at[id(before)] <= 4 \
                and not any(COMMAND.match(x) for x in after.lines):
            before.output_after = after.lines
    return found


def strip_comment(line: str) -> str:
    return re.sub(r"\s+#(\s.*)?$", "", line).strip()


def commands(block: Block) -> list[Command]:
    if block.lang == "python":
        return []
    found: list[Command] = []
    lines = block.lines
    prompted = any(line.startswith("$ ") for line in lines)   # then only the $ lines are commands
    for i, line in enumerate(lines):
        if not COMMAND.match(line) or (prompted and not line.startswith("$ ")) or " [--" in line:  # a synopsis
            continue
        text = strip_comment(line.removeprefix("$ "))
        exit_ = EXIT.search(line)
        if line.startswith("$ "):
            out = []
            for nxt in lines[i + 1:]:
                if nxt.startswith("$ "):
                    break
                out.append(nxt)
            while out and not out[-1].strip():
                out.pop()
        else:
            out = []
            for nxt in lines[i + 1:]:
                if not nxt.startswith("# "):
                    break
                out.append(nxt[2:])
        found.append(Command(block.doc, block.line + 1 + i, text, out or None,
                             int(exit_.group(1)) if exit_ else None))
    if len(found) == 1 and found[0].output is None and block.output_after is not None:
        found[0].output = block.output_after
    return found


ALL_BLOCKS = [b for path in DOCS for b in blocks(path)]
ALL_COMMANDS = [c for b in ALL_BLOCKS for c in commands(b)]
SNIPPETS = [b for b in ALL_BLOCKS if b.lang == "python"]


def matches(shown: list[str], printed: list[str]) -> bool:
    """Whether the printed lines are the shown ones, ``...`` in a shown line matching any text."""
    if len(shown) != len(printed):
        return False
    for want, got in zip(shown, printed):
        pattern = "^" + ".*".join(re.escape(part) for part in want.rstrip().split("...")) + "$"
        if not re.match(pattern, got.rstrip()):
            return False
    return True


def workdir(tmp_path: Path) -> Path:
    """A working directory with the committed witnesses at docs/witnesses (a copy: commands may write)."""
    shutil.copytree(ROOT / "docs" / "witnesses", tmp_path / "docs" / "witnesses")
    return tmp_path


def environment() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", COLUMNS="200")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_every_skip_names_a_command_of_the_docs():
    present = {(c.doc, c.text) for c in ALL_COMMANDS}
    assert set(SKIPPED_COMMANDS) <= present, sorted(set(SKIPPED_COMMANDS) - present)
    assert all(any(b.doc == doc and line in b.lines for b in SNIPPETS) for doc, line in SKIPPED_SNIPPETS)
    assert len(ALL_COMMANDS) > 40 and len(SNIPPETS) > 15   # the parser finds the docs' commands


RUN = [c for c in ALL_COMMANDS if (c.doc, c.text) not in SKIPPED_COMMANDS]


@pytest.mark.parametrize("command", RUN, ids=[f"{c.doc}:{c.line}" for c in RUN])
def test_command(command: Command, tmp_path: Path):
    cwd = workdir(tmp_path)
    if command.doc == "docs/tightness.md" and "mytask:" in command.text:
        (cwd / "mytask.py").write_text(next(
            "\n".join(b.lines) for b in SNIPPETS if b.doc == "docs/tightness.md" and "def figure3_task():" in b.lines))
    text = command.text.replace(".venv/bin/", "")
    text = re.sub(r"^python3? -m", f"{sys.executable} -m", text)
    done = subprocess.run(text, shell=True, cwd=cwd, env=environment(), capture_output=True, text=True, check=False,
                          timeout=120)
    printed = (done.stdout + done.stderr if done.returncode == 2 else done.stdout).rstrip("\n").splitlines()
    expected = command.exit
    if expected is None:
        expected = 2 if command.output and ": error:" in command.output[-1] else 0
    assert done.returncode == expected, f"{command.text}: exit {done.returncode}\n{done.stderr[-2000:]}"
    if command.output is not None:
        assert matches(command.output, printed), \
            f"{command.doc}:{command.line} {command.text}\n--- shown\n" + "\n".join(command.output) + \
            "\n--- printed\n" + "\n".join(printed)


def value_checks(source: str) -> list[tuple[int, str]]:
    """(line of the statement's end, the shown value) for each expression statement with a value comment."""
    lines = source.splitlines()
    checks = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Expr) or isinstance(node.value, ast.Constant):
            continue
        end = node.end_lineno
        inline = lines[end - 1][node.end_col_offset:]
        shown = inline.split("#", 1)[1].strip() if "#" in inline else ""
        if not VALUE_INLINE.match(shown):
            below = lines[end].strip() if end < len(lines) else ""
            shown = below[1:].strip() if below.startswith("#") else ""
            if not VALUE_BELOW.match(shown):
                continue
        if not shown.startswith(("{", "'")):
            shown = re.split(r":\s", shown)[0].strip()   # the value, then ": what it means"
        checks.append((end, shown))
    return checks


def script(block: Block) -> tuple[str, list[tuple[int, str]]]:
    """The snippet with its placeholders bound and each checked value written to stdout as ``@line repr``."""
    source = textwrap.dedent("\n".join(block.lines))
    tree = ast.parse(source)
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
              if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    missing = (used - bound) & PLACEHOLDERS
    prelude = (PRELUDE if missing else "") + (PRELUDE_TRAJ if "traj" in missing else "")
    checks = value_checks(source)
    lines = source.splitlines()
    for end, _ in reversed(checks):
        node = next(n for n in tree.body if isinstance(n, ast.Expr) and n.end_lineno == end)
        indent = " " * node.col_offset
        expr = ast.get_source_segment(source, node)
        lines[node.lineno - 1:end] = [f"{indent}print('@{end}', repr(({expr})))"]
    return prelude + "\n".join(lines) + "\n", checks


def normal(text: str) -> str:
    """Spacing as in a repr, whatever the doc's: one space, none inside brackets."""
    return re.sub(r"([\[(])\s+|\s+([\])])", r"\1\2", re.sub(r"\s+", " ", text))


def shown_matches(shown: str, printed: str) -> bool:
    """A tuple may be shown without its parentheses; ``...`` matches any text."""
    pattern = "^" + ".*".join(re.escape(part) for part in normal(shown).split("...")) + "$"
    printed = normal(printed)
    return any(re.match(pattern, c, re.DOTALL) for c in (printed, printed[1:-1] if printed.startswith("(") else printed))


def skipped(block: Block) -> bool:
    return any(block.doc == doc and line in block.lines for doc, line in SKIPPED_SNIPPETS)


RUN_SNIPPETS = [b for b in SNIPPETS if not skipped(b)]


@pytest.mark.parametrize("block", RUN_SNIPPETS, ids=[f"{b.doc}:{b.line}" for b in RUN_SNIPPETS])
def test_snippet(block: Block, tmp_path: Path):
    source, checks = script(block)
    (tmp_path / "snippet.py").write_text(source)
    done = subprocess.run([sys.executable, "snippet.py"], cwd=workdir(tmp_path), env=environment(),
                          capture_output=True, text=True, timeout=120, check=False)
    shown_error = block.output_after is not None and block.output_after[0].endswith("Error") or \
        (block.output_after is not None and re.match(r"^\w+Error: ", block.output_after[0]))
    if shown_error:
        assert done.returncode == 1
        tail = done.stderr.rstrip("\n").splitlines()[-len(block.output_after):]
        assert matches(block.output_after, tail), "\n".join(tail)
        return
    assert done.returncode == 0, f"{block.doc}:{block.line}\n{done.stderr[-3000:]}"
    values = dict(re.findall(r"^@(\d+) (.*)$", done.stdout, re.MULTILINE))
    wrong = [(block.line + end, shown, values.get(str(end))) for end, shown in checks
             if not shown_matches(shown, values.get(str(end), ""))]
    assert not wrong, "\n".join(f"line {n}: doc shows {s!r}, printed {p!r}" for n, s, p in wrong)
    if block.output_after is not None:
        printed = [x for x in done.stdout.rstrip("\n").splitlines() if not re.match(r"^@\d+ ", x)]
        assert matches(block.output_after, printed), "\n".join(printed)


def test_every_python_m_form_the_readme_names_runs():
    """README: every subcommand also runs as ``python -m binomgbml SUBCOMMAND`` and from its package."""
    text = re.sub(r"\s+", " ", (ROOT / "README.md").read_text())
    forms = re.findall(r"`python -m ([\w.]+(?: [a-z-]+)?)` \((\w[\w-]*)\)", text)
    assert {sub for _, sub in forms} == {"bounds", "plot", "verify", "check-estimator", "experiment",
                                          "tightness", "diagnose"}
    for module, sub in forms + [("binomgbml bounds", "bounds")]:
        done = subprocess.run([sys.executable, "-m", *module.split(), "--help"], cwd=ROOT, env=environment(),
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0 and "usage:" in done.stdout, (module, done.stderr[-500:])
