"""Plots that several notebooks share: the course style, fixed colours, image grids, learning curves,
confusion matrices.

:func:`apply_style` (called by ``helpers.course.start``) sets one readable style for the whole course,
and :func:`color` gives every optimizer and model the same colour in every notebook::

    ax.plot(steps, losses, color=color("Adam"), label="Adam")

Each plotting function draws one figure and shows it (so a notebook cell shows it once).
Taught in ``00_start_here``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np


# One colour per optimizer or model, the same in every notebook (Okabe-Ito, safe for colour blindness).
COLORS: dict[str, str] = {
    "sgd": "#000000", "momentum": "#E69F00", "nesterov": "#56B4E9", "adagrad": "#009E73",
    "rmsprop": "#CC79A7", "adam": "#0072B2", "adamw": "#D55E00", "adamax": "#999999",
    "linear": "#999999", "mlp": "#E69F00", "cnn": "#0072B2", "numpy": "#009E73", "keras": "#D55E00",
    "train": "#0072B2", "validation": "#D55E00", "test": "#000000",
}
_ALIASES = {"sgd+momentum": "momentum", "heavyball": "momentum", "heavy-ball": "momentum",
            "sgdmomentum": "momentum", "sgd+nesterov": "nesterov", "val": "validation"}
_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]


def color(name: str) -> str:
    """The course's colour for an optimizer or model name ("Adam", "SGD+momentum", "MLP", ...).

    The first word decides ("Adam + warmup/cosine" is Adam's colour); an unknown name gets a
    colour from its spelling, so it is at least the same in every figure.
    """
    key = name.strip().lower().replace(" ", "")
    if key in _ALIASES or key in COLORS:
        return COLORS[_ALIASES.get(key, key)]
    words = re.findall(r"[a-z0-9+\-]+", name.lower())  # "SGD, lr=0.45" -> "sgd"
    first = _ALIASES.get(words[0], words[0]) if words else ""
    if first in COLORS:
        return COLORS[first]
    return _CYCLE[sum(map(ord, key)) % len(_CYCLE)]


def apply_style() -> None:
    """The course-wide matplotlib style: sharp figures, readable text, light grids, no top/right spines."""
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (6.4, 4.0),
        "figure.autolayout": False, "figure.constrained_layout.use": True,
        "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
        "xtick.labelsize": 10, "ytick.labelsize": 10, "lines.linewidth": 1.8,
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
        "legend.frameon": False, "axes.prop_cycle": plt.cycler(color=_CYCLE),
        "image.cmap": "viridis",
    })


def legend_outside(ax: plt.Axes, **kwargs: Any) -> None:
    """A legend to the right of the axes, clear of the data (for plots with many lines)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, **kwargs)


def show_images(images: np.ndarray, labels: Sequence[int] | np.ndarray | None = None,
                class_names: Sequence[str] | None = None, *, ncols: int = 10,
                predictions: Sequence[int] | np.ndarray | None = None,
                confidences: Sequence[float] | np.ndarray | None = None,
                title: str | None = None, size: float = 1.2) -> None:
    """Show images in a grid, each titled with its label (and prediction, if given).

    Args:
        images: (n, h, w) grey or (n, h, w, 3) colour images, uint8 0-255 or floats in [0, 1].
        labels: true class indices, one per image.
        class_names: names for the class indices.
        predictions: predicted class indices; a wrong one is titled in red.
        confidences: the predicted class's probability, shown beside it.
        title: a title over the whole grid, e.g. the data set and its credit.
        size: inches per image.
    """
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("show_images needs at least one image")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.25) * nrows), squeeze=False)
    name = (lambda k: class_names[int(k)]) if class_names is not None else (lambda k: str(int(k)))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i]
        grey = img.ndim == 2 or img.shape[-1] == 1
        ax.imshow(img.squeeze() if grey else img, cmap="gray_r" if grey else None, interpolation="nearest",
                  vmin=0, vmax=255 if img.dtype == np.uint8 else 1)
        text, title_color = "", "black"
        if labels is not None:
            text = name(np.ravel(labels)[i])
        if predictions is not None:
            pred = int(np.ravel(predictions)[i])
            conf = f" {float(np.ravel(confidences)[i]):.0%}" if confidences is not None else ""
            text = f"{text}\npred {name(pred)}{conf}" if text else f"pred {name(pred)}{conf}"
            if labels is not None and pred != int(np.ravel(labels)[i]):
                title_color = "#D55E00"
        ax.set_title(text, fontsize=9, color=title_color)
    if title:
        fig.suptitle(title, fontsize=10)
    plt.show()


