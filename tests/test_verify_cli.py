"""`binomgbml verify` and `binomgbml check-estimator`: output schema, exit statuses, one-line
errors for bad input."""

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import binomgbml

ROOT = Path(__file__).resolve().parents[1]
WITNESS = ROOT / "docs" / "witnesses" / "thm3.8.fo.json"


def _run(capsys, *argv):
    status = binomgbml.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_verify_json_schema_and_witness_files(capsys, tmp_path):
    status, out, _ = _run(capsys, "verify", "--only", "lemB.5,lemB.7", "--json", "--examples", "10",
                          "--jobs", "1", "--out", str(tmp_path))
    assert status == 0
    data = json.loads(out)
    assert list(data) == ["statements"]
    rows = {row["id"]: row for row in data["statements"]}
    assert list(rows) == ["lemB.5", "lemB.7"]
    for row in rows.values():
        assert set(row) == {"id", "verdict", "examples", "max_ratio", "witness", "argument"}
        assert row["argument"] is None
        assert row["verdict"] in ("holds", "violated", "error") and row["examples"] > 0
    assert rows["lemB.7"]["verdict"] == "holds" and rows["lemB.7"]["witness"] is None
    assert rows["lemB.5"]["verdict"] == "violated"
    witness = json.loads(Path(rows["lemB.5"]["witness"]).read_text())
    assert witness["id"] == "lemB.5" and witness["params"] == {"K": 1, "L": 0}


def test_verify_table_lists_the_columns(capsys, tmp_path):
    status, out, err = _run(capsys, "verify", "--only", "thm3.6.sharp", "--examples", "5",
                            "--jobs", "1", "--out", str(tmp_path))
    assert status == 0
    header = out.splitlines()[0].split()
    assert header[:4] == ["id", "statement", "assumption", "verdict"] and "witness" in header
    assert "thm3.6.sharp" in out and "holds" in out
    assert "verify" in err  # the progress bar goes to stderr


def test_replay_confirms_the_committed_witness(capsys):
    status, out, _ = _run(capsys, "verify", "--replay", str(WITNESS))
    assert status == 0 and "violated, confirmed exactly" in out and "8329/625" in out


def test_replay_of_a_witness_that_does_not_violate_exits_1(capsys, tmp_path):
    w = json.loads(WITNESS.read_text())
    w["g"] = ["1", "0"]  # e_1: error 16/25 < bound 1 on this vector
    path = tmp_path / "w.json"
    path.write_text(json.dumps(w))
    status, out, _ = _run(capsys, "verify", "--replay", str(path))
    assert status == 1 and "NOT violated" in out


