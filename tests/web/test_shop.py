"""The shop's doors: `flask reco import-purchases FILE.csv` and `POST /api/shop/order-lines`
(a key per integration), both idempotent by order line id and reporting unmatched lines.

Attacks tried: no key, a wrong scheme, a wrong, altered or revoked key, a key in the query
string, GET/HEAD/PUT, bodies that are not JSON, too many lines, hostile values (a batch with
one bad line records nothing), CSRF on (the API needs none), the rate limit, formulas in
the unmatched report, a file that is not UTF-8 or has the wrong columns."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from diary import integration_keys
from recommender import purchases
from recommender.models import Interaction, ShopIntegration, UnmatchedOrderLine
from tests.web.test_studio import make_item

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")

HEADER = "order_line_id,ordered_at,email,member_no,sku,quantity,amount_minor,currency\n"


@pytest.fixture
def nappies(session):
    return make_item(session, kind="product", key="BJ-NAPPY-S", title="Nappies S",
                     unit="month", low=3, high=6, category="nappies", price_minor=8900,
                     currency="CNY")


@pytest.fixture
def key(session):
    _, key = purchases.create_integration(session, "Tmall")
    session.commit()
    return key


def line(n=1, **extra):
    return {"order_line_id": f"L-{n}", "ordered_at": "2026-11-20T10:30:00+08:00",
            "email": "mum@example.com", "sku": "BJ-NAPPY-S", "quantity": 1,
            "amount_minor": 8900, "currency": "CNY"} | extra


def bought(session):
    session.expire_all()
    return session.execute(select(Interaction.user_id, Interaction.item_id, Interaction.kind,
                                  Interaction.surface, Interaction.quantity)
                           .order_by(Interaction.id)).all()


def post(client, body, key=None, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/shop/order-lines", json=body, headers=headers, **kw)


# --- the API -----------------------------------------------------------------------------------

def test_order_lines_are_recorded_once_and_unmatched_ones_reported(client, session, key,
                                                                   make_family, nappies):
    user, _ = make_family(email="mum@example.com")
    body = {"lines": [line(1), line(2, email="MUM@EXAMPLE.COM", quantity=3),
                      line(3, email="stranger@example.com")]}
    response = post(client, body, key)
    assert (response.status_code, response.json) == (200, {
        "received": 3, "recorded": 2, "duplicates": 0, "unmatched": 1, "invalid": 0,
        "unmatched_lines": [{"order_line_id": "L-3", "reason": "customer"}]})
    again = post(client, body, key)  # the shop retries the whole batch
    assert again.json | {"unmatched_lines": None} == {
        "received": 3, "recorded": 0, "duplicates": 2, "unmatched": 1, "invalid": 0,
        "unmatched_lines": None}
    assert bought(session) == [(user.id, nappies.id, "purchase", "shop", 1),
                               (user.id, nappies.id, "purchase", "shop", 3)]
    assert session.scalar(select(UnmatchedOrderLine.source)) == "api:Tmall"
    session.expire_all()
    assert session.scalar(select(ShopIntegration.last_used_at)) is not None


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token bjshop_x", "Bearer bjshop_wrong",
    "Bearer " + "a" * 5000])
def test_without_a_valid_key_nothing_happens(client, session, key, nappies, make_family,
                                             authorization):
    make_family(email="mum@example.com")
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post("/api/shop/order-lines", json={"lines": [line()]}, headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": "Send the integration's key: Authorization: Bearer "
                                      "<key>."}
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="shop"'
    assert client.post(f"/api/shop/order-lines?key={key}",
                       json={"lines": [line()]}).status_code == 401  # only the header counts
    assert bought(session) == []


def test_an_altered_or_revoked_key_is_refused(client, session, key, nappies):
    middle = len(key) // 2
    altered = key[:middle] + ("A" if key[middle] != "A" else "B") + key[middle + 1:]
    assert post(client, {"lines": [line()]}, altered).status_code == 401
    purchases.revoke_integration(session, "Tmall")
    session.commit()
    assert post(client, {"lines": [line()]}, key).status_code == 401


@pytest.mark.parametrize("method", ["get", "head", "put", "delete"])
def test_only_post_is_allowed(client, key, method):
    response = getattr(client, method)("/api/shop/order-lines",
                                       headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 405


@pytest.mark.parametrize("body", [None, [], {"lines": []}, {"lines": "L-1"}, {"line": [{}]}])
def test_a_body_without_lines_is_400(client, key, body):
    response = post(client, body, key) if body is not None else client.post(
        "/api/shop/order-lines", data="not json", content_type="text/plain",
        headers={"Authorization": f"Bearer {key}"})
    assert (response.status_code, response.json) == (400, {
        "error": 'Send a JSON object with a list of order lines: {"lines": [...]}.'})


def test_one_bad_line_and_nothing_is_recorded(client, session, key, make_family, nappies):
    make_family(email="mum@example.com")
    body = {"lines": [line(1), line(2, quantity=-1), "L-3", line(4, currency="<b>")]}
    response = post(client, body, key)
    assert response.status_code == 400
    assert response.json == {
        "error": "Nothing was recorded: 3 order lines are not valid.",
        "invalid": [
            {"index": 1, "order_line_id": "L-2",
             "error": "quantity must be a whole number from 1 to 10000."},
            {"index": 2, "order_line_id": None, "error": "An order line must be a JSON object."},
            {"index": 3, "order_line_id": "L-4",
             "error": "Use a three-letter currency code such as CNY."}]}
    assert bought(session) == []
    assert session.scalar(select(ShopIntegration.last_used_at)) is None


def test_too_many_lines_are_413(client, key):
    response = post(client, {"lines": [line(n) for n in range(purchases.MAX_LINES + 1)]}, key)
    assert (response.status_code, response.json) == (413, {
        "error": "Send at most 1000 order lines at a time."})


class TestWithCsrfAndLimits:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True,
                "SHOP_API_RATE_LIMIT": "2 per minute"}

    def test_the_key_is_the_proof_and_the_calls_are_limited(self, client, session, key,
                                                             make_family, nappies):
        make_family(email="mum@example.com")
        codes = [post(client, {"lines": [line(n)]}, key).status_code for n in range(3)]
        assert codes == [200, 200, 429]
        assert len(bought(session)) == 2


# --- the command line --------------------------------------------------------------------------

def test_import_purchases_from_csv_reports_and_is_idempotent(runner, session, tmp_path,
                                                             make_family, nappies):
    user, _ = make_family(email="mum@example.com")
    path = tmp_path / "orders.csv"
    path.write_text(
        "\ufeff" + HEADER
        + "L-1,2026-11-20T10:30:00+08:00,Mum@Example.com,,BJ-NAPPY-S,2,17800,CNY\n"
        + f"L-2,2026-11-21T09:00:00Z,,{user.member_no},BJ-NAPPY-S,1,8900,CNY\n"
        + "L-3,2026-11-21T09:00:00Z,=cmd|' /C calc'!A0@x.cn,,BJ-NAPPY-S,1,8900,CNY\n"
        + "L-4,2026-11-21T09:00:00Z,-2+3@example.com,,BJ-NAPPY-S,1,8900,CNY\n"
        + "L-5,2026-11-21T09:00:00Z,new@example.com,,BJ-NAPPY-S,1,8900,CNY\n",
        encoding="utf-8")
    report = tmp_path / "unmatched.csv"
    result = runner.invoke(args=["reco", "import-purchases", str(path), "--unmatched-csv",
                                 str(report)])
    assert result.exit_code == 1, result.output  # an invalid line: the exit status says so
    assert "5 order lines: 2 new purchases, 0 recorded before, 2 unmatched (kept), " \
           "1 invalid." in result.output
    assert "invalid, line 4 (L-3): email is not an email address." in result.output
    assert "unmatched L-4: no customer (-2+3@example.com, BJ-NAPPY-S)" in result.output
    rows = report.read_text(encoding="utf-8-sig").splitlines()
    assert rows[1].startswith("customer,csv,L-4,") and ",'-2+3@example.com," in rows[1]
    assert len(bought(session)) == 2
    result = runner.invoke(args=["reco", "import-purchases", str(path)])
    assert "5 order lines: 0 new purchases, 2 recorded before, 2 unmatched (kept), " \
           "1 invalid." in result.output
    make_family(email="new@example.com")
    result = runner.invoke(args=["reco", "rematch-purchases"])
    assert result.exit_code == 0 and "2 order lines: 1 new purchases" in result.output
    assert session.scalar(select(func.count()).select_from(UnmatchedOrderLine)) == 1


@pytest.mark.parametrize(("content", "reason"), [
    (b"order_line_id,sku\nL-1,X\n", "Nothing was imported: The file has no column ordered_at."),
    (b"\xff\xfe\x00o\x00r", "Nothing was imported: the file is not UTF-8 text."),
])
def test_a_file_that_cannot_be_read_imports_nothing(runner, session, tmp_path, content,
                                                    reason):
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["reco", "import-purchases", str(path)])
    assert result.exit_code == 1 and reason in result.output
    assert session.scalar(select(func.count()).select_from(UnmatchedOrderLine)) == 0


def test_a_line_from_the_csv_and_the_api_counts_once(runner, client, session, tmp_path, key,
                                                     make_family, nappies):
    make_family(email="mum@example.com")
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "L-1,2026-11-20T10:30:00+08:00,mum@example.com,,BJ-NAPPY-S,1,"
                    "8900,CNY\n", encoding="utf-8")
    assert runner.invoke(args=["reco", "import-purchases", str(path)]).exit_code == 0
    assert post(client, {"lines": [line(1)]}, key).json["duplicates"] == 1
    assert len(bought(session)) == 1


def test_an_integration_key_is_printed_once_and_only_its_hash_kept(runner, client, session,
                                                                   make_family, nappies):
    result = runner.invoke(args=["reco", "shop-integration", "create", "JD shop"])
    assert result.exit_code == 0, result.output
    [key] = re.findall(r"^(bjshop_\S+)$", result.output, re.M)
    stored = session.scalar(select(ShopIntegration).where(ShopIntegration.name == "JD shop"))
    assert stored.key_hash == integration_keys.hash_key(key) and key not in stored.key_hash
    assert runner.invoke(args=["reco", "shop-integration", "create", "JD shop"]).exit_code == 1
    make_family(email="mum@example.com")
    assert post(client, {"lines": [line()]}, key).status_code == 200
    result = runner.invoke(args=["reco", "shop-integration", "revoke", "JD shop"])
    assert result.exit_code == 0 and "revoked" in result.output
    assert post(client, {"lines": [line(2)]}, key).status_code == 401
    assert runner.invoke(args=["reco", "shop-integration", "revoke", "JD shop"]).exit_code == 1


def test_the_partitions_command(runner, session):
    result = runner.invoke(args=["reco", "partitions", "--ahead", "1"])
    assert result.exit_code == 0, result.output
    if session.get_bind().dialect.name == "postgresql":
        assert "Made 2 partitions; 2 months exist (interactions_2026_11 … " \
               "interactions_2026_12)." in result.output
    else:
        assert "SQLite: the interaction log is one table; nothing to do." in result.output
