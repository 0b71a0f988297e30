"""Meta-training with each estimator (Section 4.2, Figures 4 and 5): ``binomgbml experiment train``.

Every estimator trains the same network from the same initialisation on the same stream of
meta-batches: Adam with step size beta on the estimate of each meta-batch's meta-gradient,
obtained by backpropagating :class:`estimators.MetaObjective` (with several workers, wrapped in
``DistributedDataParallel``, each worker taking a share of every meta-batch). Every
``eval_every`` iterations the network is evaluated on a fixed set of held-out tasks: the
**meta-test loss** is the mean over those tasks of the query loss after K inner steps of size
alpha from the current theta (and, for classification, the query accuracy).

Tasks: sinusoid regression (Appendix C.1: :func:`~verify.experiments.sinusoid.sample_tasks`, the
1-40-40-1 network :func:`~verify.experiments.sinusoid.mlp`, the MSE) or W-way S-shot
classification on an image folder (:mod:`verify.experiments.fewshot`, Appendix C.2, CNN4).

* Seeds: theta from ``seed``; meta-batch i from (seed, 0, i) and the held-out tasks from
  (seed, 1) (``numpy.random.SeedSequence``), so every estimator sees the same tasks.
* Time: ``seconds`` is the training wall-clock up to each evaluation point (meta-gradient,
  backward and optimizer step; task sampling and evaluation excluded), on worker 0.
* Memory: ``peak_memory_mib`` is the largest memory the training iterations added over what was
  in use when they started: on CUDA allocated tensor memory (``torch.cuda.max_memory_allocated``),
  on CPU the resident set (Linux ``VmHWM``, its mark reset before each stretch of iterations;
  page-granular, and it includes allocator caching), None where neither can be read.
* Reproducibility: the HVP mode is fixed (``hvp``, not "auto", whose timed choice can change the
  last bits), so the curves for one seed are the same bit for bit on the same machine with the
  same number of workers and threads. With several workers the meta-batch mean is summed in
  another order, so the curves agree with one process's to rounding, not bit for bit.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap
from tqdm import tqdm

import estimators

from . import fewshot, sinusoid

__all__ = ["FIXED_HVP", "TOKENS", "TrainConfig", "TrainResult", "default_threads", "meta_test", "run", "runs"]

#: the estimators ``--estimators`` accepts; those in TRUNCATED run once per ``--L``
TOKENS = ("fo", "trunc", "binom", "binom_rescaled", "maml", "imaml", "maml_autograd")
TRUNCATED = ("trunc", "binom", "binom_rescaled")
DTYPES = {"float64": torch.float64, "float32": torch.float32}
#: the HVP modes ``--hvp`` accepts: all but "auto" (see TrainConfig)
FIXED_HVP = tuple(m for m in estimators.HVP_MODES if m != "auto")


def default_threads(workers: int = 1) -> int:
    """torch threads per worker by default: one. The networks here are small; several intra-op
    threads per process gain little and, with other processes on the cores, cost much more."""
    return 1


@dataclass(frozen=True)
class TrainConfig:
    """The parameters of a training comparison (defaults: sinusoid, Appendix C.1; see the CLI).

    ``images`` (a folder) selects few-shot classification instead of sinusoid regression; then
    ``ways``, ``shots``, ``queries`` and ``image_size`` describe the episodes. ``lam`` is iMAML's
    regulariser (None: 1 / (K alpha), for which (I + H/lam)^-1 agrees with P^K to first order in
    alpha H), ``imaml_steps`` its conjugate-gradient steps. ``eval_every`` None: iterations / 20.
    ``hvp`` is fixed (see the module docstring); "loop" (sequential double-backward HVPs) is the
    fastest in total for the small MLP, though it computes binom's batched stages one HVP at a
    time ("reverse" vmaps them). ``memory`` ("fast" or "flat") is what ``hvp="graph"`` keeps
    between HVPs (:meth:`estimators.Trajectory.from_model`); the other modes keep no graph.
    """

    iterations: int = 160
    estimators: tuple[str, ...] = ("fo", "trunc", "binom", "maml", "imaml")
    L: tuple[int, ...] = (2,)
    K: int = 5
    alpha: float = 0.01
    beta: float = 0.001
    meta_batch: int = 10
    seed: int = 0
    eval_every: int | None = None
    eval_tasks: int = 100
    lam: float | None = None
    imaml_steps: int = 5
    hvp: str = "loop"
    memory: str = "fast"
    images: str | None = None
    ways: int = 5
    shots: int = 1
    queries: int = 15
    image_size: int = 84
    device: str = "cpu"
    dtype: str = "float64"
    threads: int = field(default_factory=default_threads)

    def __post_init__(self):
        object.__setattr__(self, "estimators", tuple(self.estimators))
        object.__setattr__(self, "L", tuple(self.L))
        integers = ("iterations", "K", "meta_batch", "seed", "eval_tasks", "imaml_steps", "ways",
                    "shots", "queries", "image_size", "threads")
        for name in integers + (("eval_every",) if self.eval_every is not None else ()):
            _check_integer(name, getattr(self, name))
        for L in self.L:
            _check_integer("L", L)
        for name in ("alpha", "beta") + (("lam",) if self.lam is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value > 0):
                raise ValueError(f"{_flag(name)} {value!r}: must be a positive finite number")
        checks = [
            ("iterations", self.iterations >= 1, "must be a positive integer"),
            ("K", 1 <= self.K <= sinusoid.MAX_K, f"must be an integer in 1..{sinusoid.MAX_K}"),
            ("meta_batch", self.meta_batch >= 1, "must be a positive integer"),
            ("seed", 0 <= self.seed < 2 ** 64, "must be an integer in 0..2**64-1 (a torch seed)"),
            ("eval_every", self.eval_every is None or self.eval_every >= 1, "must be a positive integer"),
            ("eval_tasks", self.eval_tasks >= 1, "must be a positive integer"),
            ("imaml_steps", self.imaml_steps >= 0, "must be a non-negative integer"),
            ("ways", self.ways >= 2, "must be an integer >= 2"),
            ("shots", self.shots >= 1, "must be a positive integer"),
            ("queries", self.queries >= 1, "must be a positive integer"),
            ("image_size", self.image_size >= 16, "must be at least 16 (four 2x2 poolings)"),
            ("threads", self.threads >= 1, "must be a positive integer"),
        ]
        for name, ok, condition in checks:
            if not ok:
                raise ValueError(f"{_flag(name)} {getattr(self, name)!r}: {condition}")
        if not self.estimators:
            raise ValueError("--estimators: name at least one of " + ", ".join(TOKENS))
        for token in self.estimators:
            if token not in TOKENS:
                raise ValueError(f"--estimators: {token!r} is not one of {', '.join(TOKENS)}")
        if len(set(self.estimators)) < len(self.estimators):
            raise ValueError(f"--estimators {','.join(self.estimators)}: names an estimator twice")
        if any(t in TRUNCATED for t in self.estimators):
            if not self.L:
                raise ValueError("--L: give at least one truncation for trunc/binom")
            for L in self.L:
                if not 0 <= L <= self.K:
                    raise ValueError(f"--L {L}: must be in 0..K = 0..{self.K}")
            if len(set(self.L)) < len(self.L):
                raise ValueError(f"--L {','.join(map(str, self.L))}: names a truncation twice")
        if self.hvp not in FIXED_HVP:
            raise ValueError(f"--hvp {self.hvp!r}: must be one of {', '.join(FIXED_HVP)} (not auto: "
                             "its timed choice can change the last bits between runs)")
        if self.memory not in estimators.MEMORY_MODES:
            raise ValueError(f"--memory {self.memory!r}: must be one of "
                             f"{', '.join(estimators.MEMORY_MODES)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"--dtype {self.dtype!r}: must be one of {', '.join(DTYPES)}")
        check_device(self.device)

    @property
    def every(self) -> int:
        """The evaluation interval in iterations."""
        return self.eval_every or max(1, self.iterations // 20)

    @property
    def lam_value(self) -> float:
        return 1 / (self.K * self.alpha) if self.lam is None else self.lam

    @property
    def task(self) -> str:
        return "sinusoid" if self.images is None else "images"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_integer(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{_flag(name)} {value!r}: must be an integer")


def check_device(device: str) -> torch.device:
    """``device`` as a torch device that exists here; else a one-line error naming it."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"--device {device!r}: not a device ({' '.join(str(exc).split())})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            build = "this torch build has no CUDA" if torch.version.cuda is None else "no GPU is visible"
            raise ValueError(f"--device {device}: CUDA is not available ({build}, torch "
                             f"{torch.__version__}); use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type != "cpu":
        raise ValueError(f"--device {device!r}: must be cpu or cuda[:N]")
    return dev


def runs(config: TrainConfig) -> list[tuple[str, str, dict]]:
    """(NAME, estimator, options) for every estimator and L: fo, trunc2, binom2, maml, imaml, ..."""
    out: list[tuple[str, str, dict]] = []
    for token in config.estimators:
        if token in TRUNCATED:
            for L in config.L:
                if token == "binom_rescaled":
                    out.append((f"binom{L}_rescaled", "binom", {"L": L, "rescale": True}))
                else:
                    out.append((f"{token}{L}", token, {"L": L}))
        elif token == "imaml":
            out.append(("imaml", "imaml", {"lam": config.lam_value, "steps": config.imaml_steps}))
        else:
            out.append((token, token, {}))
    return out


# -- tasks -------------------------------------------------------------------------------------------

def _generator(seed: int, *key: int) -> torch.Generator:
    state = np.random.SeedSequence([seed, *key]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


class _Sinusoid:
    """Appendix C.1: the sinusoid study's tasks and network."""

    accuracy = False
    eval_chunk = None  # all held-out tasks in one vmapped call

    def __init__(self, config: TrainConfig):
        self.config, self.dtype = config, DTYPES[config.dtype]
        self.loss_fn = sinusoid.mse

    def model(self) -> torch.nn.Module:
        return sinusoid.mlp(self.config.seed, self.dtype)

    def tasks(self, gen: torch.Generator, n: int, held_out: bool = False) -> list:
        return sinusoid.sample_tasks(gen, sinusoid.SinusoidConfig(tasks=n, batch_L=0), self.dtype)


class _Images:
    """Appendix C.2: W-way S-shot episodes from an image folder, CNN4."""

    accuracy = True
    eval_chunk = 4  # held-out tasks per vmapped call: bounds the memory for large images

    def __init__(self, config: TrainConfig):
        self.config, self.dtype = config, DTYPES[config.dtype]
        self.loss_fn = F.cross_entropy
        assert config.images is not None  # the sinusoid task otherwise (_source)
        self.train, self.test = fewshot.split_classes(config.images, ways=config.ways,
                                                      shots=config.shots, queries=config.queries,
                                                      size=config.image_size)

    def model(self) -> torch.nn.Module:
        return fewshot.cnn4(self.config.ways, self.config.image_size, self.config.seed,
                            dtype=self.dtype)

    def tasks(self, gen: torch.Generator, n: int, held_out: bool = False) -> list:
        c = self.config
        return fewshot.episodes(self.test if held_out else self.train, gen, n, ways=c.ways,
                                shots=c.shots, queries=c.queries, dtype=self.dtype)


def _source(config: TrainConfig):
    return _Sinusoid(config) if config.images is None else _Images(config)


def _to(tasks: list, device: torch.device) -> list:
    return [tuple(tuple(t.to(device) for t in part) for part in task) for task in tasks]


def _share(tasks: list, rank: int, world: int) -> list:
    """Rank ``rank``'s contiguous share of a meta-batch (sizes differ by at most one)."""
    bounds = np.linspace(0, len(tasks), world + 1).round().astype(int)
    return tasks[bounds[rank]:bounds[rank + 1]]


# -- evaluation ------------------------------------------------------------------------------------

def meta_test(model: torch.nn.Module, loss_fn, tasks: list, K: int, alpha: float, *,
              accuracy: bool = False, chunk_size: int | None = None) -> tuple[float, float | None]:
    """The mean over ``tasks`` of the query loss (and query accuracy: the argmax of the outputs
    against integer labels) after K inner GD steps of size alpha on the support set (eq. (2b)),
    from the model's parameters; the model itself is not changed. Tasks of equal shapes, run
    ``chunk_size`` at a time (None: all) under ``torch.func.vmap``."""
    adapted = [n for n, p in model.named_parameters() if p.requires_grad]
    fixed = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    fixed |= {n: b.detach() for n, b in model.named_buffers()}

    def forward(params, x):
        return functional_call(model, ({**params, **fixed},), (x,))

    def query_outputs(x_s, y_s, x_q):
        params = {n: p.detach() for n, p in model.named_parameters() if n in adapted}
        step = grad(lambda ps: loss_fn(forward(ps, x_s), y_s))
        for _ in range(K):
            g = step(params)
            params = {n: params[n] - alpha * g[n] for n in params}
        return forward(params, x_q)

    stack = [torch.stack([task[i][j] for task in tasks]) for i, j in ((0, 0), (0, 1), (1, 0), (1, 1))]
    with torch.no_grad():
        outputs = vmap(query_outputs, chunk_size=chunk_size)(*stack[:3])
        losses = torch.stack([loss_fn(out, y) for out, y in zip(outputs, stack[3])])
        acc = None
        if accuracy:
            acc = float((outputs.argmax(-1) == stack[3]).to(outputs.dtype).mean())
    loss = float(losses.mean())
    if not math.isfinite(loss):
        raise estimators.EstimatorInputError(
            f"the meta-test loss is {loss} after K={K} inner steps of alpha={alpha}: the inner "
            "loop diverged on the held-out tasks; need a smaller alpha or K")
    return loss, acc


# -- memory ----------------------------------------------------------------------------------------

class _PeakMemory:
    """The largest memory added by the stretches between :meth:`start` and :meth:`stop`."""

    def __init__(self, device: torch.device):
        self.device, self.peak, self.base = device, 0, 0
        self.readable = device.type == "cuda" or _proc_status("VmHWM") is not None

    def start(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.base = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        elif self.readable:
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed heap pages back first
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")  # reset VmHWM to the current VmRSS
            except OSError:
                self.readable = False
            self.base = _proc_status("VmRSS") or 0

    def stop(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = max(self.peak, torch.cuda.max_memory_allocated(self.device) - self.base)
        elif self.readable:
            self.peak = max(self.peak, (_proc_status("VmHWM") or 0) - self.base)

    @property
    def mib(self) -> float | None:
        return self.peak / 2 ** 20 if self.readable else None


def _proc_status(key: str) -> int | None:
    """A ``/proc/self/status`` entry in bytes (Linux), or None."""
    try:
        with open("/proc/self/status") as f:
            match = re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) * 1024 if match else None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- training --------------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """Per NAME: the curves at the evaluation points and the cost; see :meth:`to_json`."""

    config: TrainConfig
    curves: dict
    workers: int = 1

    def to_json(self) -> dict:
        """The schema of ``binomgbml experiment train --json``."""
        c = self.config
        setting = {k: v for k, v in asdict(c).items() if k not in ("estimators", "L")}
        setting |= {"estimators": list(c.estimators), "L": list(c.L), "eval_every": c.every,
                    "lam": c.lam_value}
        return {"estimators": self.curves, "task": c.task, "config": setting,
                "workers": self.workers, "torch": torch.__version__}


def _train_one(source, config: TrainConfig, name: str, estimator: str, options: dict,
               rank: int, world: int, held_out: list, bar) -> dict:
    device = torch.device(config.device)
    model = source.model().to(device)
    objective = estimators.MetaObjective(model, source.loss_fn, config.K, config.alpha, estimator,
                                         hvp=config.hvp, memory=config.memory, **options)
    net: torch.nn.Module = objective
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(objective)
    opt = torch.optim.Adam(model.parameters(), lr=config.beta)
    memory = _PeakMemory(device)
    curve: dict[str, list] = {"iterations": [], "meta_test_loss": [], "seconds": [],
                              "meta_train_loss": []}
    if source.accuracy:
        curve["meta_test_accuracy"] = []
    window: list[float] = []  # the meta-batches' losses since the last evaluation
    elapsed, done, at = 0.0, 0, 0  # at: the iteration being trained or evaluated

    def evaluate(i: int) -> None:  # on every rank (the same parameters), so a failure is common
        loss, acc = meta_test(model, source.loss_fn, held_out, config.K, config.alpha,
                              accuracy=source.accuracy, chunk_size=source.eval_chunk)
        curve["iterations"].append(i)
        curve["meta_test_loss"].append(loss)
        curve["seconds"].append(elapsed)
        curve["meta_train_loss"].append(sum(window) / len(window) if window else None)
        if source.accuracy:
            curve["meta_test_accuracy"].append(acc)
        window.clear()

    try:
        evaluate(0)
        for point in range(config.every, config.iterations + config.every, config.every):
            point = min(point, config.iterations)
            memory.start()
            for i in range(done + 1, point + 1):
                at = i
                tasks = _to(_share(source.tasks(_generator(config.seed, 0, i), config.meta_batch),
                                   rank, world), device)
                _sync(device)
                start = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                value = net(tasks)
                value.backward()
                opt.step()
                _sync(device)
                elapsed += time.perf_counter() - start
                window.append(value.item())
                done = i
                bar.update()
            memory.stop()
            at = point
            evaluate(point)
    except estimators.EstimatorInputError as exc:  # e.g. a diverging inner loop: this run stops
        memory.stop()
        bar.update(config.iterations - done)
        return _finish(curve, elapsed, done, memory, failed={"iteration": at, "error": str(exc)})
    return _finish(curve, elapsed, config.iterations, memory)


def _finish(curve: dict, elapsed: float, iterations: int, memory: _PeakMemory,
            failed: dict | None = None) -> dict:
    curve["seconds_per_iteration"] = elapsed / iterations if iterations else None
    curve["peak_memory_mib"] = memory.mib
    if failed is not None:
        curve["failed"] = failed
    return curve


def _train_all(config: TrainConfig, rank: int, world: int, progress: bool) -> TrainResult:
    """Every run on this rank (rank 0 of ``world`` records the curves), one after another."""
    source = _source(config)
    held_out = source.tasks(_generator(config.seed, 1), config.eval_tasks, held_out=True)
    held_out = _to(held_out, torch.device(config.device))
    todo = runs(config)
    bar = tqdm(total=len(todo) * config.iterations, disable=not progress or rank != 0,
               file=sys.stderr, desc="train")
    curves = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        for name, estimator, options in todo:
            bar.set_description(f"train {name}")
            curves[name] = _train_one(source, config, name, estimator, options, rank, world,
                                      held_out, bar)
    finally:
        torch.set_num_threads(threads)
        bar.close()
    return TrainResult(config, curves, world)


def run(config: TrainConfig, *, workers: int = 1, progress: bool = True) -> TrainResult:
    """Train every estimator of ``config``; a tqdm bar on stderr.

    ``workers > 1`` runs the same training in that many processes (``python -m
    verify.experiments.train``, gloo, DistributedDataParallel), each taking a contiguous share of
    every meta-batch; they are separate programs, so this needs no ``if __name__ ==
    "__main__":`` guard in the calling script. CPU only.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers {workers!r}: must be a positive integer")
    if workers > config.meta_batch:
        raise ValueError(f"--workers {workers}: more than --meta-batch {config.meta_batch}; every "
                         "worker needs at least one task of each meta-batch")
    if workers > 1 and torch.device(config.device).type != "cpu":
        raise ValueError(f"--workers {workers} with --device {config.device}: several workers run "
                         "on CPU only; on GPUs, run one process per GPU (torchrun) with "
                         "estimators.MetaObjective in DistributedDataParallel")
    if workers == 1:
        return _train_all(config, 0, 1, progress)
    return _launch(config, workers, progress)


# -- several worker processes ------------------------------------------------------------------------

def _launch(config: TrainConfig, workers: int, progress: bool) -> TrainResult:
    _source(config)  # the image folder is checked here, before any worker starts
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "OMP_NUM_THREADS": str(config.threads),
           "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    with tempfile.TemporaryDirectory(prefix="binomgbml-train-") as tmp:
        spec = Path(tmp, "config.json")
        spec.write_text(json.dumps(asdict(config)))
        procs = [subprocess.Popen([sys.executable, "-m", "verify.experiments.train", str(spec),
                                   str(rank), str(workers), tmp, str(int(progress and rank == 0))],
                                  env=env, stdin=subprocess.PIPE, process_group=0)
                 for rank in range(workers)]  # own process group: Ctrl-C reaches this process only
        try:
            codes = _wait(procs)
        except KeyboardInterrupt:
            _stop(procs)
            raise
        for rank, code in enumerate(codes):
            message = Path(tmp, f"error{rank}.txt")
            if message.exists():
                raise ValueError(message.read_text().strip())
            if code != 0:
                raise RuntimeError(f"training worker {rank} of {workers} exited with status {code}")
        result = json.loads(Path(tmp, "result.json").read_text())
    return TrainResult(config, result["estimators"], workers)


def _wait(procs: list) -> list[int]:
    """Wait for every worker; when one fails, stop the others (they would wait for it)."""
    while True:
        codes = [p.poll() for p in procs]
        if all(c is not None for c in codes):
            return codes
        if any(c not in (None, 0) for c in codes):
            _stop(procs)
            return [p.wait() for p in procs]
        time.sleep(0.1)


def _stop(procs: list) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _exit_with_parent() -> None:
    """The parent holds the other end of our stdin: when it ends, however it ends, so do we
    (rather than wait for the other workers in a collective until gloo times out)."""
    sys.stdin.read()
    os._exit(3)


def _worker(argv: list[str]) -> int:
    """One training worker: ``python -m verify.experiments.train CONFIG RANK WORLD DIR PROGRESS``."""
    spec, rank_text, world_text, tmp, progress = argv
    rank, world = int(rank_text), int(world_text)
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    try:
        import torch.distributed as dist

        config = TrainConfig(**json.loads(Path(spec).read_text()))
        torch.set_num_threads(config.threads)
        dist.init_process_group("gloo", init_method=f"file://{tmp}/store", rank=rank,
                                world_size=world)
        try:
            result = _train_all(config, rank, world, progress == "1")
        finally:
            dist.destroy_process_group()
        if rank == 0:
            Path(tmp, "result.part").write_text(json.dumps(result.to_json()))
            os.replace(Path(tmp, "result.part"), Path(tmp, "result.json"))
        return 0
    except ValueError as exc:  # input errors, reported by the parent as one line
        Path(tmp, f"error{rank}.txt").write_text(" ".join(str(exc).split()) or type(exc).__name__)
        return 2


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
