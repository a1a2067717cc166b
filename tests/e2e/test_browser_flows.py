"""What a parent does in a real browser: sign up, fill the book, look at it, take it home.

These drive headless Chromium against the live app (CSRF on, real cookies, real uploads),
so they catch what the Flask test client cannot: JavaScript that hides fields, file inputs,
lazy images, downloads and the layout on a phone.
"""
from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.mail import confirm_email

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"


def _unique_email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def _fill_registration(page: Any, email: str, *, confirm: str = PASSWORD,
                       consent: bool = True, baby: str = "Lily") -> None:
    """Fill the sign-up form for a parent with a girl born about three months ago."""
    page.goto("/register")
    page.fill("input[name=display_name]", "Anna Browser")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", confirm)
    page.fill("input[name=child_name]", baby)
    page.check("input[name=status][value=born]")  # reveals the birth fields (app.js)
    birth = date.today() - timedelta(days=91)
    page.fill("input[name=birth_date]", birth.isoformat())
    page.check("input[name=sex][value=female]")
    consent_box = page.locator("input[name=child_data_consent]")
    consent_box.check() if consent else consent_box.uncheck()


def _submit(page: Any) -> None:
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()


def _png(path: Path) -> Path:
    image = Image.new("RGB", (640, 480), (240, 200, 210))
    for x in range(0, 640, 8):  # a little structure, so it is a real picture
        for y in range(200, 280):
            image.putpixel((x, y), (90, 120, 200))
    image.save(path, "PNG")
    return path


def test_register_add_photo_and_measurement_then_download(page: Any, tmp_path: Path,
                                                          server_errors: list[str]) -> None:
    # 1. Sign up through the real form: parent, born baby and the required consent.
    email = _unique_email("journey")
    _fill_registration(page, email)
    _submit(page)
    # 2. "Check your email" (the same answer whoever owns the address), then the link in
    #    the email, read from the outbox folder, confirms the address and signs her in.
    assert page.url.endswith("/register/check-your-email"), page.url
    assert page.get_by_role("heading", name="Check your email").is_visible()
    confirm_email(page, email)
    assert re.search(r"/children/\d+$", page.url), page.url
    child_url = page.url
    assert page.get_by_text("Welcome, Anna Browser!").is_visible()
    assert page.get_by_role("heading", name="Add to the book").is_visible()

    # 2. A photo entry, with a PNG chosen in the file input.
    page.click("a[href$='/entries/new?kind=photo']")
    page.set_input_files("input[name=photos]", str(_png(tmp_path / "first-smile.png")))
    page.fill("input[name=title]", "First smile at the park")
    _submit(page)
    assert re.search(r"/entries/\d+$", page.url), page.url
    assert page.get_by_text("Saved to Lily's book.").is_visible()

    # 3. A measurement entry: 5.6 kg, 60 cm (units default to kg and cm).
    page.goto(child_url)
    page.click("a[href$='/entries/new?kind=measurement']")
    page.fill("input[name=weight]", "5.6")
    page.fill("input[name=length]", "60")
    _submit(page)
    assert re.search(r"/entries/\d+$", page.url), page.url

    # 4. The timeline shows both, and the private thumbnail really loads.
    page.goto(child_url)
    page.get_by_role("link", name="See the whole timeline").click()
    page.wait_for_url(re.compile(r"/timeline$"))
    timeline = page.locator("#timeline")
    assert timeline.get_by_text("First smile at the park").is_visible()
    measurement = page.locator("article.kind-measurement")
    assert measurement.get_by_text("5.6 kg").is_visible()
    assert measurement.get_by_text("60.0 cm").is_visible()
    thumbnail = page.locator("article.kind-photo img").first
    thumbnail.scroll_into_view_if_needed()  # the image is loading="lazy"
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=thumbnail.element_handle())
    assert thumbnail.evaluate("img => img.naturalWidth") > 0

    # 5. "Download my data" gives a zip with everything in it.
    page.goto("/account")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        assert "data.json" in names and "entries.csv" in names, names
        photos = [n for n in names if n.startswith("photos/") and not n.endswith("/")]
        assert len(photos) == 1, names
        with Image.open(io.BytesIO(archive.read(photos[0]))) as exported:
            assert exported.width > 0
        data = json.loads(archive.read("data.json"))
        csv_text = archive.read("entries.csv").decode("utf-8-sig")
    assert data["account"]["email"] == email
    kinds = sorted(e["kind"] for e in data["entries"])
    assert kinds == ["measurement", "photo"], kinds
    photo = next(e for e in data["entries"] if e["kind"] == "photo")
    assert photo["title"] == "First smile at the park" and photo["photos"] == photos
    measured = next(e for e in data["entries"] if e["kind"] == "measurement")
    assert measured["measurement"]["weight_kg"] == pytest.approx(5.6)
    assert measured["measurement"]["length_cm"] == pytest.approx(60.0)
    assert "First smile at the park" in csv_text and len(csv_text.strip().splitlines()) == 3
    assert not server_errors


def test_bad_registration_shows_errors_and_creates_nothing(page: Any,
                                                           server_errors: list[str]) -> None:
    email = _unique_email("oops")
    _fill_registration(page, email, confirm="not-the-same-password", consent=False)
    _submit(page)
    assert page.url.endswith("/register")
    alert = page.locator("main .alert-danger").first
    assert alert.is_visible() and "Please check the highlighted fields." in alert.inner_text()
    assert page.get_by_text("The two passwords do not match.").is_visible()
    assert page.locator("input[name=confirm].is-invalid").count() == 1
    assert page.get_by_text("agree to us storing your child's data").is_visible()
    assert page.locator("input[name=child_data_consent].is-invalid").count() == 1

    # Mismatch fixed, consent still missing: the consent error alone, still nothing stored.
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    _submit(page)
    assert page.url.endswith("/register")
    assert page.get_by_text("agree to us storing your child's data").is_visible()
    assert page.get_by_text("The two passwords do not match.").count() == 0

    # Nothing was created: the same email now signs up cleanly.
    _fill_registration(page, email)
    _submit(page)
    confirm_email(page, email)
    assert re.search(r"/children/\d+$", page.url), page.url
    assert not server_errors


def test_registration_fits_a_phone(new_page: Any, server_errors: list[str]) -> None:
    page = new_page(390, 844, is_mobile=True, has_touch=True)
    page.goto("/register")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, f"page is {scroll_width}px wide on a 390px phone"
    toggler = page.locator("button.navbar-toggler")
    assert toggler.is_visible()
    toggler.click()  # the collapsed menu opens and its links stay on screen
    sign_in = page.locator("#nav").get_by_role("link", name="Sign in")
    sign_in.wait_for(state="visible")
    box = sign_in.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not server_errors
