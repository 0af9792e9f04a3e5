"""Rate-distortion evaluation against JPEG and WebP (Pillow).

For every image: tensorcoder's bpp, PSNR and MS-SSIM, encode/decode time,
and JPEG/WebP at the same bit rate. "Same bit rate" means: each baseline's
rate-distortion curve is measured over its whole quality range, and its
PSNR/MS-SSIM are interpolated (linearly in bpp) at tensorcoder's bpp; the
JPEG quality whose bpp is closest is reported too, for reference.
"""

from __future__ import annotations

import dataclasses
import io
import os
import time
from typing import Optional, Sequence

import numpy as np

from tensorcoder.image_codec import codec
from tensorcoder.image_codec import images


@dataclasses.dataclass
class Result:
  name: str
  width: int
  height: int
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
  reconstruction: np.ndarray = dataclasses.field(repr=False)
  jpeg_image: np.ndarray = dataclasses.field(repr=False)
  curves: dict = dataclasses.field(repr=False)


def pillow_codec(image: np.ndarray, fmt: str, quality: int):
  """``(bpp, decoded image)`` of a Pillow JPEG/WebP encoding."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  options = dict(quality=int(quality))
  if fmt == "JPEG":
    options.update(subsampling="4:2:0", optimize=True)
  else:
    options.update(method=6)
  Image.fromarray(image).save(buffer, format=fmt, **options)
  data = buffer.getvalue()
  decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
  return 8 * len(data) / image.shape[0] / image.shape[1], decoded


def baseline_curve(image: np.ndarray, fmt: str,
                   qualities: Sequence[int] = tuple(range(1, 96, 2))):
  """Rows ``(quality, bpp, psnr, ms_ssim)`` sorted by bpp."""
  rows = []
  for quality in qualities:
    bpp, decoded = pillow_codec(image, fmt, quality)
    rows.append((quality, bpp, images.psnr(image, decoded),
                 images.ms_ssim(image, decoded)))
  rows.sort(key=lambda r: r[1])
  return np.array(rows)


def at_rate(curve: np.ndarray, bpp: float, column: int) -> float:
  """A curve's value at ``bpp`` (linear interpolation; NaN outside)."""
  if bpp < curve[0, 1] or bpp > curve[-1, 1]:
    return float("nan")
  return float(np.interp(bpp, curve[:, 1], curve[:, column]))


def evaluate_image(path: str, model: Optional[str] = None) -> Result:
  image = images.load(path)
  # Untimed warm-up: loads the model and traces its functions for this size.
  codec.decompress_bytes(codec.compress_array(image, model), model)
  start = time.perf_counter()
  data = codec.compress_array(image, model)
  encode_ms = 1000 * (time.perf_counter() - start)
  start = time.perf_counter()
  reconstruction = codec.decompress_bytes(data, model)
  decode_ms = 1000 * (time.perf_counter() - start)
  bpp = 8 * len(data) / image.shape[0] / image.shape[1]
  jpeg = baseline_curve(image, "JPEG")
  webp = baseline_curve(image, "WEBP")
  nearest = int(np.argmin(np.abs(jpeg[:, 1] - bpp)))
  jpeg_quality = int(jpeg[nearest, 0])
  _, jpeg_image = pillow_codec(image, "JPEG", jpeg_quality)
  return Result(
      name=os.path.basename(path), width=image.shape[1],
      height=image.shape[0], bpp=bpp, psnr=images.psnr(image, reconstruction),
      ms_ssim=images.ms_ssim(image, reconstruction), encode_ms=encode_ms,
      decode_ms=decode_ms, jpeg_psnr=at_rate(jpeg, bpp, 2),
      jpeg_ms_ssim=at_rate(jpeg, bpp, 3), jpeg_quality=jpeg_quality,
      webp_psnr=at_rate(webp, bpp, 2), webp_ms_ssim=at_rate(webp, bpp, 3),
      reconstruction=reconstruction, jpeg_image=jpeg_image,
      curves=dict(jpeg=jpeg, webp=webp, original=image))


