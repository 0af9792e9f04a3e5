"""Rate-distortion evaluation against JPEG, WebP and AVIF (Pillow).

For every image and every quality level of the model (the one level of a
single-rate model): tensorcoder's bpp, PSNR and MS-SSIM and its
encode/decode times, and each baseline at the same bit rate. "Same bit
rate" means: each baseline's rate-distortion curve is measured over its
whole quality range on that image, and its PSNR/MS-SSIM are interpolated
(linearly in bpp) at tensorcoder's bpp; the baseline quality whose bpp is
closest is kept too, for pictures.

Over a set of images, ``summary`` averages each level (and the baselines at
equal bpp, image by image), and ``bd_rates`` gives the Bjøntegaard delta
rate (``rd.bd_rate``) of tensorcoder's mean curve against each baseline's
mean curve (baseline points averaged per quality setting, as published
comparisons do), in PSNR and in MS-SSIM dB (``-10 log10(1 - MS-SSIM)``).
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import time
from typing import Optional, Sequence

import numpy as np

from tensorcoder.image_codec import codec
from tensorcoder.image_codec import images
from tensorcoder.image_codec import rd

# Baselines: name -> (Pillow format, quality settings measured).
BASELINES = {
    "JPEG": ("JPEG", tuple(range(1, 96, 2))),
    "WebP": ("WEBP", tuple(range(1, 96, 2))),
    "AVIF": ("AVIF", tuple(range(1, 96, 3))),
}


@dataclasses.dataclass
class Result:
  """One image at one quality level (None: a single-rate model)."""
  name: str
  width: int
  height: int
  quality: Optional[int]
  bpp: float
  psnr: float
  ms_ssim: float
  encode_ms: float
  decode_ms: float
  jpeg_psnr: float
  jpeg_ms_ssim: float
  jpeg_quality: int
  webp_psnr: float
  webp_ms_ssim: float
  avif_psnr: float
  avif_ms_ssim: float
  reconstruction: np.ndarray = dataclasses.field(repr=False)
  jpeg_image: np.ndarray = dataclasses.field(repr=False)
  # Baseline curves by lower-case name ("jpeg", "webp", "avif": rows of
  # quality, bpp, PSNR, MS-SSIM sorted by bpp) and the "original" image.
  curves: dict = dataclasses.field(repr=False)


def pillow_codec(image: np.ndarray, fmt: str, quality: int):
  """``(bpp, decoded image)`` of a Pillow JPEG/WebP/AVIF encoding."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  options = dict(quality=int(quality))
  if fmt == "JPEG":
    options.update(subsampling="4:2:0", optimize=True)
  elif fmt == "WEBP":
    options.update(method=6)
  Image.fromarray(image).save(buffer, format=fmt, **options)
  data = buffer.getvalue()
  decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
  return 8 * len(data) / image.shape[0] / image.shape[1], decoded


def baseline_curve(image: np.ndarray, fmt: str,
                   qualities: Sequence[int] = BASELINES["JPEG"][1]):
  """Rows ``(quality, bpp, psnr, ms_ssim)`` sorted by bpp."""
  rows = []
  for quality in qualities:
    bpp, decoded = pillow_codec(image, fmt, quality)
    rows.append((quality, bpp, images.psnr(image, decoded),
                 images.ms_ssim(image, decoded)))
  rows.sort(key=lambda r: r[1])
  return np.array(rows)


def baseline_curves(image: np.ndarray) -> dict:
  """Every baseline's curve on ``image`` (keys as in ``Result.curves``)."""
  return {name.lower(): baseline_curve(image, fmt, qualities)
          for name, (fmt, qualities) in BASELINES.items()}


def at_rate(curve: np.ndarray, bpp: float, column: int) -> float:
  """A curve's value at ``bpp`` (linear interpolation; NaN outside)."""
  if bpp < curve[0, 1] or bpp > curve[-1, 1]:
    return float("nan")
  return float(np.interp(bpp, curve[:, 1], curve[:, column]))


