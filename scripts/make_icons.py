"""Draw the app's icons (static/icons/): a white map pin over a road on the theme's blue.

Run once after changing the design: .venv/bin/python scripts/make_icons.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (11, 95, 138, 255)  # the site's --accent
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def draw(size: int, *, safe: float) -> Image.Image:
    """`safe`: the share of the square the drawing keeps to (maskable icons are cropped)."""
    scale = 4  # drawn large, then reduced: smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), BLUE)
    pen = ImageDraw.Draw(image)
    unit = big * safe
    cx, top = big / 2, (big - unit) / 2
    # The road: a band across the lower third.
    road_y = top + unit * 0.78
    pen.rectangle([top, road_y - unit * 0.035, big - top, road_y + unit * 0.035], fill=WHITE)
    # The pin: a circle with a point standing on the road.
    radius = unit * 0.26
    centre_y = top + unit * 0.36
    pen.ellipse([cx - radius, centre_y - radius, cx + radius, centre_y + radius], fill=WHITE)
    pen.polygon(
        [
            (cx - radius * 0.82, centre_y + radius * 0.55),
            (cx + radius * 0.82, centre_y + radius * 0.55),
            (cx, road_y - unit * 0.06),
        ],
        fill=WHITE,
    )
    hole = radius * 0.42
    pen.ellipse([cx - hole, centre_y - hole, cx + hole, centre_y + hole], fill=BLUE)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(192, safe=0.9).save(OUT / "icon-192.png", optimize=True)
    draw(512, safe=0.9).save(OUT / "icon-512.png", optimize=True)
    draw(512, safe=0.62).save(OUT / "icon-maskable-512.png", optimize=True)
    draw(48, safe=0.95).save(OUT / "favicon.png", optimize=True)


if __name__ == "__main__":
    main()
