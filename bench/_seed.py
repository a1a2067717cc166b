"""Bulk seeding shared by the journeys and digest benchmarks: parents, their families and
owner memberships, and children spread across the whole journey, written with Core
executemany inserts (the domain services would take minutes for 100,000 families).

Rows are plain dicts with explicit ids, so a benchmark can add its own columns or tables
(digest preferences) next to them; `finish` moves PostgreSQL's sequences past those ids,
imports the content pack and analyses the tables.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

SEED_CHUNK = 5000
TIMEZONES = ("Asia/Shanghai", "Asia/Shanghai", "Europe/London", "America/New_York")
INTEREST_SETS = ([], ["skin_care"], ["feeding", "sleep"], ["skin_care", "bathing"],
                 ["development", "play"], ["health"], ["pregnancy_wellbeing", "skin_care"])
PROVINCES = (None, "Shanghai", "Beijing", "Guangdong", "Zhejiang")


def household(rng: random.Random, i: int, password_hash: str, now: datetime, *,
              digest_opt_in: bool) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Parent `i` (user, family and owner membership rows, all with id `i`): every fourth
    in London or New York, every third reading Chinese, interests and regions varied."""
    tz = TIMEZONES[i % len(TIMEZONES)]
    user = {
        "id": i, "email": f"parent{i}@bench.example", "password_hash": password_hash,
        "display_name": f"Parent {i}", "member_no": f"BB{i:08d}", "timezone": tz,
        "locale": "zh_CN" if i % 3 == 0 else "en", "unit_system": "metric", "phone": None,
        "region_province": rng.choice(PROVINCES), "region_city": None,
        "interests": list(rng.choice(INTEREST_SETS)), "birthday": None,
        "last_seen_at": now - timedelta(days=rng.randint(0, 60)),
        "digest_opt_in": digest_opt_in, "marketing_opt_in": rng.random() < 0.3,
        "staff_role": None, "is_active": True, "created_at": now, "last_login_at": None,
        "security_stamp": f"{rng.getrandbits(128):032x}",
        "link_key": f"{rng.getrandbits(128):032x}", "email_verified_at": now}
    family = {"id": i, "name": f"Family {i}", "timezone": tz, "created_at": now}
    membership = {"id": i, "family_id": i, "user_id": i, "role": "owner",
                  "relationship_to_child": rng.choice(["mother", "father"]), "joined_at": now}
    return user, family, membership


def child_row(rng: random.Random, child_id: int, family_id: int, today: date, oldest: date,
              now: datetime) -> tuple[dict[str, Any], str]:
    """One child somewhere on the journey: 40 % expecting (weeks 4–40 on `today`), the rest
    born between `oldest` and `today`, a tenth of those preterm (30–36 weeks).
    Returns (row, "expecting" | "born" | "preterm")."""
    row: dict[str, Any] = {
        "id": child_id, "family_id": family_id, "name": f"Baby {child_id}", "sex": None,
        "due_date": None, "birth_date": None, "gestational_weeks_at_birth": None,
        "gestational_days_at_birth": None, "birth_weight_kg": None, "birth_length_cm": None,
        "birth_head_cm": None, "created_at": now}
    if rng.random() < 0.40:
        gestation = rng.randint(4 * 7, 40 * 7 + 6)
        row["due_date"] = today + timedelta(days=280 - gestation)
        row["sex"] = rng.choice([None, None, "female", "male"])
        return row, "expecting"
    birth = today - timedelta(days=rng.randint(0, (today - oldest).days))
    row.update(birth_date=birth, sex=rng.choice(["female", "male"]),
               birth_weight_kg=round(rng.uniform(2.4, 4.3), 2),
               birth_length_cm=round(rng.uniform(45, 55), 1),
               birth_head_cm=round(rng.uniform(32, 36), 1))
    kind = "born"
    if rng.random() < 0.10:
        weeks, days, kind = rng.randint(30, 36), rng.randint(0, 6), "preterm"
    elif rng.random() < 0.5:
        weeks, days = rng.randint(37, 41), rng.randint(0, 6)
    else:
        weeks = days = None  # gestation not recorded: treated as term
    if weeks is not None:
        row.update(gestational_weeks_at_birth=weeks, gestational_days_at_birth=days,
                   due_date=birth + timedelta(days=280 - (weeks * 7 + days)))
    return row, kind


def insert_chunk(session: Any, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    """One transaction: each model's rows as one executemany INSERT."""
    from sqlalchemy import insert

    with session.begin():
        for model, rows in tables:
            if rows:
                session.execute(insert(model.__table__), rows)


def finish(session: Any, engine: Any, tmp: Path, *, journey: bool = False,
           analyze_sqlite: bool = False) -> dict[str, Any]:
    """Move PostgreSQL's id sequences past the explicit ids, import the content pack (and the
    default journey when asked), then ANALYZE (SQLite only when asked: the app itself never
    analyses it). Returns what was created."""
    from sqlalchemy import text

    from content import packs
    from diary.photos import PhotoStore
    from journeys import defaults

    with session.begin():
        if engine.dialect.name == "postgresql":
            for table in ("users", "families", "memberships", "children"):
                session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        report = packs.import_pack(session, packs.DEFAULT_PACK, None, PhotoStore(tmp / "uploads"))
        stages = len(defaults.ensure_default_journey(session).stages) if journey else None
    if engine.dialect.name == "postgresql":  # autovacuum would soon; the benchmark is now
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    elif analyze_sqlite:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return {"content": report.summary(), "journey_stages": stages,
            "content_items": len(report.created) + len(report.updated) + len(report.unchanged)}