def nearest_setting(curve: np.ndarray, bpp: float) -> int:
  """The quality setting of ``curve`` whose bpp is closest to ``bpp``."""
  return int(curve[int(np.argmin(np.abs(curve[:, 1] - bpp))), 0])


def evaluate_image(path: str, model: Optional[str] = None,
                   quality: Optional[int] = None,
                   curves: Optional[dict] = None,
                   warm_up: bool = True,
                   precision: Optional[str] = None,
                   refine: int = 0) -> Result:
  """One image at one quality (None: the model's default); ``curves``
  (``baseline_curves`` of the image) are measured unless given. ``warm_up``
  runs an untimed round trip first (without refinement), which loads the
  model and traces its functions for this image size (other levels of the
  same size need none). ``precision`` and ``refine``: as in ``codec``."""
  image = images.load(path)
  if warm_up:
    codec.decompress_bytes(
        codec.compress_array(image, model, quality, precision), model,
        precision)
  start = time.perf_counter()
  data = codec.compress_array(image, model, quality, precision, refine)
  encode_ms = 1000 * (time.perf_counter() - start)
  start = time.perf_counter()
  reconstruction = codec.decompress_bytes(data, model, precision)
  decode_ms = 1000 * (time.perf_counter() - start)
  bpp = 8 * len(data) / image.shape[0] / image.shape[1]
  if curves is None:
    curves = baseline_curves(image)
  jpeg_quality = nearest_setting(curves["jpeg"], bpp)
  _, jpeg_image = pillow_codec(image, "JPEG", jpeg_quality)
  measured = {}
  for name in ("jpeg", "webp", "avif"):
    measured[f"{name}_psnr"] = at_rate(curves[name], bpp, 2)
    measured[f"{name}_ms_ssim"] = at_rate(curves[name], bpp, 3)
  return Result(
      name=os.path.basename(path), width=image.shape[1],
      height=image.shape[0], quality=codec.check_quality(quality, model),
      bpp=bpp, psnr=images.psnr(image, reconstruction),
      ms_ssim=images.ms_ssim(image, reconstruction), encode_ms=encode_ms,
      decode_ms=decode_ms, jpeg_quality=jpeg_quality,
      reconstruction=reconstruction, jpeg_image=jpeg_image,
      curves=dict(curves, original=image), **measured)


def levels(model: Optional[str] = None) -> list[Optional[int]]:
  """The quality levels to evaluate: all of a variable-rate model, [None]
  for a single-rate one."""
  count = codec.qualities(model)
  return [None] if count is None else list(range(1, count + 1))


def _number(value: float, digits: int) -> str:
  # NaN: tensorcoder's rate is outside the range of the baseline's rates.
  return "n/a" if value is None or np.isnan(value) else f"{value:.{digits}f}"


def _format(rows: list) -> list[str]:
  widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
  lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths)))
           for row in rows]
  lines.insert(1, "-" * len(lines[0]))
  return lines


