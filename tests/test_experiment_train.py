"""``binomgbml experiment train``: the training loop is the library's (a hand-written loop with
accumulate_meta_gradient gives the same curve, bit for bit), the meta-test loss is the
adaptation loss (against Trajectory.val_loss and an nn.Module adapted in place), a seed
reproduces its curves bit for bit, two workers give one worker's curves, the image-folder task
runs end to end on a folder made here, and bad input is one line with exit status 2."""

import copy
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import binomgbml
import estimators
from verify.experiments import fewshot, sinusoid, train
from verify.experiments.train import TrainConfig

TINY = {"iterations": 2, "eval_every": 1, "eval_tasks": 3, "meta_batch": 2, "K": 2,
        "estimators": ("fo", "binom"), "L": (1,)}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _curves(result) -> dict:
    return {n: {k: v for k, v in c.items() if k not in ("seconds", "seconds_per_iteration",
                                                        "peak_memory_mib")}
            for n, c in result.curves.items()}


@pytest.mark.parametrize("hvp, memory", [("loop", "fast"), ("graph", "flat")])
def test_the_curve_is_that_of_a_loop_written_with_accumulate_meta_gradient(hvp, memory, monkeypatch):
    config = TrainConfig(**{**TINY, "estimators": ("binom",), "hvp": hvp, "memory": memory})
    seen, original = set(), estimators.Trajectory.from_model.__func__

    def spy(cls, *args, **kwargs):
        seen.add((kwargs.get("hvp"), kwargs.get("memory")))
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(estimators.Trajectory, "from_model", classmethod(spy))
    curve = train.run(config, progress=False).curves["binom1"]
    assert seen == {(hvp, memory)}  # the trajectory of every task of every meta-batch
    model = sinusoid.mlp(config.seed)  # Appendix C.1's network, from the seed
    opt = torch.optim.Adam(model.parameters(), lr=config.beta)
    cfg = sinusoid.SinusoidConfig(tasks=config.eval_tasks, batch_L=0)
    held_out = sinusoid.sample_tasks(train._generator(config.seed, 1), cfg)
    losses = [train.meta_test(model, sinusoid.mse, held_out, config.K, config.alpha)[0]]
    for i in range(1, config.iterations + 1):
        cfg = sinusoid.SinusoidConfig(tasks=config.meta_batch, batch_L=0)
        tasks = sinusoid.sample_tasks(train._generator(config.seed, 0, i), cfg)
        opt.zero_grad()
        estimators.accumulate_meta_gradient(model, sinusoid.mse, tasks, config.K, config.alpha,
                                            "binom", L=1, hvp=config.hvp, memory=config.memory)
        opt.step()
        if i % config.every == 0:
            losses.append(train.meta_test(model, sinusoid.mse, held_out, config.K, config.alpha)[0])
    assert curve["iterations"] == [0, 1, 2]
    assert curve["meta_test_loss"] == losses
    assert losses[-1] < losses[0]


def test_meta_test_loss_is_the_loss_after_adaptation():
    model = sinusoid.mlp(3)
    tasks = sinusoid.sample_tasks(torch.Generator().manual_seed(4),
                                  sinusoid.SinusoidConfig(tasks=4, batch_L=0))
    loss, acc = train.meta_test(model, sinusoid.mse, tasks, 3, 0.01)
    trajectories = [estimators.Trajectory.from_model(model, sinusoid.mse, s, q, 3, 0.01, hvp="loop")
                    for s, q in tasks]
    expected = sum(t.val_loss for t in trajectories) / len(tasks)
    assert acc is None and loss == pytest.approx(expected, rel=1e-12)
    unadapted = sum(sinusoid.mse(model(q[0]), q[1]).item() for _, q in tasks) / len(tasks)
    assert abs(loss - unadapted) > 1e-3 * unadapted  # the inner steps did change the loss


