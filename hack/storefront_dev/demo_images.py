"""The demo catalog's pictures: one small SVG drawing per demo product, drawn here from a few shapes.

`python -m storefront_dev.demo_images` writes them to services/web/storefront_web/static/demo/, where the web
service serves them at /static/demo/<product slug>.svg (the products seed, storefront_products.seed, gives
each demo product that URL). hack/tests/test_demo_images.py checks the committed files are what this draws.
Made for this repository; no third-party artwork.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from storefront_products.seed import DEMO_PRODUCTS, demo_image_file
from storefront_products.slugs import slugify

OUTPUT = Path(__file__).resolve().parents[2] / "services" / "web" / "storefront_web" / "static" / "demo"
WIDTH, HEIGHT = 480, 360  # 4:3, the shape the product pages give a picture
BACKGROUNDS = {  # category slug -> (background, floor shadow)
    "phones-tablets": ("#e3ecf7", "#c9d6e8"),
    "fashion": ("#f7e6ea", "#e8cdd4"),
    "home-kitchen": ("#e6f2ea", "#cde3d5"),
    "groceries": ("#f8efd9", "#eadcb8"),
    "beauty": ("#efe7f6", "#dccfea"),
}
COLOURS = {"Frosty Ivory": "#efe8da", "Starlit Black": "#23252b", "Blue Black": "#1f2c4d", "Black": "#23252b",
           "Sky Blue": "#7fb3e0", "Brown": "#7a4a26", "Indigo": "#2e3f8f", "Multicolour": "#d9472b"}

Drawing = Callable[[str], str]  # main colour -> SVG elements


def phone(colour: str) -> str:
    return (f'<rect x="180" y="60" width="120" height="230" rx="18" fill="{colour}" stroke="#3b4252" stroke-width="4"/>'
            '<rect x="192" y="84" width="96" height="180" rx="6" fill="#4c8bd6"/>'
            '<circle cx="240" cy="73" r="4" fill="#3b4252"/>'
            '<path d="M192 210 L288 150 L288 264 L192 264 Z" fill="#7fb0ea" opacity=".6"/>')


def earbuds(colour: str) -> str:
    return (f'<rect x="165" y="150" width="150" height="110" rx="50" fill="{colour}"/>'
            '<line x1="165" y1="195" x2="315" y2="195" stroke="#555" stroke-width="3"/>'
            '<circle cx="205" cy="120" r="22" fill="#f4f4f4" stroke="#555" stroke-width="3"/>'
            '<rect x="199" y="125" width="12" height="45" rx="6" fill="#f4f4f4" stroke="#555" stroke-width="3"/>'
            '<circle cx="275" cy="120" r="22" fill="#f4f4f4" stroke="#555" stroke-width="3"/>'
            '<rect x="269" y="125" width="12" height="45" rx="6" fill="#f4f4f4" stroke="#555" stroke-width="3"/>')


def power_bank(colour: str) -> str:
    leds = "".join(f'<circle cx="{210 + 20 * i}" cy="230" r="5" fill="#3ddc84"/>' for i in range(4))
    return (f'<rect x="150" y="90" width="180" height="170" rx="20" fill="{colour}"/>'
            '<rect x="225" y="80" width="30" height="14" rx="3" fill="#777"/>'
            '<path d="M248 130 L225 175 L242 175 L232 210 L262 160 L245 160 Z" fill="#ffd23f"/>' + leds)


def dress(colour: str) -> str:
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="9" fill="#ffc83d"/>'
                   for x, y in ((220, 150), (260, 170), (215, 215), (265, 240), (240, 280), (190, 265), (290, 200)))
    return (f'<path d="M215 60 L265 60 L275 120 L330 300 L150 300 L205 120 Z" fill="{colour}"/>'
            '<path d="M215 60 Q240 90 265 60" fill="none" stroke="#7a1f12" stroke-width="4"/>' + dots +
            '<rect x="205" y="118" width="70" height="10" fill="#1d7a5a"/>')


def robe(colour: str) -> str:
    return (f'<path d="M210 60 L270 60 L380 250 L320 300 L160 300 L100 250 Z" fill="{colour}"/>'
            '<path d="M225 60 L240 90 L255 60" fill="#fff"/>'
            '<path d="M215 110 Q240 160 265 110 M222 130 Q240 170 258 130" fill="none" stroke="#f2d16b" stroke-width="5"/>'
            '<rect x="225" y="90" width="30" height="210" fill="#000" opacity=".08"/>')


def slippers(colour: str) -> str:
    return (f'<ellipse cx="195" cy="200" rx="45" ry="95" fill="{colour}"/>'
            f'<ellipse cx="290" cy="200" rx="45" ry="95" fill="{colour}"/>'
            '<path d="M155 170 Q195 130 235 170 L235 195 L155 195 Z" fill="#c98a4b"/>'
            '<path d="M250 170 Q290 130 330 170 L330 195 L250 195 Z" fill="#c98a4b"/>')


def shirt(colour: str) -> str:
    rings = "".join(f'<circle cx="240" cy="185" r="{r}" fill="none" stroke="#fff" stroke-width="6" opacity=".7"/>'
                    for r in (20, 45, 70))
    return (f'<path d="M190 70 L150 90 L100 150 L140 180 L165 155 L165 300 L315 300 L315 155 L340 180 L380 150 L330 90 L290 70 Q240 110 190 70 Z" fill="{colour}"/>'
            + rings)


def blender(colour: str) -> str:
    return ('<path d="M190 60 L290 60 L275 210 L205 210 Z" fill="#cfe8f7" stroke="#5b7083" stroke-width="4"/>'
            '<rect x="185" y="50" width="110" height="16" rx="4" fill="#5b7083"/>'
            '<path d="M210 170 L270 170 L266 205 L214 205 Z" fill="#f28c28" opacity=".8"/>'
            f'<rect x="180" y="210" width="120" height="80" rx="12" fill="{colour}"/>'
            '<circle cx="240" cy="250" r="14" fill="#ddd"/>')


def pots(colour: str) -> str:
    return (f'<rect x="120" y="150" width="160" height="120" rx="14" fill="{colour}"/>'
            '<rect x="100" y="165" width="25" height="14" rx="6" fill="#333"/>'
            '<rect x="275" y="165" width="25" height="14" rx="6" fill="#333"/>'
            '<ellipse cx="200" cy="150" rx="85" ry="14" fill="#bcd7e6" opacity=".85"/>'
            '<circle cx="200" cy="132" r="8" fill="#333"/>'
            f'<rect x="285" y="200" width="110" height="70" rx="12" fill="{colour}" opacity=".85"/>'
            '<ellipse cx="340" cy="200" rx="58" ry="10" fill="#bcd7e6" opacity=".85"/>')


def fan(colour: str) -> str:
    blades = "".join(f'<ellipse cx="240" cy="95" rx="22" ry="45" fill="#8ec5e8" transform="rotate({angle} 240 140)"/>'
                     for angle in (0, 120, 240))
    return ('<circle cx="240" cy="140" r="80" fill="none" stroke="#5b7083" stroke-width="5"/>' + blades +
            f'<circle cx="240" cy="140" r="14" fill="{colour}"/>'
            f'<rect x="234" y="220" width="12" height="60" fill="{colour}"/>'
            f'<ellipse cx="240" cy="290" rx="60" ry="12" fill="{colour}"/>')


def lantern(colour: str) -> str:
    return ('<circle cx="240" cy="175" r="95" fill="#fff3b0" opacity=".6"/>'
            '<path d="M205 95 Q240 40 275 95" fill="none" stroke="#333" stroke-width="6"/>'
            f'<rect x="195" y="95" width="90" height="22" rx="6" fill="{colour}"/>'
            '<rect x="203" y="117" width="74" height="120" rx="10" fill="#ffe066"/>'
            f'<rect x="190" y="237" width="100" height="40" rx="8" fill="{colour}"/>')


def sack(colour: str) -> str:
    return ('<path d="M170 90 Q240 70 310 90 L330 290 Q240 305 150 290 Z" fill="#f4ead2" stroke="#b59a64" stroke-width="4"/>'
            '<path d="M175 90 Q240 110 305 90" fill="none" stroke="#b59a64" stroke-width="4"/>'
            f'<rect x="165" y="170" width="150" height="60" fill="{colour}"/>'
            '<circle cx="240" cy="200" r="18" fill="#fff" opacity=".8"/>')


def bottle(colour: str) -> str:
    return ('<rect x="222" y="55" width="36" height="30" rx="4" fill="#2f6f3e"/>'
            '<path d="M222 85 L258 85 L290 130 L290 290 L190 290 L190 130 Z" fill="#f1f1ea" opacity=".55" stroke="#8a8a80" stroke-width="3"/>'
            f'<path d="M192 160 L288 160 L288 288 L192 288 Z" fill="{colour}"/>'
            '<rect x="200" y="190" width="80" height="45" rx="4" fill="#fff" opacity=".85"/>')


def jar(colour: str) -> str:
    return ('<rect x="185" y="80" width="110" height="30" rx="6" fill="#6b4b2a"/>'
            f'<rect x="170" y="108" width="140" height="180" rx="24" fill="{colour}"/>'
            '<rect x="190" y="160" width="100" height="60" rx="6" fill="#fff" opacity=".8"/>'
            '<path d="M200 140 Q210 125 222 140" fill="none" stroke="#fff" stroke-width="5" opacity=".6"/>')


def tub(colour: str) -> str:
    return ('<ellipse cx="240" cy="150" rx="100" ry="22" fill="#d9c7a3"/>'
            f'<path d="M140 150 L150 270 Q240 295 330 270 L340 150 Z" fill="{colour}"/>'
            '<ellipse cx="240" cy="150" rx="100" ry="22" fill="#fbf3df" stroke="#c9b58c" stroke-width="3"/>'
            '<path d="M200 145 Q240 120 280 145" fill="none" stroke="#e8d9b5" stroke-width="6"/>')


def soap(colour: str) -> str:
    return (f'<path d="M150 180 Q160 110 240 115 Q330 110 335 185 Q340 260 240 262 Q145 262 150 180 Z" fill="{colour}"/>'
            '<path d="M190 160 Q240 140 290 165" fill="none" stroke="#5b4636" stroke-width="5"/>'
            '<circle cx="330" cy="110" r="14" fill="#fff" opacity=".8"/><circle cx="355" cy="140" r="9" fill="#fff" opacity=".8"/>')


# product slug -> (drawing, main colour when the product has no colour attribute)
DRAWINGS: dict[str, tuple[Drawing, str]] = {
    "tecno-spark-20-pro": (phone, "#efe8da"),
    "infinix-hot-40i": (phone, "#23252b"),
    "samsung-galaxy-a15": (phone, "#1f2c4d"),
    "oraimo-freepods-4": (earbuds, "#23252b"),
    "20000-mah-power-bank": (power_bank, "#3a3f4b"),
    "ankara-print-maxi-dress": (dress, "#d9472b"),
    "men-s-agbada-set": (robe, "#7fb3e0"),
    "leather-palm-slippers": (slippers, "#7a4a26"),
    "adire-tie-dye-shirt": (shirt, "#2e3f8f"),
    "binatone-blender-1-5-l": (blender, "#c0392b"),
    "non-stick-pot-set": (pots, "#2d2d2d"),
    "standing-fan-18-inch": (fan, "#3b4252"),
    "rechargeable-lantern": (lantern, "#1d6fb8"),
    "ofada-rice-5-kg": (sack, "#b5651d"),
    "palm-oil-5-l": (bottle, "#d2481a"),
    "garri-ijebu-10-kg": (sack, "#2f7d4f"),
    "honey-1-l": (jar, "#e5a00d"),
    "shea-butter-500-g": (tub, "#f3e9cf"),
    "black-soap-250-g": (soap, "#3b2f27"),
    "coconut-hair-oil": (bottle, "#f5f1e3"),
}


def svg(category_slug: str, drawing: Drawing, colour: str) -> str:
    background, shadow = BACKGROUNDS[category_slug]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{background}"/>'
            f'<ellipse cx="240" cy="300" rx="170" ry="22" fill="{shadow}"/>{drawing(colour)}</svg>\n')


def images() -> dict[str, str]:
    """File name -> SVG text, for every demo product."""
    drawn = {}
    for category_slug, name, _description, _price, _stock, attributes in DEMO_PRODUCTS:
        slug = slugify(name, max_length=220)
        drawing, default_colour = DRAWINGS[slug]
        colour = COLOURS.get(str(attributes.get("colour", "")), default_colour)
        drawn[demo_image_file(slug)] = svg(category_slug, drawing, colour)
    return drawn


def main() -> int:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for name, text in images().items():
        (OUTPUT / name).write_text(text)
    print(f"wrote {len(images())} images to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