def table(results: Sequence[Result]) -> str:
  """Per image and level, then (for several images or levels) the means per
  level and the BD-rates."""
  header = ("image", "q", "size", "bpp", "PSNR", "MS-SSIM", "enc ms",
            "dec ms", "JPEG PSNR", "WebP PSNR", "AVIF PSNR", "JPEG MS-SSIM")
  rows = [header]
  for r in results:
    rows.append((r.name, "-" if r.quality is None else str(r.quality),
                 f"{r.width}x{r.height}", f"{r.bpp:.3f}", f"{r.psnr:.2f}",
                 f"{r.ms_ssim:.4f}", f"{r.encode_ms:.0f}",
                 f"{r.decode_ms:.0f}", _number(r.jpeg_psnr, 2),
                 _number(r.webp_psnr, 2), _number(r.avif_psnr, 2),
                 _number(r.jpeg_ms_ssim, 4)))
  lines = _format(rows)
  for r in results:
    for name in ("JPEG", "WebP", "AVIF"):
      if not np.isnan(getattr(r, f"{name.lower()}_psnr")):
        continue
      curve = r.curves[name.lower()]
      low = r.bpp < curve[0, 1]
      end = curve[0] if low else curve[-1]
      lines.append(f"n/a: {name} cannot reach {r.bpp:.3f} bpp on {r.name}; "
                   f"its {'lowest' if low else 'highest'} rate is "
                   f"{end[1]:.3f} bpp at {end[2]:.2f} dB "
                   f"(quality {int(end[0])})")
  lines.append("Times are one call each after an untimed warm-up. Baseline "
               "values are interpolated at tensorcoder's bpp.")
  if len({r.name for r in results}) > 1 or len({r.quality for r in results}) > 1:
    lines.append("")
    lines.append(summary_table(results))
  return "\n".join(lines)


@dataclasses.dataclass
class Level:
  """Means over the images of one quality level."""
  quality: Optional[int]
  images: int
  bpp: float
  psnr: float
  ms_ssim: float
  encode_ms: float
  decode_ms: float
  # Baselines at tensorcoder's bpp, image by image, then averaged (NaN if
  # any image's rate is outside the baseline's range).
  jpeg_psnr: float
  webp_psnr: float
  avif_psnr: float
  webp_ms_ssim: float
  avif_ms_ssim: float


def summary(results: Sequence[Result]) -> list[Level]:
  """The mean of each quality level over its images."""
  out = []
  for quality in sorted({r.quality for r in results},
                        key=lambda q: -1 if q is None else q):
    group = [r for r in results if r.quality == quality]
    mean = lambda attr, g=group: float(np.mean([getattr(r, attr) for r in g]))
    out.append(Level(
        quality, len(group), mean("bpp"), mean("psnr"), mean("ms_ssim"),
        mean("encode_ms"), mean("decode_ms"), mean("jpeg_psnr"),
        mean("webp_psnr"), mean("avif_psnr"), mean("webp_ms_ssim"),
        mean("avif_ms_ssim")))
  return out


def ms_ssim_db(value) -> np.ndarray:
  """MS-SSIM on a dB scale, ``-10 log10(1 - MS-SSIM)``."""
  return -10 * np.log10(np.maximum(1 - np.asarray(value, np.float64), 1e-10))


def mean_baseline_curve(results: Sequence[Result], name: str) -> np.ndarray:
  """A baseline's curve averaged over the distinct images of ``results``:
  rows ``(quality, bpp, PSNR, MS-SSIM)`` per quality setting, sorted by bpp."""
  per_image = {}
  for r in results:
    per_image.setdefault(r.name, r.curves[name.lower()])
  curves = list(per_image.values())
  by_setting = [np.array(sorted(c.tolist())) for c in curves]  # by quality
  mean = np.mean(np.stack(by_setting), axis=0)
  return mean[np.argsort(mean[:, 1])]


def bd_rates(results: Sequence[Result]) -> dict:
  """``{baseline: (BD-rate in PSNR, BD-rate in MS-SSIM dB)}`` in percent
  (negative: tensorcoder needs fewer bits) of the mean curves; None where
  there are fewer than ``rd.MIN_POINTS`` levels or the curves do not
  overlap."""
  levels_ = summary(results)
  out = {}
  for name in BASELINES:
    if len(levels_) < rd.MIN_POINTS:
      out[name] = None
      continue
    curve = mean_baseline_curve(results, name)
    rates = [l.bpp for l in levels_]
    # Fit the baseline near tensorcoder's range only: a cubic over its whole
    # range (down to JPEG quality 1) would bend away from the region compared.
    keep = (curve[:, 1] >= min(rates) / 1.5) & (curve[:, 1] <= max(rates) * 1.5)
    if keep.sum() < rd.MIN_POINTS:
      out[name] = None
      continue
    curve = curve[keep]
    try:
      out[name] = (
          rd.bd_rate(curve[:, 1], curve[:, 2], rates, [l.psnr for l in levels_]),
          rd.bd_rate(curve[:, 1], ms_ssim_db(curve[:, 3]), rates,
                     ms_ssim_db([l.ms_ssim for l in levels_])))
    except ValueError:
      out[name] = None
  return out