def table(results: Sequence[Result]) -> str:
  header = ("image", "size", "bpp", "PSNR", "MS-SSIM", "enc ms", "dec ms",
            "JPEG PSNR", "JPEG MS-SSIM", "WebP PSNR")
  # NaN: tensorcoder's rate is outside the range of the Pillow codec's rates.
  number = lambda value, digits: "n/a" if np.isnan(value) else \
      f"{value:.{digits}f}"
  rows = [header]
  for r in results:
    rows.append((r.name, f"{r.width}x{r.height}", f"{r.bpp:.3f}",
                 f"{r.psnr:.2f}", f"{r.ms_ssim:.4f}", f"{r.encode_ms:.0f}",
                 f"{r.decode_ms:.0f}", number(r.jpeg_psnr, 2),
                 number(r.jpeg_ms_ssim, 4), number(r.webp_psnr, 2)))
  if results:
    mean = lambda attr: np.mean([getattr(r, attr) for r in results])
    rows.append(("mean", "", f"{mean('bpp'):.3f}", f"{mean('psnr'):.2f}",
                 f"{mean('ms_ssim'):.4f}", f"{mean('encode_ms'):.0f}",
                 f"{mean('decode_ms'):.0f}", number(mean("jpeg_psnr"), 2),
                 number(mean("jpeg_ms_ssim"), 4),
                 number(mean("webp_psnr"), 2)))
  widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
  lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(row, widths)))
           for row in rows]
  lines.insert(1, "-" * len(lines[0]))
  for r in results:
    for name, value, curve in (("JPEG", r.jpeg_psnr, "jpeg"),
                               ("WebP", r.webp_psnr, "webp")):
      if np.isnan(value):
        rows_by_rate = r.curves[curve]
        low = r.bpp < rows_by_rate[0, 1]
        end = rows_by_rate[0] if low else rows_by_rate[-1]
        lines.append(f"n/a: {name} cannot reach {r.bpp:.3f} bpp on {r.name}; "
                     f"its {'lowest' if low else 'highest'} rate is "
                     f"{end[1]:.3f} bpp at {end[2]:.2f} dB "
                     f"(quality {int(end[0])})")
  lines.append("Times are one call each after an untimed warm-up. JPEG and "
               "WebP values are interpolated at tensorcoder's bpp.")
  return "\n".join(lines)


def rd_plot(results: Sequence[Result], path: str,
            extra_points: Optional[dict] = None) -> None:
  """PSNR against bpp: JPEG and WebP curves and tensorcoder's points."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=g-import-not-at-top
  figure, axes = pyplot.subplots(figsize=(7, 5), dpi=110)
  colors = pyplot.rcParams["axes.prop_cycle"].by_key()["color"]
  for i, result in enumerate(results):
    color = colors[i % len(colors)]
    jpeg, webp = result.curves["jpeg"], result.curves["webp"]
    axes.plot(jpeg[:, 1], jpeg[:, 2], "-", color=color, alpha=0.8,
              label=f"{result.name} JPEG")
    axes.plot(webp[:, 1], webp[:, 2], ":", color=color, alpha=0.8,
              label=f"{result.name} WebP")
    axes.plot([result.bpp], [result.psnr], "*", color=color, markersize=14,
              label=f"{result.name} tensorcoder")
  for label, (bpp, psnr) in (extra_points or {}).items():
    axes.plot([bpp], [psnr], "o", label=label)
  # Around tensorcoder's rates, so that the comparison is readable.
  rates = [r.bpp for r in results]
  rates += [bpp for bpp, _ in (extra_points or {}).values()]
  right = min(2.0, max([0.5] + [4 * rate for rate in rates]))
  axes.set_xlim(0, right)
  visible = [row[2] for r in results for name in ("jpeg", "webp")
             for row in r.curves[name] if row[1] <= right]
  visible += [r.psnr for r in results]
  if visible:
    axes.set_ylim(min(visible) - 1, max(visible) + 1)
  axes.set_xlabel("bits per pixel")
  axes.set_ylabel("PSNR (dB)")
  axes.set_title("tensorcoder (hyperprior) vs JPEG and WebP (Pillow)")
  axes.grid(alpha=0.3)
  axes.legend(fontsize=7, ncol=2)
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  pyplot.close(figure)
  images.write_atomically(path, buffer.getvalue())


def side_by_side(result: Result, path: str) -> None:
  """Original | tensorcoder | JPEG at the nearest bit rate, labelled."""
  from PIL import Image, ImageDraw  # pylint: disable=g-import-not-at-top
  original = result.curves["original"]
  height, width = original.shape[:2]
  band = 18
  canvas = Image.new("RGB", (3 * width + 8, height + band), "white")
  jpeg_bpp, _ = pillow_codec(original, "JPEG", result.jpeg_quality)
  panels = [
      (original, "original"),
      (result.reconstruction,
       f"tensorcoder {result.bpp:.3f} bpp, {result.psnr:.2f} dB"),
      (result.jpeg_image,
       f"JPEG q={result.jpeg_quality} {jpeg_bpp:.3f} bpp, "
       f"{images.psnr(original, result.jpeg_image):.2f} dB")]
  draw = ImageDraw.Draw(canvas)
  for i, (panel, label) in enumerate(panels):
    x = i * (width + 4)
    canvas.paste(Image.fromarray(panel), (x, band))
    draw.text((x + 2, 3), label, fill="black")
  buffer = io.BytesIO()
  canvas.save(buffer, format="PNG")
  images.write_atomically(path, buffer.getvalue())


def evaluate(sources: Sequence[str], model: Optional[str] = None,
             plot: Optional[str] = None) -> list[Result]:
  paths = []
  for source in sources:
    if source == "builtin-eval":
      paths.extend(images.resolve(name) for name in images.EVAL_IMAGES)
    else:
      paths.extend(images.expand([source]))
  results = [evaluate_image(path, model) for path in paths]
  if plot:
    rd_plot(results, plot)
  return results