@pytest.mark.parametrize("argv, fragment", [
    (["verify", "--only", "nope"], "unknown statement id 'nope'"),
    (["verify", "--examples", "-1"], "argument --examples: '-1' must be an integer >= 1"),
    (["verify", "--seed", "many"], "argument --seed: 'many' must be an integer >= 0"),
    (["verify", "--examples", "0"], "argument --examples: '0' must be an integer >= 1"),
    (["verify", "--replay", "/nonexistent.json"], "no such file"),
    (["check-estimator", "no_colon"], "package.module:function"),
    (["check-estimator", "verify.strategies:nothing", "--equals", "binom"], "no callable 'nothing'"),
    (["check-estimator", "verify.strategies:householder"], "--claim ID and/or --equals NAME"),
    (["check-estimator", "verify.strategies:householder", "--claim", "thm9.9"], "claim='thm9.9'"),
    (["check-estimator", "verify.strategies:householder", "--equals", "exact"], "invalid choice"),
    (["check-estimator", "os:getcwd", "--equals", "fo", "--examples", "3"],
     "the estimator raised TypeError"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragment):
    status, out, err = _run(capsys, *argv)
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and fragment in err


def test_out_that_cannot_be_a_directory_is_one_line_and_exit_2(capsys, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    for argv, fragment in [(["verify", "--only", "lemB.7", "--out", str(a_file)], "is not a directory"),
                           (["verify", "--only", "lemB.7", "--out", str(a_file / "sub")],
                            "cannot create the directory"),
                           (["check-estimator", "estimators:binom", "--equals", "binom", "--out", str(a_file)],
                            "is not a directory")]:
        status, _, err = _run(capsys, *argv)
        assert status == 2 and len(err.strip().splitlines()) == 1 and fragment in err, argv


@pytest.mark.parametrize("witness, fragment", [
    ({"id": "thm3.8.fo"}, "the thm3.8.fo witness has no 'params'"),
    ({"id": "thm3.8.fo", "params": {"K": 2, "L": 0, "alpha": "1", "H": "1"}, "hessians": [[["1"]], [["1"]]]},
     "the thm3.8.fo witness has no 'g'"),
    ({"id": "thm3.8.fo", "params": [1, 2]}, "witness params=[1, 2] must be a JSON object"),
    ({"id": "prop3.1", "params": {"K": 1, "L": 1, "alpha": "1"}}, "the prop3.1 witness has no 'hessians'"),
    ({"id": "lemB.5", "params": {"K": 3}}, "the lemB.5 witness has no 'params.L'"),
    ({"id": "thm3.8.binom", "params": {"K": 2, "L": 0, "alpha": "1", "H": "1"},
      "hessians": [[["1"]], [["1", "2"]]], "g": ["1"]}, "witness hessians is ragged"),
])
def test_replay_of_an_incomplete_witness_is_one_line_and_exit_2(capsys, tmp_path, witness, fragment):
    path = tmp_path / "w.json"
    path.write_text(json.dumps(witness))
    status, _, err = _run(capsys, "verify", "--replay", str(path))
    assert status == 2 and len(err.strip().splitlines()) == 1 and fragment in err


def test_replay_outside_the_statement_domain_exits_2(capsys, tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"id": "lemB.5", "params": {"K": 3, "L": 5}}))
    status, out, err = _run(capsys, "verify", "--replay", str(path))
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "K = 3, L = 5 breaks the domain: L = 5 is outside 0..K = 0..3" in err


def test_replay_bad_json_and_unknown_id(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    status, _, err = _run(capsys, "verify", "--replay", str(bad))
    assert status == 2 and "not a readable JSON file" in err
    bad.write_text(json.dumps({"id": "thm0.0"}))
    status, _, err = _run(capsys, "verify", "--replay", str(bad))
    assert status == 2 and "unknown statement id 'thm0.0'" in err


ESTIMATOR_MODULE = '''
import estimators

def binom(traj, L):
    return estimators.binom(traj, L)

def trunc_called_binom(traj, L):
    return estimators.trunc(traj, L)
'''


def test_check_estimator_cli_exit_statuses(capsys, tmp_path, monkeypatch):
    (tmp_path / "my_estimators.py").write_text(ESTIMATOR_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    status, out, _ = _run(capsys, "check-estimator", "my_estimators:binom", "--equals", "binom",
                          "--claim", "thm3.6.binom", "--examples", "10", "--starts", "1")
    assert status == 0 and "equals:reference binom: holds" in out and "thm3.6.binom: holds" in out
    status, out, _ = _run(capsys, "check-estimator", "my_estimators:trunc_called_binom", "--equals",
                          "binom", "--examples", "20", "--out", str(tmp_path / "w"))
    assert status == 1 and "counterexample" in out
    saved = next((tmp_path / "w").glob("*.json"))
    assert json.loads(saved.read_text())["estimator"] == "my_estimators:trunc_called_binom"
    status, out, _ = _run(capsys, "check-estimator", "my_estimators:trunc_called_binom", "--replay", str(saved))
    assert status == 1 and "violated on the witness" in out
    status, out, _ = _run(capsys, "check-estimator", "my_estimators:binom", "--replay", str(saved))
    assert status == 0 and "holds on the witness" in out


def test_python_m_verify_lists_statements():
    proc = subprocess.run([sys.executable, "-m", "verify", "--list"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "thm3.8.binom" in proc.stdout and "prop3.1" in proc.stdout


V1 = json.loads(WITNESS.read_text())  # erratum V1: thm3.8.fo, K = 2, non-commuting convex Hessians
PROP = {"id": "prop3.1", "params": {"K": 2, "L": 1, "alpha": "1/2"}, "hessians": [[["1"]], [["1/2"]]]}
LOOSE = json.loads((ROOT / "docs" / "witnesses" / "thm3.8.loose.json").read_text())


@pytest.mark.parametrize("witness, fragment", [
    (dict(V1, id="thm3.8.fo.commuting"), "the Hessians do not commute, but the statement assumes they do"),
    (dict(V1, hessians=[[["-1/2", "0"], ["0", "1"]], V1["hessians"][1]]), "breaks Assumption 3.7"),
    (dict(V1, params=dict(V1["params"], alpha="2")), "alpha*H = 2 > 1 breaks the condition"),
    (dict(V1, params=dict(V1["params"], alpha="0")), "alpha = 0 is not positive"),
    (dict(V1, params=dict(V1["params"], K=3)), "hessians have shape (2, 2, 2), expected K x d x d with K = 3"),
    (dict(V1, params=dict(V1["params"], K=10 ** 30)), "expected K x d x d with K = 1000000000000000000000000000000"),
    (dict(V1, g=["1"]), "g has shape (1,), expected (2,)"),
    (dict(V1, params=dict(V1["params"], alpha="1e99999999")), "the exponent is beyond +-10000"),
    (dict(PROP, params=dict(PROP["params"], K=3)), "witness hessians has shape (2, 1, 1); expected K x d x d"),
    (dict(PROP, params=dict(PROP["params"], L=3)), "K = 2, L = 3 breaks K >= 1 and 0 <= L <= 2"),
    (dict(PROP, params=dict(PROP["params"], alpha="-1")), "alpha = -1 is not a step size > 0"),
    (dict(PROP, hessians=[[["1", "2"], ["0", "1"]], [["1", "0"], ["0", "1"]]]), "H^0 is not symmetric"),
    (dict(PROP, g=["1", "2"]), "witness g has shape (2,); expected d (d = 1)"),
    ({**json.loads((ROOT / "docs" / "witnesses" / "alg1.json").read_text()), "params": {"K": 2, "L": 0, "alpha": "1/8"}},
     "K = 2, L = 0 breaks K >= 2 and 1 <= L <= 1"),
    ({"id": "thm3.6.order.corrected", "params": {"K": 3, "L": 0, "alpha": "1/4", "H": "1"}},
     "L = 0 < 1 breaks the condition 1 <= L <= K-1"),
    (dict(LOOSE, hessians=[[["2"]]]), "H^0 has an eigenvalue above 1: breaks Assumption 3.7"),
    (dict(LOOSE, id="thm3.8.loose.corrected", params={"K": 2, "L": 1, "alpha": "1", "H": "1"},
          hessians=[[["1"]], [["1"]]]), "L = 1 > K-2 = 0 breaks the condition L <= K-2"),
    ({"id": "lemB.7", "params": {"K": 10 ** 30, "L": 0, "gamma": "1"}}, "beyond K <= 1000"),
    ({"id": "lemB.5", "params": {"K": 3, "L": True}}, "params.L=True must be an integer"),
    ([V1], "a witness is a JSON object with an 'id' key"),
])
def test_replay_of_a_witness_the_statement_does_not_speak_about_is_bad_input(capsys, tmp_path, witness, fragment):
    """Not 'NOT violated' with exit 1 (the answer for a checked claim that holds): exit 2, one
    line saying what is wrong, nothing on stdout."""
    path = tmp_path / "w.json"
    path.write_text(json.dumps(witness))
    status, out, err = _run(capsys, "verify", "--replay", str(path))
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert fragment in err


def test_replay_messages_stay_short_for_huge_exact_values(capsys, tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"id": "thm3.8.superexp", "params": {"K": 1000, "L": 500, "alpha": "1/4", "H": "1"}}))
    status, out, _ = _run(capsys, "verify", "--replay", str(path))  # was a 4300-digit ValueError
    assert status == 1 and "NOT violated" in out and len(out) < 300 and "e-" in out


TARGET_MODULES = {
    "raises_at_import": ('raise RuntimeError("no GPU here")\n', "importing 'raises_at_import' raised RuntimeError: no GPU here"),
    "bad_syntax": ("def f(:\n", "importing 'bad_syntax' raised SyntaxError: invalid syntax"),
    "exits_at_import": ("import sys\nsys.exit(3)\n", "importing 'exits_at_import' raised SystemExit: 3"),
    "not_callable": ("f = 3\n", "not_callable has no callable 'f' (it is int 3)"),
    "no_such_function": ("g = 1\n", "no_such_function has no callable 'f' (no such attribute)"),
}


@pytest.mark.parametrize("module", TARGET_MODULES)
def test_a_target_that_cannot_be_used_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, module):
    source, fragment = TARGET_MODULES[module]
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    status, out, err = _run(capsys, "check-estimator", f"{module}:f", "--equals", "binom")
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err, err


def test_check_estimator_replay_of_a_witness_outside_the_claim_is_bad_input(capsys, tmp_path):
    for witness, fragment in [(dict(V1, id="thm3.8.fo.commuting"), "do not commute"),
                              (dict(V1, params=dict(V1["params"], alpha="2")), "breaks the condition 0 < alpha <= 1/H"),
                              (dict(V1, params=dict(V1["params"], L=5)), "L = 5 is outside 0..K")]:
        path = tmp_path / "w.json"
        path.write_text(json.dumps({**witness, "params": {k: float(v) if isinstance(v, str) else v
                                                          for k, v in witness["params"].items()},
                                    "hessians": [[[float(Fraction(x)) for x in row] for row in Hk]
                                                 for Hk in witness["hessians"]],
                                    "g": [float(x) for x in witness["g"]]}))
        status, out, err = _run(capsys, "check-estimator", "estimators:fo", "--replay", str(path))
        assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err, err


def test_verify_paper_lists_and_runs_one_papers_statements(capsys, tmp_path):
    status, out, _ = _run(capsys, "verify", "--paper", "ji2022", "--list")
    ids = [line.split()[0] for line in out.splitlines()]
    assert status == 0 and ids[0] == "ji2022.eq3" and all(i.startswith("ji2022.") for i in ids)
    assert "Ji et al. Proposition 1, eq. (13)" in out
    status, out, _ = _run(capsys, "verify", "--paper", "imaml", "--only", "imaml.lemma3,imaml.f1.loss", "--json",
                          "--examples", "8", "--jobs", "1", "--out", str(tmp_path))
    rows = {row["id"]: row for row in json.loads(out)["statements"]}
    assert status == 0 and list(rows) == ["imaml.lemma3", "imaml.f1.loss"]
    assert rows["imaml.lemma3"]["verdict"] == "vacuous" and "imaml.assumption2 is unsatisfiable" in rows["imaml.lemma3"]["argument"]
    assert rows["imaml.f1.loss"]["verdict"] == "violated" and rows["imaml.f1.loss"]["argument"] is None
    assert json.loads(Path(rows["imaml.f1.loss"]["witness"]).read_text())["id"] == "imaml.f1.loss"


def test_verify_table_shows_vacuous_with_its_argument(capsys, tmp_path):
    status, out, _ = _run(capsys, "verify", "--only", "imaml.assumption2", "--examples", "4", "--jobs", "1",
                          "--out", str(tmp_path))
    assert status == 0
    row = out.splitlines()[2].split()
    assert row[0] == "imaml.assumption2" and "vacuous" in row
    assert "imaml.assumption2 is vacuous: item 4" in out  # the argument, in full, under the table
    witness = json.loads((tmp_path / "imaml.assumption2.json").read_text())  # the refuted candidate
    assert witness["id"] == "imaml.assumption2" and "detail" in witness


@pytest.mark.parametrize("argv, fragment", [
    (["verify", "--paper", "maml"], "argument --paper: invalid choice: 'maml'"),
    (["verify", "--paper", "imaml", "--only", "thm3.6.fo"], "--only thm3.6.fo is a statement of binomgbml, not of --paper imaml"),
])
def test_verify_paper_bad_input_is_one_line_and_exit_2(capsys, argv, fragment):
    status, _, err = _run(capsys, *argv)
    assert status == 2 and len(err.strip().splitlines()) == 1 and fragment in err


@pytest.mark.parametrize("name, shows", [("imaml.assumption2", "vacuous"), ("ibaml.eq20b", "violated"),
                                         ("ji2022.eq3.reversed", "violated")])
def test_replay_of_related_witnesses(capsys, name, shows):
    status, out, _ = _run(capsys, "verify", "--replay", str(ROOT / "docs" / "witnesses" / f"{name}.json"))
    assert status == 0 and out.startswith(f"{name} (") and f"{shows}, confirmed exactly" in out


@pytest.mark.parametrize("witness, fragment", [
    ({"id": "ibaml.eq20b", "X": [["1"]]}, "the ibaml.eq20b witness has no 'y'"),
    ({"id": "ji2022.eq3.reversed", "case": {"params": {"alpha": 0.125, "N": 2}}}, "is not an integer or a 'p/q' string"),
    ({"id": "imaml.f1.loss", "params": {}, "x": ["1"], "y": ["1"], "phi": ["0"], "phi_other": "z"},
     "the imaml.f1.loss witness is malformed"),
])
def test_replay_of_a_malformed_related_witness_is_one_line_and_exit_2(capsys, tmp_path, witness, fragment):
    path = tmp_path / "w.json"
    path.write_text(json.dumps(witness))
    status, out, err = _run(capsys, "verify", "--replay", str(path))
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and fragment in err


def test_replay_of_a_related_witness_outside_its_assumptions_exits_2(capsys, tmp_path):
    w = json.loads((ROOT / "docs" / "witnesses" / "ibaml.eq20b.json").read_text())
    w["sigma2"] = "-1"  # a noise variance <= 0
    path = tmp_path / "w.json"
    path.write_text(json.dumps(w))
    status, _, err = _run(capsys, "verify", "--replay", str(path))
    assert status == 2 and "the ibaml.eq20b witness cannot be replayed" in err


IMPLICIT_MODULE = '''
import estimators

def first_order(traj, lam):          # claims the implicit meta-gradient, returns g
    return traj.g

def cg_one_step(traj, lam, steps):   # claims `steps` CG iterations, takes one
    return estimators.imaml_cg(traj, lam, 1).x

def cg(traj, lam, steps):
    return estimators.imaml_cg(traj, lam, steps).x
'''


def test_an_implicit_claims_witness_is_saved_and_replays(capsys, tmp_path, monkeypatch):
    """A failing implicit-gradient claim writes a witness like the other claims; replaying it
    re-runs the estimator on the saved case: violated for the wrong estimator, holds for the
    toolkit's, exit 2 when the witness is outside the claim."""
    (tmp_path / "my_implicit.py").write_text(IMPLICIT_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for argv, wrong, right, file in [
            (["--equals", "imaml"], "first_order", "estimators:imaml_exact", "check-imaml.exact.json"),
            (["--claim", "imaml.cg", "--steps", "2"], "cg_one_step", "my_implicit:cg", "check-imaml.cg.json")]:
        status, out, _ = _run(capsys, "check-estimator", f"my_implicit:{wrong}", *argv, "--examples", "30",
                              "--out", str(tmp_path / "w"))
        saved = tmp_path / "w" / file
        assert status == 1 and f"witness saved to {saved}" in out, out
        witness = json.loads(saved.read_text())
        assert witness["estimator"] == f"my_implicit:{wrong}" and witness["x0"] == "g"
        # the saved case is a real violation: the exact implicit gradient, independently
        H, g, lam = (np.array(witness[k], dtype=float) for k in ("H_K", "g", "lam"))
        exact = np.linalg.solve(np.eye(g.size) + H / lam, g)
        assert np.linalg.norm(np.array(witness["estimate"]) - exact) == pytest.approx(witness["error"], rel=1e-9)
        assert witness["error"] > witness["allowed"] > 0
        status, out, _ = _run(capsys, "check-estimator", f"my_implicit:{wrong}", "--replay", str(saved))
        assert status == 1 and "violated on the witness" in out, out
        status, out, _ = _run(capsys, "check-estimator", right, "--replay", str(saved))
        assert status == 0 and "holds on the witness" in out, out
    witness = json.loads((tmp_path / "w" / "check-imaml.exact.json").read_text())
    for change, fragment in [({"lam": -1.0}, "lam=-1.0 must be a positive finite number"),
                             ({"H_K": [[-4.0]], "g": [1.0], "lam": 1.0}, "is not positive definite"),
                             ({"H_K": [[1.0, 2.0], [0.0, 1.0]], "g": [1.0, 1.0]}, "H_K is not symmetric"),
                             ({"x0": "one"}, "x0='one'"), ({"g": [1.0, 2.0, 3.0, 4.0]}, "need a finite d x d")]:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**witness, **change}))
        status, _, err = _run(capsys, "check-estimator", "estimators:imaml_exact", "--replay", str(bad))
        assert status == 2 and fragment in err and len(err.strip().splitlines()) == 1, err
    del witness["steps"]
    (tmp_path / "bad.json").write_text(json.dumps(witness))
    status, _, err = _run(capsys, "check-estimator", "estimators:imaml_exact", "--replay", str(tmp_path / "bad.json"))
    assert status == 2 and "witness has no 'steps'" in err