def summary_table(results: Sequence[Result]) -> str:
  """Means per level over the images, the margin over WebP, and BD-rates."""
  count = len({r.name for r in results})
  rows = [("q", "bpp", "PSNR", "MS-SSIM", "enc ms", "dec ms", "JPEG PSNR",
           "WebP PSNR", "AVIF PSNR", "vs WebP", "vs AVIF")]
  for l in summary(results):
    rows.append(("-" if l.quality is None else str(l.quality),
                 f"{l.bpp:.3f}", f"{l.psnr:.2f}", f"{l.ms_ssim:.4f}",
                 f"{l.encode_ms:.0f}", f"{l.decode_ms:.0f}",
                 _number(l.jpeg_psnr, 2), _number(l.webp_psnr, 2),
                 _number(l.avif_psnr, 2),
                 _number(l.psnr - l.webp_psnr, 2),
                 _number(l.psnr - l.avif_psnr, 2)))
  lines = [f"Means over {count} image(s), baselines at equal bpp image by "
           "image (vs: tensorcoder's PSNR minus the baseline's, in dB):"]
  lines += _format(rows)
  deltas = bd_rates(results)
  parts = []
  for name, value in deltas.items():
    if value is None:
      # Too few of the baseline's points near tensorcoder's rates, or no
      # quality range that both curves reach.
      parts.append(f"{name} n/a (the curves do not overlap)")
    else:
      parts.append(f"{name} {value[0]:+.1f}% (MS-SSIM {value[1]:+.1f}%)")
  if any(v is not None for v in deltas.values()):
    lines.append("BD-rate of tensorcoder (negative: fewer bits at equal "
                 "quality) against " + ", ".join(parts))
  else:
    lines.append(f"BD-rates need at least {rd.MIN_POINTS} quality levels.")
  return "\n".join(lines)


