#!/usr/bin/env python3
"""Full-page screenshots of a running site, desktop and phone, English and Chinese.

    python scripts/screenshots.py --base-url http://127.0.0.1:5000 --out screenshots/ \
        --login demo.twins@example.com --password demo-password [--pages / /dashboard ...]

Signs in through the login form (when --login is given), then saves for every page
`{desktop|phone}-{en|zh_CN}-{page}.png`. Without --pages it takes /, /dashboard, /family,
/account and the first child's home and timeline (public pages only without --login).
Languages are switched with the header buttons, so a signed-in account's language changes
while it runs; it is set back at the end. Needs Debian's Chromium, and fonts for Chinese
and emoji: apt-get install -y chromium fonts-noto-cjk fonts-noto-color-emoji
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from diary.locales import LOCALES, reading_locale

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
LANGUAGES = LOCALES
PUBLIC_PAGES = ["/", "/register", "/login", "/privacy"]
MEMBER_PAGES = ["/", "/dashboard", "/family", "/account"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--login", help="email to sign in with (default: public pages only)")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--pages", nargs="+", help="paths to take (default: see above)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    return parser.parse_args(argv)


def slug(path: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "-", path.split("?")[0]).strip("-")
    return name or "home"


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if "/login" in page.url:
        sys.exit(f"sign-in failed for {email}: still on {page.url}")


def child_pages(page: Page) -> list[str]:
    """The first child's home and timeline, found from the dashboard's links."""
    page.goto("/dashboard")
    for href in page.locator('a[href^="/children/"]').evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"):
        match = re.match(r"/children/(\d+)", href or "")
        if match:
            return [f"/children/{match[1]}", f"/children/{match[1]}/timeline"]
    if match := re.search(r"/children/(\d+)", page.url):  # one child: redirected there
        return [f"/children/{match[1]}", f"/children/{match[1]}/timeline"]
    print("no child link found on /dashboard", file=sys.stderr)
    return []


def saved_language(page: Page, signed_in: bool) -> str:
    """The account's language setting (or, signed out, the page's), to restore at the end."""
    if signed_in:
        page.goto("/account")
        checked = page.locator("input[name=locale]:checked")
        if checked.count():
            return checked.first.get_attribute("value") or "en"
    return reading_locale(page.evaluate("document.documentElement.lang"))


def switch_language(page: Page, lang: str) -> None:
    """Press the header button; requestSubmit also works while the phone menu is closed."""
    button = page.locator(f"button[name=lang][value={lang}]").first
    with page.expect_navigation():
        button.evaluate("b => b.form.requestSubmit(b)")


def shoot(page: Page, path: str, target: Path) -> None:
    response = page.goto(path, wait_until="networkidle")
    if response is not None and response.status >= 400:
        print(f"warning: {path} answered {response.status}", file=sys.stderr)
    page.evaluate("document.querySelectorAll('img[loading=lazy]')"
                  ".forEach(img => { img.loading = 'eager'; })")
    try:
        page.wait_for_function("[...document.images].every(img => img.complete)",
                               timeout=5_000)
    except Exception:  # noqa: BLE001 - a slow image is not worth failing the run
        print(f"warning: images still loading on {path}", file=sys.stderr)
    page.screenshot(path=str(target), full_page=True, animations="disabled")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=args.base_url.rstrip("/"), locale="en-US",
                                      viewport={"width": 1280, "height": 900})
        page = context.new_page()
        pages = list(args.pages or [])
        if args.login:
            sign_in(page, args.login, args.password)
            if not pages:
                pages = MEMBER_PAGES + child_pages(page)
        else:
            pages = pages or PUBLIC_PAGES
            page.goto("/")
        original = saved_language(page, bool(args.login))
        count = 0
        try:
            for lang in LANGUAGES:
                switch_language(page, lang)
                for path in pages:
                    for device, (width, height) in VIEWPORTS.items():
                        page.set_viewport_size({"width": width, "height": height})
                        target = args.out / f"{device}-{lang}-{slug(path)}.png"
                        shoot(page, path, target)
                        count += 1
                        print(target)
        finally:
            page.goto("/")
            switch_language(page, original)
            browser.close()
    print(f"{count} screenshots in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
