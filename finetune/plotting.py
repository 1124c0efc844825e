"""Charts as PNG files: matplotlib when it is installed, else a small built-in line plotter.

The fallback (numpy + zlib, no fonts) draws axes and lines only; it exists for the bare GPU
machine of `scripts/gpu-qlora-check`, where matplotlib may be missing.
"""

import itertools
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

Series = Sequence[tuple[float, float]]
_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]


def line_chart(
    series: Mapping[str, Series], path: Path, *, title: str, xlabel: str, ylabel: str
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _raster_lines(series, path)
        return path
    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    for label, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o" if len(points) < 30 else None, markersize=3, label=label)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def bar_chart(
    groups: Mapping[str, Mapping[str, float]], path: Path, *, title: str, ylabel: str
) -> Path:
    """One group of bars per configuration, one bar per metric (values from 0 to 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(groups)
    metrics = sorted({m for values in groups.values() for m in values})
    width = 0.8 / max(1, len(metrics))
    figure, axes = plt.subplots(figsize=(max(8, 1.6 * len(names) + 2), 4.8), dpi=100)
    for offset, metric in enumerate(metrics):
        xs = [i + offset * width for i in range(len(names))]
        axes.bar(xs, [groups[n].get(metric, 0.0) for n in names], width, label=metric)
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(names))])
    axes.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def reliability_diagram(
    bins: Sequence[tuple[float, float, float, int]],
    path: Path,
    *,
    title: str,
    width: float = 0.1,
) -> Path:
    """Accuracy per confidence bin (bars, with each bin's count) against the diagonal of
    perfect calibration. `bins`: (low edge, mean confidence, accuracy, count)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(5.5, 5), dpi=100)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    lows = [b[0] for b in bins]
    accuracies = [b[2] for b in bins]
    axes.bar(
        lows,
        accuracies,
        width=width,
        align="edge",
        alpha=0.7,
        edgecolor="black",
        label="share correct",
    )
    axes.plot(
        [b[1] for b in bins],
        accuracies,
        "o",
        color="black",
        markersize=3,
        label="mean confidence of the bin",
    )
    for low, _, accuracy, count in bins:
        axes.annotate(str(count), (low + width / 2, accuracy), ha="center", va="bottom", fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("confidence")
    axes.set_ylabel("share correct")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8, loc="upper left")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _raster_lines(
    series: Mapping[str, Series], path: Path, width: int = 640, height: int = 360
) -> None:
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    margin = 30
    image[height - margin, margin : width - margin] = 0
    image[margin : height - margin, margin] = 0
    points = [p for s in series.values() for p in s]
    if points:
        xs, ys = np.array([p[0] for p in points], float), np.array([p[1] for p in points], float)
        x0, x1 = xs.min(), max(xs.max(), xs.min() + 1e-9)
        y0, y1 = ys.min(), max(ys.max(), ys.min() + 1e-9)

        def pixel(x: float, y: float) -> tuple[int, int]:
            px = margin + (x - x0) / (x1 - x0) * (width - 2 * margin - 1)
            py = height - margin - (y - y0) / (y1 - y0) * (height - 2 * margin - 1)
            return int(px), int(py)

        for index, points_of in enumerate(series.values()):
            colour = _COLOURS[index % len(_COLOURS)]
            pixels = [pixel(x, y) for x, y in points_of]
            for (ax, ay), (bx, by) in itertools.pairwise(pixels):
                steps = max(abs(bx - ax), abs(by - ay), 1)
                for t in range(steps + 1):
                    cx, cy = ax + (bx - ax) * t // steps, ay + (by - ay) * t // steps
                    image[max(0, cy - 1) : cy + 1, max(0, cx - 1) : cx + 1] = colour
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
