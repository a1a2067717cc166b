"""Growth charts and the milestone checklist in a real browser.

A parent adds a measurement and sees its percentile where a parent would look for it: on the
entry page, in the summary under the chart, and in the tooltip of the child's point on the
Chart.js canvas (which only a browser can draw). Then a milestone is ticked on the checklist.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.mail import confirm_email

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"
TIMEZONE = "Asia/Shanghai"
AGE_DAYS = 274           # 9 months; boys' weight for age at 274 days: z = −0.9509 for 8.0229 kg
WEIGHT_KG = "8.0229"     # → 17.08 %, shown as "17th percentile"
LENGTH_CM = "70"
WFA_CANVAS = 'canvas[data-growth-chart*="wfa"]'

# The child's own series is the last dataset (the WHO curves come first); hover its last point
# and read back what the tooltip shows.
LAST_POINT_JS = """canvas => {
    const chart = Chart.getChart(canvas);
    const meta = chart.getDatasetMeta(chart.data.datasets.length - 1);
    const el = meta.data[meta.data.length - 1];
    return {x: el.x, y: el.y};
}"""
TOOLTIP_JS = """canvas => {
    const tooltip = Chart.getChart(canvas).tooltip;
    if (!tooltip || tooltip.opacity === 0 || !tooltip.dataPoints || !tooltip.dataPoints.length) {
        return null;
    }
    const lines = [].concat(tooltip.title || []);
    (tooltip.body || []).forEach(b => lines.push(...b.lines));
    return lines.join("\\n");
}"""


def _register_boy(page: Any, email: str, birth_iso: str) -> str:
    """Sign up a parent in Shanghai time with a boy born on `birth_iso`; the child's URL."""
    page.goto("/register")
    page.fill("input[name=display_name]", "Wei Growth")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    # app.js pre-selects the browser's zone; the parent picks Shanghai explicitly.
    page.select_option("select[name=timezone]", TIMEZONE)
    page.fill("input[name=child_name]", "Leo")
    page.check("input[name=status][value=born]")
    page.fill("input[name=birth_date]", birth_iso)
    page.check("input[name=sex][value=male]")
    page.check("input[name=child_data_consent]")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    confirm_email(page, email)
    assert re.search(r"/children/\d+$", page.url), page.url
    return page.url


def _hover_last_point(page: Any) -> str:
    """Move the mouse onto the child's latest point on the weight chart; the tooltip text."""
    canvas = page.locator(f'{WFA_CANVAS}[data-drawn="true"]')
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    point = canvas.evaluate(LAST_POINT_JS)
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    handle = canvas.element_handle()
    page.wait_for_function(f"canvas => ({TOOLTIP_JS})(canvas) !== null", arg=handle)
    return canvas.evaluate(TOOLTIP_JS)


def test_measurement_percentile_on_entry_chart_and_tooltip(page: Any, new_page: Any,
                                                           server_errors: list[str]) -> None:
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    birth = today - timedelta(days=AGE_DAYS)
    email = f"growth-{secrets.token_hex(4)}@example.com"
    child_url = _register_boy(page, email, birth.isoformat())
    child_id = int(child_url.rsplit("/", 1)[1])

    # A measurement through the form, dated today in the family's zone (274 days old).
    page.click("a[href$='/entries/new?kind=measurement']")
    page.fill("input[name=occurred_date]", today.isoformat())
    page.fill("input[name=weight]", WEIGHT_KG)
    page.fill("input[name=length]", LENGTH_CM)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    assert re.search(r"/entries/\d+$", page.url), page.url
    percentiles = page.locator("#percentiles")
    assert percentiles.get_by_text("On the WHO growth charts").is_visible()
    weight_line = percentiles.locator("li", has_text="Weight for age")
    assert "17th percentile" in weight_line.inner_text(), weight_line.inner_text()

    # The growth page: the summary line and the tooltip on the child's point agree.
    page.goto(f"/children/{child_id}/growth")
    summary = page.locator("#chart-wfa .growth-summary")
    assert "17th percentile" in summary.inner_text(), summary.inner_text()
    tooltip = _hover_last_point(page)
    assert "17th percentile" in tooltip, tooltip
    assert "8.023 kg" in tooltip, tooltip

    # On a phone the chart is still drawn and fits the screen.
    phone = new_page(390, 844, is_mobile=True, has_touch=True)
    phone.goto(f"/login?next=/children/{child_id}/growth")
    phone.fill("input[name=email]", email)
    phone.fill("input[name=password]", PASSWORD)
    with phone.expect_navigation():
        phone.locator("main form button[type=submit]").click()
    if not phone.url.endswith(f"/children/{child_id}/growth"):
        phone.goto(f"/children/{child_id}/growth")
    phone_canvas = phone.locator(f'{WFA_CANVAS}[data-drawn="true"]')
    phone_canvas.wait_for()
    phone_canvas.scroll_into_view_if_needed()
    box = phone_canvas.bounding_box()
    assert box is not None and box["width"] > 0
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "17th percentile" in phone.locator("#chart-wfa .growth-summary").inner_text()

    # The milestone checklist: at 9 months, tick the first milestone of that checkpoint.
    page.goto(f"/children/{child_id}/milestones")
    section = page.locator("#checkpoint-9")
    first = section.locator(".milestone-item").first
    item_id = first.get_attribute("id")
    assert first.get_by_text("ticked on").count() == 0
    with page.expect_navigation():
        first.get_by_role("button", name=re.compile("Tick")).click()
    ticked = page.locator(f"#{item_id}")
    assert ticked.get_by_text("ticked on").is_visible(), ticked.inner_text()
    assert "achieved" in (ticked.get_attribute("class") or "")
    assert ticked.get_by_role("button", name=re.compile("Untick")).count() == 1
    assert not server_errors