def rd_plot(results: Sequence[Result], path: str,
            title: Optional[str] = None) -> None:
  """PSNR and MS-SSIM (dB) against bpp, averaged over the images: the
  baselines' curves and tensorcoder's levels; BD-rates in the legend."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=g-import-not-at-top
  levels_ = summary(results)
  deltas = bd_rates(results)
  rates = [l.bpp for l in levels_]
  right = min(2.5, max([0.5] + [1.3 * max(rates)]))
  figure, axes = pyplot.subplots(1, 2, figsize=(11, 4.6), dpi=110)
  styles = {"JPEG": ("tab:gray", "-"), "WebP": ("tab:blue", "--"),
            "AVIF": ("tab:green", "-.")}
  for panel, (column, label, to_y) in enumerate((
      (2, "PSNR (dB)", lambda v: v), (3, "MS-SSIM (dB)", ms_ssim_db))):
    ax = axes[panel]
    shown = []
    for name, (color, style) in styles.items():
      curve = mean_baseline_curve(results, name)
      visible = curve[curve[:, 1] <= right]
      text = name
      if deltas.get(name) is not None:
        text += f" (BD-rate {deltas[name][panel]:+.1f}%)"
      ax.plot(visible[:, 1], to_y(visible[:, column]), style, color=color,
              label=text)
      shown.extend(to_y(visible[:, column]).tolist())
    values = to_y(np.array([l.psnr if column == 2 else l.ms_ssim
                            for l in levels_]))
    ax.plot(rates, values, "o-", color="tab:red", linewidth=2,
            label="tensorcoder")
    for l, value in zip(levels_, values):
      if l.quality is not None:
        ax.annotate(f"q{l.quality}", (l.bpp, value), textcoords="offset "
                    "points", xytext=(4, -10), fontsize=7, color="tab:red")
    shown.extend(values.tolist())
    ax.set_xlim(0, right)
    finite = [v for v in shown if math.isfinite(v)]
    low = min(values.min(), np.percentile(finite, 10))
    ax.set_ylim(low - 1, max(finite) + 0.5)
    ax.set_xlabel("bits per pixel")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
  count = len({r.name for r in results})
  figure.suptitle(title or f"tensorcoder vs JPEG, WebP and AVIF (Pillow), "
                  f"mean over {count} image(s)")
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  pyplot.close(figure)
  images.write_atomically(path, buffer.getvalue())


def side_by_side(result: Result, path: str,
                 crop: Optional[int] = 256) -> None:
  """Original | tensorcoder | JPEG | WebP | AVIF, the baselines at the
  quality setting whose rate is closest to tensorcoder's, labelled; a
  ``crop`` x ``crop`` centre crop (None: the whole image)."""
  from PIL import Image, ImageDraw  # pylint: disable=g-import-not-at-top
  original = result.curves["original"]
  height, width = original.shape[:2]
  if crop is not None and crop < min(height, width):
    top, left = (height - crop) // 2, (width - crop) // 2
    window = (slice(top, top + crop), slice(left, left + crop))
  else:
    window = (slice(0, height), slice(0, width))
  panels = [(original, "original"),
            (result.reconstruction,
             f"tensorcoder {result.bpp:.3f} bpp, {result.psnr:.2f} dB")]
  for name, fmt in (("JPEG", "JPEG"), ("WebP", "WEBP"), ("AVIF", "AVIF")):
    setting = nearest_setting(result.curves[name.lower()], result.bpp)
    bpp, decoded = pillow_codec(original, fmt, setting)
    panels.append((decoded, f"{name} q={setting} {bpp:.3f} bpp, "
                   f"{images.psnr(original, decoded):.2f} dB"))
  panel_h = window[0].stop - window[0].start
  panel_w = window[1].stop - window[1].start
  band = 18
  canvas = Image.new("RGB", (len(panels) * (panel_w + 4) - 4, panel_h + band),
                     "white")
  draw = ImageDraw.Draw(canvas)
  for i, (panel, label) in enumerate(panels):
    x = i * (panel_w + 4)
    canvas.paste(Image.fromarray(np.ascontiguousarray(panel[window])),
                 (x, band))
    draw.text((x + 2, 3), label, fill="black")
  buffer = io.BytesIO()
  canvas.save(buffer, format="PNG")
  images.write_atomically(path, buffer.getvalue())


def image_paths(sources: Sequence[str]) -> list[str]:
  """The images ``sources`` name (``builtin-eval``: ``images.EVAL_IMAGES``)."""
  paths = []
  for source in sources:
    if source == "builtin-eval":
      paths.extend(images.resolve(name) for name in images.EVAL_IMAGES)
    else:
      paths.extend(images.expand([source]))
  return paths


def evaluate(sources: Sequence[str], model: Optional[str] = None,
             plot: Optional[str] = None,
             qualities: Optional[Sequence[Optional[int]]] = None,
             precision: Optional[str] = None,
             refine: int = 0) -> list[Result]:
  """Every image of ``sources`` at every level in ``qualities`` (default:
  all of the model's, see ``levels``), the transforms in ``precision`` and
  ``refine`` steps of latent refinement (as in ``codec``); writes the RD
  plot to ``plot``."""
  paths = image_paths(sources)
  qualities = levels(model) if qualities is None else list(qualities)
  results = []
  for path in paths:
    curves = baseline_curves(images.load(path))
    results.extend(evaluate_image(path, model, q, curves, warm_up=i == 0,
                                  precision=precision, refine=refine)
                   for i, q in enumerate(qualities))
  if plot:
    rd_plot(results, plot)
  return results
