"""Plots that several notebooks share: image grids, learning curves, confusion matrices.

Each function draws one figure and shows it (so a notebook cell shows it once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np


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
        text, color = "", "black"
        if labels is not None:
            text = name(np.ravel(labels)[i])
        if predictions is not None:
            pred = int(np.ravel(predictions)[i])
            conf = f" {float(np.ravel(confidences)[i]):.0%}" if confidences is not None else ""
            text = f"{text}\npred {name(pred)}{conf}" if text else f"pred {name(pred)}{conf}"
            if labels is not None and pred != int(np.ravel(labels)[i]):
                color = "red"
        ax.set_title(text, fontsize=8, color=color)
    if title:
        fig.suptitle(title, fontsize=10)
    plt.show()


def _as_dict(history: Any) -> dict[str, list[float]]:
    return dict(history.history) if hasattr(history, "history") else dict(history)


def plot_history(histories: Mapping[str, Any] | Any, metrics: Sequence[str] = ("loss", "accuracy"),
                 *, title: str | None = None, bands: Mapping[str, Mapping[str, np.ndarray]] | None = None) -> None:
    """Plot learning curves: one panel per metric, training solid and validation dashed.

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
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes.flat, metrics):
        for k, (name, hist) in enumerate(runs.items()):
            color = colors[k % len(colors)]
            for key, style, kind in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                if key not in hist:
                    continue
                values = np.asarray(hist[key], dtype=float)
                epochs = np.arange(1, len(values) + 1)
                label = f"{name} {kind}".strip()
                ax.plot(epochs, values, style, color=color, label=label)
                if bands and name in bands and key in bands[name]:
                    low, high = bands[name][key]
                    ax.fill_between(epochs, low, high, color=color, alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
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
                          *, title: str | None = None) -> np.ndarray:
    """Draw the confusion matrix (rows: true class, columns: prediction) and return its counts.

    Cells are shaded by the fraction of the true class and annotated with counts.
    """
    k = len(class_names)
    m = confusion_matrix(y_true, y_pred, k)
    frac = m / np.maximum(1, m.sum(axis=1, keepdims=True))
    fig, ax = plt.subplots(figsize=(0.55 * k + 2, 0.55 * k + 1.5))
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if frac[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or "Confusion matrix (counts; shade = fraction of the true class)", fontsize=9)
    plt.show()
    return m