def _as_dict(history: Any) -> dict[str, list[float]]:
    return dict(history.history) if hasattr(history, "history") else dict(history)


def plot_history(histories: Mapping[str, Any] | Any, metrics: Sequence[str] = ("loss", "accuracy"),
                 *, title: str | None = None, bands: Mapping[str, Mapping[str, np.ndarray]] | None = None) -> None:
    """Plot learning curves: one panel per metric, training solid and validation dashed (loss on a log axis).

    Args:
        histories: a Keras ``History`` (or its ``.history`` dict), or a mapping
            from a run's name to one, to compare runs in the same panels.
        metrics: the metrics to draw, e.g. ``("loss", "accuracy")``; the
            ``val_`` versions are drawn too when present.
        title: a title over the figure.
        bands: optional ``{run: {metric: (low, high) array pair}}`` drawn as
            shaded bands (e.g. ± one standard deviation over seeds).
    """
    if hasattr(histories, "history") or (isinstance(histories, Mapping)
                                         and any(k in histories for k in metrics)):
        histories = {"": histories}
    runs = {name: _as_dict(h) for name, h in histories.items()}
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes.flat, metrics):
        for k, (name, hist) in enumerate(runs.items()):
            line_color = color(name) if name else cycle[0]
            for key, style, kind in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                if key not in hist:
                    continue
                values = np.asarray(hist[key], dtype=float)
                epochs = np.arange(1, len(values) + 1)
                label = f"{name} {kind}".strip()
                # one run: training and validation in their course colours; several: one colour per run
                shade = color(kind) if len(runs) == 1 else line_color
                ax.plot(epochs, values, style, color=shade, label=label)
                if bands and name in bands and key in bands[name]:
                    low, high = bands[name][key]
                    ax.fill_between(epochs, low, high, color=shade, alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{metric} (log scale)" if metric == "loss" else metric)
        if metric == "loss":
            ax.set_yscale("log")
        ax.xaxis.get_major_locator().set_params(integer=True)
        if len(runs) > 3:
            legend_outside(ax)
        else:
            ax.legend()
    if title:
        fig.suptitle(title)
    plt.show()


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``m[i, j]`` of images of true class ``i`` predicted as class ``j``."""
    y_true = np.ravel(y_true).astype(int)
    y_pred = np.ravel(y_pred).astype(int)
    m = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def plot_confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str],
                          *, title: str | None = None, errors_only: bool = True) -> np.ndarray:
    """Draw the confusion matrix (rows: true class, columns: prediction) and return its counts.

    Cells are shaded by the fraction of the true class and annotated with counts. With
    ``errors_only`` (the default) the diagonal is left blank and the shading spans the mistakes
    only, so that the errors show; the returned counts keep the diagonal.
    """
    k = len(class_names)
    m = confusion_matrix(y_true, y_pred, k)
    shown = m.copy()
    if errors_only:
        np.fill_diagonal(shown, 0)
    frac = shown / np.maximum(1, m.sum(axis=1, keepdims=True))
    fig, ax = plt.subplots(figsize=(0.6 * k + 2.5, 0.6 * k + 1.8))
    image = ax.imshow(frac, cmap="Blues", vmin=0, vmax=max(frac.max(), 1e-9))
    ax.grid(False)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label="fraction of the true class")
    for i in range(k):
        for j in range(k):
            if shown[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if frac[i, j] > 0.6 * frac.max() else "black")
            elif i != j or not errors_only:   # a zero, told apart from the blank diagonal
                ax.text(j, i, "0", ha="center", va="center", fontsize=7, color="0.6")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right", fontsize=9)
    ax.set_yticks(range(k), class_names, fontsize=9)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    default = ("Mistakes (counts; diagonal left blank; shade = fraction of the true class)" if errors_only
               else "Confusion matrix (counts; shade = fraction of the true class)")
    ax.set_title(title or default, fontsize=10)
    plt.show()
    return m
