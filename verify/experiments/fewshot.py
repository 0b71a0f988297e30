"""Few-shot classification on a folder of images (Section 4.2, Appendix C.2).

A dataset is a folder with one sub-folder per class, each holding that class's images (PNG,
JPEG, ...; read with Pillow, converted to RGB and resized to ``size`` x ``size``). If the folder
has sub-folders ``train`` and ``test`` that are themselves such class folders (as miniImageNet is
often laid out, with the split of Ravi and Larochelle), they are the meta-training and the
held-out classes; otherwise the classes, in sorted order, are split: the last fifth (at least
``ways`` classes) is held out.

A task is a W-way S-shot episode (Finn et al., 2017): W classes drawn without replacement, S
support and Q query images of each drawn without replacement, labels 0..W-1 in the order drawn.
The network is CNN4: four blocks of a 3x3 convolution with 32 filters, batch normalisation with
batch statistics (``track_running_stats=False``: the statistics of the batch at hand, in the inner
loop as at test time), ReLU and 2x2 max-pooling, then a linear layer to the W classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["IMAGE_SUFFIXES", "ImageClasses", "cnn4", "episodes", "split_classes"]

#: the file endings read as images (case-insensitive)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".tif", ".tiff", ".webp")
#: the fraction of the classes held out when the folder has no train/test split
HELD_OUT = 0.2


@dataclass
class ImageClasses:
    """Classes (name -> image files) of one split, and a cache of the decoded images (uint8)."""

    root: Path
    classes: dict[str, list[Path]]
    size: int
    _cache: dict = field(default_factory=dict, repr=False)

    def image(self, path: Path) -> torch.Tensor:
        """The image at ``path`` as a 3 x size x size uint8 tensor (decoded once, then cached)."""
        if path not in self._cache:
            from PIL import Image, UnidentifiedImageError

            try:
                with Image.open(path) as img:
                    rgb = img.convert("RGB").resize((self.size, self.size),
                                                    Image.Resampling.BILINEAR)
                    array = np.asarray(rgb, dtype=np.uint8).copy()
            except (OSError, UnidentifiedImageError) as exc:
                raise ValueError(f"image {str(path)!r} cannot be read: {exc}") from None
            self._cache[path] = torch.from_numpy(array).permute(2, 0, 1).contiguous()
        return self._cache[path]


def _class_folders(root: Path, size: int) -> ImageClasses:
    classes = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            classes[folder.name] = files
    return ImageClasses(root, classes, size)


def _check_readable(files: list[Path]) -> None:
    """Read every image's header now (fast), so that an unreadable file stops nothing midway."""
    from PIL import Image, UnidentifiedImageError

    for path in files:
        try:
            with Image.open(path):
                pass
        except (OSError, UnidentifiedImageError) as exc:
            raise ValueError(f"image {str(path)!r} cannot be read: {exc}") from None


def split_classes(root: str | Path, *, ways: int, shots: int, queries: int,
                  size: int) -> tuple[ImageClasses, ImageClasses]:
    """The meta-training and held-out classes of the image folder ``root`` (module docstring),
    checked before any training: every image readable, at least ``ways`` classes on each side,
    each class with at least ``shots + queries`` images."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"--images {str(root)!r}: not a directory")
    if (root / "train").is_dir() and (root / "test").is_dir():
        train, test = _class_folders(root / "train", size), _class_folders(root / "test", size)
    else:
        every = _class_folders(root, size)
        names = list(every.classes)
        cut = max(0, len(names) - max(ways, math.ceil(HELD_OUT * len(names))))
        train = ImageClasses(root, {n: every.classes[n] for n in names[:cut]}, size)
        test = ImageClasses(root, {n: every.classes[n] for n in names[cut:]}, size)
    need = shots + queries
    _check_readable([f for split in (train, test) for files in split.classes.values() for f in files])
    for split, name in ((train, "meta-training"), (test, "held-out")):
        if len(split.classes) < ways:
            raise ValueError(f"--images {str(root)!r}: {len(split.classes)} {name} classes with "
                             f"images, need at least --ways {ways} (one sub-folder of images per "
                             "class; train/ and test/ sub-folders for an explicit split)")
        for cls, files in split.classes.items():
            if len(files) < need:
                raise ValueError(f"--images: class {cls!r} has {len(files)} images, need at least "
                                 f"--shots + --queries = {need}")
    return train, test


def episodes(classes: ImageClasses, gen: torch.Generator, n: int, *, ways: int, shots: int,
             queries: int, dtype: torch.dtype = torch.float32) -> list:
    """``n`` W-way S-shot tasks ``((x_s, y_s), (x_q, y_q))``: images as float in [0, 1] of shape
    (W*S, 3, size, size) and (W*Q, ...), labels int64 in 0..W-1, support and query class-major."""
    names = list(classes.classes)
    tasks = []
    for _ in range(n):
        drawn = torch.randperm(len(names), generator=gen)[:ways].tolist()
        xs, ys, xq, yq = [], [], [], []
        for label, c in enumerate(drawn):
            files = classes.classes[names[c]]
            pick = torch.randperm(len(files), generator=gen)[:shots + queries].tolist()
            images = [classes.image(files[i]) for i in pick]
            xs += images[:shots]
            xq += images[shots:]
            ys += [label] * shots
            yq += [label] * queries
        tasks.append(((torch.stack(xs).to(dtype) / 255, torch.tensor(ys)),
                      (torch.stack(xq).to(dtype) / 255, torch.tensor(yq))))
    return tasks


def cnn4(ways: int, size: int, seed: int, *, filters: int = 32, channels: int = 3,
         dtype: torch.dtype = torch.float32) -> nn.Module:
    """CNN4 of Appendix C.2 (module docstring) for ``size`` x ``size`` images, initialised by
    PyTorch's default rules from ``seed`` alone (the global random state is left as it was)."""
    if size < 16:
        raise ValueError(f"--image-size {size}: must be at least 16 (four 2x2 poolings)")
    side = size
    with torch.random.fork_rng(devices=[]):  # the layers draw their initial values as built
        torch.manual_seed(seed)
        layers, c = [], channels
        for _ in range(4):
            layers += [nn.Conv2d(c, filters, 3, padding=1),
                       nn.BatchNorm2d(filters, track_running_stats=False), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c, side = filters, side // 2
        layers += [nn.Flatten(), nn.Linear(filters * side * side, ways)]
    return nn.Sequential(*layers).to(dtype)
