"""`binomgbml verify` and `binomgbml check-estimator`: output schema, exit statuses, one-line
errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

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
        assert set(row) == {"id", "verdict", "examples", "max_ratio", "witness"}
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


def test_replay_outside_the_statement_domain_exits_1(capsys, tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"id": "lemB.5", "params": {"K": 3, "L": 5}}))
    status, out, _ = _run(capsys, "verify", "--replay", str(path))
    assert status == 1 and "outside the statement's domain: K = 3, L = 5 breaks" in out


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
