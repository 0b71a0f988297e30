"""``binomgbml verify`` and ``binomgbml check-estimator``.

verify: check the registry's statements -- every paper's, or one paper's with ``--paper`` -- (a
table with a progress bar, or ``--json``), write a witness JSON per violated (or vacuous)
statement under ``--out``, or re-check one witness exactly with ``--replay FILE`` (exit 0 when the
witness still shows the violation or vacuity, 1 when it does not).

check-estimator: property-test ``package.module:function`` (a function ``(Trajectory, L) ->
vector``, or ``(Trajectory, lam[, steps]) -> vector`` for ``--equals imaml`` / ``--claim imaml.cg
--steps N``) against ``--equals NAME`` and/or ``--claim ID``; exit 0 when every claim holds, 1
when one is violated, 2 on bad input.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from cli_common import ArgumentParser, UsageError

from .errors import VerifyInputError
from .pool import process_pool

__all__ = ["check_estimator_main", "load_witness", "run_statements", "verify_main"]


def _count(text: str, least: int = 0) -> int:
    """argparse type: an integer >= ``least`` (argparse names the flag in its message)."""
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r} must be an integer >= {least}")
    return value


def _positive(text: str) -> int:
    """argparse type: an integer >= 1 (a check that tries no example proves nothing)."""
    return _count(text, 1)


def load_witness(path: str | Path) -> dict:
    """Read a witness JSON file; UsageError naming the file and what is wrong with it."""
    path = Path(path)
    try:
        witness = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--replay {path}: no such file") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"--replay {path}: not a readable JSON file ({exc})") from None
    if not isinstance(witness, dict) or "id" not in witness:
        raise UsageError(f"--replay {path}: a witness is a JSON object with an 'id' key")
    return witness


def _out_dir(text: str, create: bool) -> Path:
    """``--out DIR``: a directory (created now when ``create``); UsageError when it cannot be."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {text}: exists and is not a directory")
    if create:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {text}: cannot create the directory ({exc.strerror or exc})") from None
    return out


# --------------------------------------------------------------------------------------------
# verify


def _check_one(task):
    """Run one statement (in a worker process): (id, Result as dict)."""
    from .registry import REGISTRY
    from .search import Result

    sid, examples, starts, seed = task
    try:
        check = REGISTRY[sid]
        result = check.run(examples=check.examples_for(examples), starts=starts, seed=seed)
    except Exception as exc:  # a check that crashes is reported, not hidden
        result = Result("error", note=f"{type(exc).__name__}: {exc}")
    return sid, result


def run_statements(ids: list[str], *, examples: int = 100, starts: int = 12, seed: int = 0, jobs: int = 1,
                   progress: bool = True) -> dict:
    """Check the statements ``ids``: {id: Result}, in the order given; each check runs its
    budget's share of ``examples`` (``Check.examples_for``)."""
    from tqdm import tqdm

    tasks = [(sid, examples, starts, seed) for sid in ids]
    results = {}
    with tqdm(total=len(tasks), desc="verify", unit="stmt", file=sys.stderr, disable=not progress) as bar:
        if jobs > 1 and len(tasks) > 1:
            with process_pool(jobs) as pool:
                for sid, result in pool.map(_check_one, tasks):
                    results[sid] = result
                    bar.update()
        else:
            for task in tasks:
                sid, result = _check_one(task)
                results[sid] = result
                bar.update()
    return {sid: results[sid] for sid in ids}


def _write_witness(witness, out: Path, sid: str) -> str:
    from .witness import write

    return str(write(witness, out / f"{sid}.json"))


def _table(rows) -> str:
    header = ("id", "statement", "assumption", "verdict", "examples", "max ratio", "witness")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    widths[1] = min(widths[1], 60)
    fmt = lambda r: "  ".join(str(c)[:widths[i]].ljust(widths[i]) for i, c in enumerate(r)).rstrip()
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def _replay(path) -> int:
    from .registry import get

    witness = load_witness(path)
    try:
        statement = get(str(witness["id"]))
        violated, detail = statement.replay(witness)
    except VerifyInputError as exc:  # the witness checks nothing: bad input, not a verdict
        raise UsageError(f"--replay {path}: {exc}") from None
    shows = statement.shows  # "violated", or "vacuous" for an assumption set
    print(f"{statement.id} ({statement.reference}): "
          f"{f'{shows}, confirmed exactly' if violated else f'NOT {shows}'} -- {detail}")
    return 0 if violated else 1


def _selected(args, papers: dict[str, list[str]]) -> list[str]:
    """The ids ``--paper`` and ``--only`` select (every id when neither is given)."""
    from .registry import REGISTRY, get, paper_of

    ids = papers[args.paper] if args.paper else list(REGISTRY)
    if args.only:
        chosen = [get(sid.strip()).id for sid in args.only.split(",") if sid.strip()]
        if not chosen:
            raise UsageError(f"--only {args.only!r} names no statement")
        outside = [sid for sid in chosen if sid not in ids]
        if outside:
            raise UsageError(f"--only {outside[0]} is a statement of {paper_of(outside[0])}, not of --paper {args.paper}")
        ids = chosen
    return ids