def _image_folder(root, classes: int = 6, per_class: int = 3, size: int = 16, split: bool = False):
    """PNG images, one folder per class: a class colour plus noise (so the classes are learnable)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in range(classes):
        sub = root / (("train" if c < classes - 2 else "test") if split else "") / f"class{c:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        colour = rng.integers(0, 256, 3)
        for i in range(per_class):
            pixels = np.clip(colour + rng.normal(0, 40, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(sub / f"img{i}.png")
    return root


def test_meta_test_accuracy_against_a_module_adapted_in_place(tmp_path):
    train_classes, _ = fewshot.split_classes(_image_folder(tmp_path), ways=2, shots=1, queries=2,
                                             size=16)
    tasks = fewshot.episodes(train_classes, torch.Generator().manual_seed(0), 3, ways=2, shots=1,
                             queries=2, dtype=torch.float64)
    model = fewshot.cnn4(2, 16, seed=1, dtype=torch.float64)
    loss, acc = train.meta_test(model, F.cross_entropy, tasks, 2, 0.1, accuracy=True, chunk_size=2)
    losses, hits = [], []
    for (xs, ys), (xq, yq) in tasks:
        net = copy.deepcopy(model)
        for _ in range(2):
            grads = torch.autograd.grad(F.cross_entropy(net(xs), ys), list(net.parameters()))
            with torch.no_grad():
                for p, g in zip(net.parameters(), grads):
                    p -= 0.1 * g
        with torch.no_grad():
            out = net(xq)
        losses.append(float(F.cross_entropy(out, yq)))
        hits += (out.argmax(-1) == yq).tolist()
    assert loss == pytest.approx(sum(losses) / 3, rel=1e-12)
    assert acc == sum(hits) / len(hits)


def test_the_episodes_follow_appendix_c2(tmp_path):
    train_classes, test_classes = fewshot.split_classes(_image_folder(tmp_path, split=True), ways=2,
                                                        shots=1, queries=2, size=16)
    assert list(train_classes.classes) == ["class00", "class01", "class02", "class03"]
    assert list(test_classes.classes) == ["class04", "class05"]
    (xs, ys), (xq, yq) = fewshot.episodes(train_classes, torch.Generator().manual_seed(0), 1,
                                          ways=2, shots=1, queries=2)[0]
    assert xs.shape == (2, 3, 16, 16) and xq.shape == (4, 3, 16, 16)
    assert ys.tolist() == [0, 1] and yq.tolist() == [0, 0, 1, 1]
    assert 0 <= float(xs.min()) and float(xs.max()) <= 1 and xs.dtype == torch.float32
    model = fewshot.cnn4(5, 84, seed=0)
    convs = [m for m in model if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in model if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == 4 and all(c.out_channels == 32 and c.kernel_size == (3, 3) for c in convs)
    assert len(norms) == 4 and not any(n.track_running_stats for n in norms)
    assert model(torch.zeros(2, 3, 84, 84)).shape == (2, 5)
    assert torch.equal(fewshot.cnn4(5, 84, seed=0)[0].weight, convs[0].weight)  # from the seed


def test_the_same_seed_gives_the_same_curves_bit_for_bit():
    config = TrainConfig(**{**TINY, "estimators": ("fo", "trunc", "binom", "maml", "imaml")})
    one, two = train.run(config, progress=False), train.run(config, progress=False)
    assert list(one.curves) == ["fo", "trunc1", "binom1", "maml", "imaml"]
    assert _curves(one) == _curves(two)
    starts = {c["meta_test_loss"][0] for c in one.curves.values()}
    assert len(starts) == 1  # one initialisation for every estimator
    ends = [c["meta_test_loss"][-1] for c in one.curves.values()]
    assert len(set(ends)) == len(ends)  # and they trained differently
    other = train.run(TrainConfig(**{**TINY, "seed": 1}), progress=False)
    assert _curves(other) != _curves(one)


def _cli(argv, capsys):
    status = binomgbml.main(["experiment", "train", *argv])
    return status, capsys.readouterr()


def test_cli_json_schema_and_figures(tmp_path, capsys):
    status, out = _cli(["--iterations", "3", "--eval-every", "2", "--eval-tasks", "4",
                        "--meta-batch", "2", "--K", "2", "--L", "1,2", "--json", "--no-progress",
                        "--out", str(tmp_path), "--data"], capsys)
    assert status == 0, out.err
    data = json.loads(out.out)
    assert list(data["estimators"]) == ["fo", "trunc1", "trunc2", "binom1", "binom2", "maml", "imaml"]
    for curve in data["estimators"].values():
        assert curve["iterations"] == [0, 2, 3]
        assert len(curve["meta_test_loss"]) == len(curve["seconds"]) == 3
        assert curve["seconds"][0] == 0 and curve["seconds"] == sorted(curve["seconds"])
        assert curve["seconds_per_iteration"] == pytest.approx(curve["seconds"][-1] / 3)
        assert curve["peak_memory_mib"] is None or curve["peak_memory_mib"] >= 0
    assert data["task"] == "sinusoid" and data["workers"] == 1
    assert data["config"]["lam"] == pytest.approx(1 / (2 * 0.01))
    assert data["estimators"]["binom2"]["meta_test_loss"] == data["estimators"]["maml"]["meta_test_loss"] \
        or max(abs(a - b) for a, b in zip(data["estimators"]["binom2"]["meta_test_loss"],
                                          data["estimators"]["maml"]["meta_test_loss"])) < 1e-12
    for name in ("meta_test_loss_vs_iterations", "meta_test_loss_vs_seconds"):
        for ext in ("pdf", "svg", "png", "csv", "txt"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
    status, out = _cli(["--iterations", "1", "--eval-tasks", "2", "--meta-batch", "1",
                        "--estimators", "fo", "--no-progress"], capsys)
    assert status == 0 and out.out.splitlines()[2].split()[:4] == ["estimator", "start", "end", "best"]


def test_two_workers_give_the_curves_of_one(capsys):
    argv = ["--iterations", "2", "--eval-every", "1", "--eval-tasks", "3", "--meta-batch", "3",
            "--K", "2", "--estimators", "binom,imaml", "--L", "1", "--json", "--no-progress"]
    status, out = _cli([*argv, "--workers", "2"], capsys)
    assert status == 0, out.err
    two = json.loads(out.out)
    status, out = _cli([*argv, "--workers", "1"], capsys)
    one = json.loads(out.out)
    assert two["workers"] == 2 and list(two["estimators"]) == list(one["estimators"])
    for name, curve in one["estimators"].items():  # the 3 tasks of each meta-batch split 2:1
        diffs = np.abs(np.subtract(curve["meta_test_loss"], two["estimators"][name]["meta_test_loss"]))
        assert diffs.max() <= 1e-12 * curve["meta_test_loss"][0], name


def test_the_image_folder_task_end_to_end(tmp_path, capsys):
    folder = _image_folder(tmp_path / "data", classes=5, per_class=3)
    argv = ["--images", str(folder), "--ways", "2", "--shots", "1", "--queries", "2",
            "--image-size", "16", "--iterations", "2", "--eval-every", "1", "--eval-tasks", "2",
            "--meta-batch", "2", "--K", "1", "--estimators", "fo,binom", "--L", "1",
            "--no-progress", "--json", "--out", str(tmp_path / "out")]
    status, out = _cli(argv, capsys)
    assert status == 0, out.err
    data = json.loads(out.out)
    assert data["task"] == "images" and data["config"]["dtype"] == "float32"
    for curve in data["estimators"].values():
        assert len(curve["meta_test_accuracy"]) == 3
        assert all(0 <= a <= 1 for a in curve["meta_test_accuracy"])
    assert (tmp_path / "out" / "meta_test_accuracy_vs_iterations.pdf").stat().st_size > 0
    status, again = _cli(argv, capsys)
    assert json.loads(again.out)["estimators"]["binom1"]["meta_test_loss"] == \
        data["estimators"]["binom1"]["meta_test_loss"]


def test_a_diverging_estimator_is_recorded_as_failed_and_the_others_go_on(capsys):
    status, out = _cli(["--iterations", "2", "--eval-tasks", "2", "--meta-batch", "1", "--K", "40",
                        "--alpha", "2", "--estimators", "fo", "--no-progress", "--json"], capsys)
    assert status == 0, out.err
    curve = json.loads(out.out)["estimators"]["fo"]
    assert curve["failed"]["iteration"] == 0 and "diverged" in curve["failed"]["error"]
    assert curve["meta_test_loss"] == []


def _bad_folder(tmp_path, what: str):
    if what == "few":
        return _image_folder(tmp_path / "few", classes=3)
    if what == "small":
        return _image_folder(tmp_path / "small", classes=6, per_class=1)
    folder = _image_folder(tmp_path / "broken", classes=6)
    (folder / "class00" / "img0.png").write_bytes(b"not a png")
    return folder


@pytest.mark.parametrize("argv, needle", [
    (["--iterations", "0"], "--iterations 0: must be a positive integer"),
    (["--estimators", "fo,sgd"], "--estimators: 'sgd' is not one of fo, trunc"),
    (["--estimators", "fo,fo"], "names an estimator twice"),
    (["--L", "6"], "--L 6: must be in 0..K = 0..5"),
    (["--L", "one"], "--L 'one': must be comma-separated integers"),
    (["--K", "0"], "--K 0"),
    (["--alpha", "-1"], "--alpha -1.0: must be a positive finite number"),
    (["--beta", "inf"], "--beta inf"),
    (["--lam", "0"], "--lam 0.0"),
    (["--seed", "-1"], "--seed -1"),
    (["--meta-batch", "0"], "--meta-batch 0"),
    (["--workers", "0"], "--workers 0: must be a positive integer"),
    (["--workers", "11"], "--workers 11: more than --meta-batch 10"),
    (["--threads", "0"], "--threads 0"),
    (["--hvp", "auto"], "--hvp 'auto': must be one of " + ", ".join(train.FIXED_HVP)),
    (["--dtype", "float16"], "--dtype 'float16'"),
    (["--memory", "low"], "--memory 'low': must be one of fast, flat"),
    (["--device", "tpu"], "--device 'tpu'"),
    (["--device", "cuda"] if not torch.cuda.is_available() else ["--device", "cuda:99"],
     "--device cuda"),
    (["--data"], "--data: needs --out DIR"),
    (["--preset", "a4"], "--preset 'a4'"),
    (["--images", "/nonexistent/folder"], "not a directory"),
    (["--images", "few"], "0 meta-training classes with images, need at least --ways 5"),
    (["--images", "small", "--ways", "2"], "has 1 images, need at least --shots + --queries = 16"),
    (["--images", "broken", "--ways", "2", "--queries", "1"], "img0.png' cannot be read"),
    (["--out", "FILE/sub"], "cannot write there"),
])
def test_cli_bad_input_is_one_line_exit_2_before_the_run(argv, needle, tmp_path, capsys,
                                                         monkeypatch):
    def started(*args, **kwargs):
        raise AssertionError("the training started")

    monkeypatch.setattr(train, "_train_one", started)
    monkeypatch.setattr(train, "_launch", started)
    if "--images" in argv and argv[argv.index("--images") + 1] in ("few", "small", "broken"):
        i = argv.index("--images") + 1
        argv = [*argv[:i], str(_bad_folder(tmp_path, argv[i])), *argv[i + 1:]]
    if "--out" in argv:
        (tmp_path / "FILE").write_text("a file")
        argv = ["--out", str(tmp_path / "FILE" / "sub")]
    status, out = _cli([*argv, "--no-progress"], capsys)
    assert status == 2 and out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.err


@pytest.mark.parametrize("argv, started", [
    (["train", "--iterations", "100000", "--meta-batch", "2", "--workers", "1"], "train fo"),
    (["train", "--iterations", "100000", "--meta-batch", "2", "--workers", "2"], "train fo"),
])
def test_ctrl_c_exits_130_with_one_line(argv, started):
    """Ctrl-C in a terminal signals the whole process group: the command and its workers."""
    proc = subprocess.Popen([sys.executable, "-m", "verify.experiments", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline, seen = time.monotonic() + 120, ""
        while started not in seen and time.monotonic() < deadline:  # the progress bar: it runs
            char = proc.stderr.read(1)
            if not char:
                break
            seen += char
        assert started in seen, seen
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:  # never leave the run going (its workers end with it)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert "binomgbml experiment: interrupted" in err.splitlines(), err
    assert out == ""


def test_meta_test_refuses_a_diverging_inner_loop():
    tasks = sinusoid.sample_tasks(torch.Generator().manual_seed(0),
                                  sinusoid.SinusoidConfig(tasks=2, batch_L=0))
    with pytest.raises(estimators.EstimatorInputError, match="meta-test loss is (nan|inf)"):
        train.meta_test(sinusoid.mlp(0), sinusoid.mse, tasks, 60, 5.0)
    assert math.isfinite(train.meta_test(sinusoid.mlp(0), sinusoid.mse, tasks, 2, 0.01)[0])


ROOT = Path(__file__).resolve().parents[1]
#: the Python snippets of the docs that start processes, or run an experiment
SNIPPETS = [(doc, i) for doc in ("experiments.md", "estimators.md")
            for i, code in enumerate(re.findall(r"```python\n(.*?)```", (ROOT / "docs" / doc).read_text(), re.DOTALL))
            if doc == "experiments.md" or "mp.spawn" in code]


@pytest.mark.slow
@pytest.mark.parametrize("doc, index", SNIPPETS)
def test_docs_snippets_run_as_scripts(doc, index, tmp_path):
    """Run as a script, where a missing main guard breaks spawned worker processes."""
    code = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / doc).read_text(), re.DOTALL)[index]
    script = tmp_path / "snippet.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
