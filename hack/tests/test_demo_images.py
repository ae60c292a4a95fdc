"""The demo catalog's pictures: what storefront_dev.demo_images draws is what is committed, one per demo product
(the URL the products seed gives it), small, and each a well-formed SVG."""
from __future__ import annotations

from xml.etree import ElementTree

from storefront_dev.demo_images import HEIGHT, OUTPUT, WIDTH, images
from storefront_products.seed import DEMO_PRODUCTS, DEMO_IMAGES_PATH, demo_image_urls
from storefront_products.slugs import slugify

BUDGET_BYTES = 300 * 1024


def test_the_committed_pictures_are_the_drawn_ones() -> None:
    drawn = images()
    assert {path.name for path in OUTPUT.iterdir()} == set(drawn)
    for name, text in drawn.items():
        assert (OUTPUT / name).read_text() == text, f"{name}: run `python -m storefront_dev.demo_images`"


def test_every_demo_product_has_its_picture_and_they_stay_small() -> None:
    for _category, name, *_ in DEMO_PRODUCTS:
        [url] = demo_image_urls(slugify(name, max_length=220))
        assert url.startswith(DEMO_IMAGES_PATH) and (OUTPUT / url.removeprefix(DEMO_IMAGES_PATH)).is_file()
    assert sum(path.stat().st_size for path in OUTPUT.iterdir()) < BUDGET_BYTES


def test_each_picture_is_a_well_formed_svg_of_the_product_page_shape() -> None:
    for path in OUTPUT.iterdir():
        root = ElementTree.fromstring(path.read_text())
        assert root.tag == "{http://www.w3.org/2000/svg}svg", path.name
        assert root.get("viewBox") == f"0 0 {WIDTH} {HEIGHT}", path.name
        assert not root.findall(".//{http://www.w3.org/2000/svg}script"), path.name