def verify_main(argv: list[str]) -> int:
    """``binomgbml verify``: check the papers' statements, or replay one witness."""
    from .registry import PAPERS, REGISTRY

    parser = ArgumentParser(prog="binomgbml verify", description="Check the papers' statements "
                            "(a table, or --json), or replay one witness exactly (docs/verify.md).")
    parser.add_argument("--paper", choices=list(PAPERS),
                        help="only this paper's statements (default: every paper's)")
    parser.add_argument("--only", help="comma-separated statement ids (default: all)")
    parser.add_argument("--examples", type=_positive, default=100,
                        help="Hypothesis examples per statement, times the check's budget (default 100)")
    parser.add_argument("--starts", type=_count, default=12,
                        help="adversarial optimisation starts per statement that has a search (default 12)")
    parser.add_argument("--seed", type=_count, default=0)
    parser.add_argument("--out", default="witnesses", help="directory for witness JSON files")
    parser.add_argument("--jobs", type=_count, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default: 2 or the number of CPUs if fewer)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--list", action="store_true", help="list the statements and exit")
    parser.add_argument("--replay", metavar="FILE", help="re-check one witness exactly")
    args = parser.parse_args(argv)

    if args.replay:
        return _replay(args.replay)
    ids = _selected(args, PAPERS)
    if args.list:
        for s in (REGISTRY[sid] for sid in ids):
            print(f"{s.id:30} {s.reference:48} [{s.assumption}] {s.text}")
        return 0
    out = _out_dir(args.out, create=True)  # before the run: a bad --out fails at once
    results = run_statements(ids, examples=args.examples, starts=args.starts, seed=args.seed,
                             jobs=max(1, args.jobs))
    entries = []
    for sid, r in results.items():
        path = _write_witness(r.witness, out, sid) if r.witness else None
        entries.append({"id": sid, "verdict": r.verdict, "examples": r.examples, "max_ratio": r.max_ratio,
                        "witness": path, "argument": r.note if r.verdict == "vacuous" else None,
                        "note": r.note})
    if args.json:
        print(json.dumps({"statements": [{k: e[k] for k in ("id", "verdict", "examples", "max_ratio",
                                                            "witness", "argument")}
                                         for e in entries]}, indent=1))
    else:
        rows = [(e["id"], REGISTRY[e["id"]].text, REGISTRY[e["id"]].assumption,
                 e["verdict"] + (f" ({e['note']})" if e["note"] and not e["argument"] else ""), e["examples"],
                 "-" if e["max_ratio"] is None else f"{e['max_ratio']:.6g}", e["witness"] or "-")
                for e in entries]
        print(_table(rows))
        for e in entries:  # the argument of each vacuous verdict, in full
            if e["argument"]:
                print(f"\n{e['id']} is vacuous: {e['argument']}")
    return 1 if any(e["verdict"] == "error" for e in entries) else 0


# --------------------------------------------------------------------------------------------
# check-estimator


def _import_target(target: str, what: str = "estimator"):
    module_name, sep, func_name = target.partition(":")
    if not sep or not module_name or not func_name:
        raise UsageError(f"{what} {target!r} must be 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"{what} {target!r}: cannot import {module_name!r} ({exc})") from None
    except (Exception, SystemExit) as exc:  # the module itself fails: a syntax error, a raise, an exit
        raise UsageError(f"{what} {target!r}: importing {module_name!r} raised "
                         f"{type(exc).__name__}: {exc}") from None
    if not hasattr(module, func_name):
        raise UsageError(f"{what} {target!r}: {module_name} has no callable {func_name!r} (no such attribute)")
    func = getattr(module, func_name)
    if not callable(func):
        raise UsageError(f"{what} {target!r}: {module_name} has no callable {func_name!r} "
                         f"(it is {type(func).__name__} {func!r:.40})")
    return func


def check_estimator_main(argv: list[str]) -> int:
    """``binomgbml check-estimator``: property-test an estimator (Trajectory, L) -> vector."""
    from .check import REFERENCES, check_estimator, replay_estimator_witness

    parser = ArgumentParser(prog="binomgbml check-estimator", description="Property-test an estimator "
                            "function(trajectory, L) -> vector against a reference (--equals) and/or a bound "
                            "(--claim); exit 0 holds, 1 violated, 2 bad input (docs/verify.md).")
    parser.add_argument("estimator", help="package.module:function")
    parser.add_argument("--claim", action="append", default=[],
                        help="bound id, e.g. thm3.6.binom; imaml.cg for an implicit-gradient estimator")
    parser.add_argument("--equals", choices=REFERENCES,
                        help="reference it must equal (imaml: the exact implicit meta-gradient)")
    parser.add_argument("--steps", type=_count, help="with --claim imaml.cg: the CG iterations claimed")
    parser.add_argument("--x0", choices=("g", "zero"), default="g",
                        help="with --claim imaml.cg: where CG starts (default g)")
    parser.add_argument("--examples", type=_positive, default=50)
    parser.add_argument("--starts", type=_count, default=4)
    parser.add_argument("--seed", type=_count, default=0)
    parser.add_argument("--out", default="witnesses", help="directory for witness JSON files")
    parser.add_argument("--replay", metavar="FILE", help="re-run the estimator on a saved witness")
    args = parser.parse_args(argv)
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # so that a module in the working directory imports
    estimator = _import_target(args.estimator)
    if args.replay:
        try:
            violated, detail = replay_estimator_witness(estimator, load_witness(args.replay))
        except VerifyInputError as exc:  # the witness checks nothing: bad input, not a verdict
            raise UsageError(f"--replay {args.replay}: {exc}") from None
        print(f"{args.estimator}: {'violated' if violated else 'holds'} on the witness -- {detail}")
        return 1 if violated else 0
    if not args.claim and not args.equals:
        raise UsageError("give --claim ID and/or --equals NAME")
    _out_dir(args.out, create=False)  # created only when a witness is written
    try:
        summary = check_estimator(estimator, equals=args.equals, claim=args.claim,
                                  examples=args.examples, starts=args.starts, seed=args.seed,
                                  out=args.out, name=args.estimator, steps=args.steps, x0=args.x0)
    except AssertionError as exc:
        print(str(exc))
        return 1
    for cid, s in summary.items():
        print(f"{cid}: holds ({s['examples']} examples, largest error/allowed {s['max_ratio']:.6g})")
    return 0
