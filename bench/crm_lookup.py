"""Customer look-up benchmark: staff finding one customer among N by whatever they have.

    .venv/bin/python bench/crm_lookup.py [--customers 1000000] [--lookups 2000]
        [--database-url URL] [--seed 1] [--check] [--keep]

What it does, inside a fresh temporary folder that is removed afterwards:

1. creates a database (a SQLite file; or, with --database-url pointing at a PostgreSQL server,
   a new database inside that server, dropped at the end) and migrates it (on PostgreSQL that
   makes the pg_trgm trigram indexes);
2. seeds N customers with Core bulk inserts (executemany, 5,000 rows a statement): a parent
   with a realistic name (Chinese names from common surnames, pinyin and English names), an
   email at a common provider, a Chinese mobile number written as people write them, a
   family, an owner membership and one child with a name; and a purchase with an order id
   for every tenth customer. The lookup keys are made by `diary.lookup_keys`, as the models
   make them; the content pack is imported (purchases name a product) and the tables are
   analysed. Seeding is timed separately;
3. times `crm.search.find` end to end in process (the whole search: every pass, the
   accounts read), one transaction per look-up as a request would, over a mix of what staff
   type: member numbers (any case), email addresses (exact, and with one typo), phone numbers
   (other formats than stored), names (exact, Chinese; and Latin names with one typo),
   children's names, order ids, and searches that find nobody;
4. prints exactly one JSON object on stdout: p50/p95/p99 overall and per kind, how often the
   wanted customer was among the results (`found_rate`), and how often it was not but more
   customers matched than are shown (`shared_rate`: a common name such as 王芳 or a baby
   called 小宝 needs more to go on). Progress goes to stderr.

Target (from the issue): p95 ≤ 50 ms at 1,000,000 customers on PostgreSQL. `--check` exits 1
when it is missed.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import BenchError, Run, log, machine_facts, read_server_version  # noqa: E402

TARGET_P95_MS = 50.0
CHUNK = 5000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文婷雪琳晨宇浩然欣怡子涵梓轩一诺雨佳思语嘉俊博文"  # noqa: E501
PINYIN = ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu",
          "sun", "ma", "zhu", "hu", "guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie")
PINYIN_GIVEN = ("wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong",
                "yan", "jie", "juan", "tao", "ming", "chao", "xiu", "xia", "ping", "gang", "hua",
                "xinyi", "zihan", "haoran", "yuxuan", "jiahui", "siyu", "junjie", "mengqi")
FIRST = ("Emma", "Olivia", "Sophie", "Grace", "Chloe", "Lucy", "Hannah", "Amelia", "Jessica",
         "Charlotte", "Emily", "Sarah", "Laura", "Rachel", "Anna", "James", "Thomas", "Daniel",
         "Oliver", "William", "Jonathan", "Michael", "David", "Matthew", "Christopher")
LAST = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
        "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Lewis", "Harrison", "Morgan")
DOMAINS = ("qq.com", "qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "icloud.com",
           "hotmail.com", "sina.com", "foxmail.com")
BABY = ("小宝", "乐乐", "豆豆", "糖糖", "果果", "Mia", "Leo", "Lily", "Max", "Ella", "Noah",
        "Ava", "安安", "悠悠", "多多", "朵朵")
KINDS = ("member_no", "email", "email_typo", "phone", "name_cjk", "name_typo", "child_name",
         "order", "miss")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if args.customers < 1000 or args.lookups < 50:
        parser.error("at least 1,000 customers and 50 look-ups")
    return args


# --- seeding ---------------------------------------------------------------------------------

def person(rng: random.Random, i: int) -> tuple[str, str, str]:
    """(display name, email, phone as typed) of customer i."""
    style = rng.random()
    if style < 0.55:
        surname = rng.choice(SURNAMES)
        name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        local = f"{rng.choice(PINYIN)}{rng.choice(PINYIN_GIVEN)}"
    elif style < 0.8:
        given, family = rng.choice(PINYIN_GIVEN), rng.choice(PINYIN)
        name = f"{given.title()} {family.title()}"
        local = f"{given}.{family}"
    else:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        local = f"{first.lower()}.{last.lower()}"
    digits = rng.randrange(10**8)
    if rng.random() < 0.5:
        local = f"{local}{digits % 10000}"
    email = f"{local}{i}@{rng.choice(DOMAINS)}" if rng.random() < 0.3 else \
        f"{local}.{i}@{rng.choice(DOMAINS)}"
    mobile = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    phone = rng.choice((mobile, f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                        f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"))
    return name, email, phone


def seed(url: str, tmp: Path, n: int, rng: random.Random, now: datetime) -> dict[str, Any]:
    """N customers with families, children and some purchases; returns samples to look up."""
    from _common import make_password_hash
    from sqlalchemy import insert, select, text

    import db
    from content import packs
    from content.models import ContentItem
    from diary import lookup_keys
    from diary.models import Child, Family, Membership, User
    from diary.photos import PhotoStore
    from recommender import log as reco_log
    from recommender.models import Interaction, InteractionKey

    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    hashed = make_password_hash()
    samples: dict[str, list[tuple[str, int]]] = defaultdict(list)
    with factory() as session:
        with session.begin():
            packs.import_pack(session, packs.DEFAULT_PACK, None, PhotoStore(tmp / "content"))
        with session.begin():
            product = session.scalar(select(ContentItem.id).where(ContentItem.kind == "product")
                                     .order_by(ContentItem.id).limit(1))
        if product is None:
            raise BenchError("the content pack has no product")
        today = now.date()
        for start in range(1, n + 1, CHUNK):
            users, families, members, children, interactions, keys = [], [], [], [], [], []
            for i in range(start, min(n + 1, start + CHUNK)):
                name, email, phone = person(rng, i)
                users.append({
                    "id": i, "email": email, "password_hash": hashed, "display_name": name,
                    "member_no": f"BJ{i:08d}", "timezone": "Asia/Shanghai", "locale": "zh_CN",
                    "unit_system": "metric", "phone": phone, "region_province": None,
                    "region_city": None, "interests": [], "birthday": None,
                    "last_seen_at": now, "digest_opt_in": False, "marketing_opt_in": False,
                    "personalise_suggestions": True, "staff_role": None, "is_active": True,
                    "created_at": now, "last_login_at": None,
                    "security_stamp": f"{rng.getrandbits(128):032x}",
                    "link_key": f"{rng.getrandbits(128):032x}", "email_verified_at": now,
                    "email_key": lookup_keys.email_key(email),
                    "phone_key": lookup_keys.phone_key(phone),
                    "name_key": lookup_keys.name_key(name)})
                families.append({"id": i, "name": f"{name}'s family",
                                 "timezone": "Asia/Shanghai", "created_at": now})
                members.append({"id": i, "family_id": i, "user_id": i, "role": "owner",
                                "relationship_to_child": "mother", "joined_at": now})
                baby = rng.choice(BABY) + (rng.choice(GIVEN) if rng.random() < 0.5 else "")
                children.append({
                    "id": i, "family_id": i, "name": baby, "sex": None, "due_date": None,
                    "birth_date": today - timedelta(days=rng.randrange(1, 900)),
                    "gestational_weeks_at_birth": None, "gestational_days_at_birth": None,
                    "birth_weight_kg": None, "birth_length_cm": None, "birth_head_cm": None,
                    "created_at": now, "name_key": lookup_keys.name_key(baby)})
                order = None
                if i % 10 == 0:
                    order = f"SO{20260000 + i}-{rng.randrange(1, 4)}"
                    key = reco_log.key_for("order-line", order)
                    keys.append({"key": key, "created_at": now})
                    interactions.append({
                        "occurred_at": now - timedelta(days=rng.randrange(1, 300)),
                        "kind": "purchase", "user_id": i, "child_id": i, "item_id": product,
                        "stage": None, "surface": "shop", "position": None,
                        "model_version": None, "request_id": None, "quantity": 1,
                        "amount_minor": 8900, "currency": "CNY", "idempotency_key": key,
                        "order_ref": order})
                _sample(rng, samples, i, name, email, phone, baby, order, n)
            with session.begin():
                for model, rows in ((User, users), (Family, families),
                                    (Membership, members), (Child, children),
                                    (InteractionKey, keys), (Interaction, interactions)):
                    if rows:
                        session.execute(insert(model.__table__), rows)
            if start // CHUNK % 20 == 0:
                log(f"  {min(n, start + CHUNK - 1):,} customers")
        if engine.dialect.name == "postgresql":
            with session.begin():
                for table in ("users", "families", "memberships", "children"):
                    session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return samples


def _typo(rng: random.Random, text: str) -> str:
    """One edit somewhere after the first character: a swap, a change or a deletion."""
    i = rng.randrange(1, len(text) - 1)
    choice = rng.random()
    if choice < 0.4:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if choice < 0.7:
        return text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1:]
    return text[:i] + text[i + 1:]


def _sample(rng: random.Random, samples: dict[str, list[tuple[str, int]]], i: int, name: str,
            email: str, phone: str, baby: str, order: str | None, n: int) -> None:
    """Keep a few customers of each kind to look up later (reservoir of ~400 per kind)."""
    if rng.random() > 400 / n * 4:
        return
    digits = "".join(c for c in phone if c.isdigit())[-11:]
    samples["member_no"].append((rng.choice((f"BJ{i:08d}", f"bj{i:08d}", f"{i:08d}")), i))
    samples["email"].append((email.upper() if rng.random() < 0.3 else email, i))
    local, _, domain = email.partition("@")
    samples["email_typo"].append((_typo(rng, local) + "@" + domain, i))
    samples["phone"].append((rng.choice((f"+86{digits}", f"{digits[:3]} {digits[3:7]} "
                                         f"{digits[7:]}", f"0086-{digits}")), i))
    if any("\u4e00" <= c <= "\u9fff" for c in name):
        samples["name_cjk"].append((" ".join(name) if rng.random() < 0.3 else name, i))
    elif len(name.replace(" ", "")) >= 8:
        samples["name_typo"].append((_typo(rng, name), i))
    samples["child_name"].append((baby, i))
    if order:
        samples["order"].append((order.lower() if rng.random() < 0.3 else order, i))
    samples["miss"].append((rng.choice(("nobody.here@nowhere.example", "+86 100 0000 0000",
                                        "SO-NOPE-1", "Zzyzx Qwerty", "不存在的人")), 0))


# --- timing ----------------------------------------------------------------------------------

def percentiles(samples: list[float]) -> dict[str, float]:
    import numpy as np

    p50, p95, p99 = np.percentile(np.array(samples) * 1000, [50, 95, 99])
    return {"p50_ms": round(float(p50), 2), "p95_ms": round(float(p95), 2),
            "p99_ms": round(float(p99), 2), "lookups": len(samples)}


def time_lookups(url: str, samples: dict[str, list[tuple[str, int]]], count: int,
                 rng: random.Random) -> dict[str, Any]:
    import db
    from crm import search

    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    kinds = [k for k in KINDS if samples.get(k)]
    plan = [(kind, *rng.choice(samples[kind])) for kind in
            (kinds[n % len(kinds)] for n in range(count))]
    rng.shuffle(plan)
    times: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[bool]] = defaultdict(list)
    shared: dict[str, list[bool]] = defaultdict(list)  # more customers matched than shown
    with factory() as session:
        for _kind, query, _ in plan[:50]:  # warm the caches and the connection
            with session.begin():
                search.find(session, query)
        for kind, query, wanted in plan:
            t0 = time.perf_counter()
            with session.begin():
                result = search.find(session, query)
            times[kind].append(time.perf_counter() - t0)
            ids = [r.user.id for r in result.results]
            found[kind].append(wanted in ids if wanted else not ids)
            shared[kind].append(bool(wanted) and wanted not in ids and result.more)
            session.expunge_all()
        trigrams = search.has_trigrams(session)
    version = read_server_version(engine)
    engine.dispose()
    every = [t for ts in times.values() for t in ts]
    answered = sum(sum(f) + sum(s) for f, s in zip(found.values(), shared.values(),
                                                  strict=True))
    return {"overall": percentiles(every),
            "per_kind": {k: {**percentiles(times[k]),
                             "found_rate": round(sum(found[k]) / len(found[k]), 3),
                             "shared_rate": round(sum(shared[k]) / len(shared[k]), 3)}
                         for k in kinds},
            "found_rate": round(sum(sum(f) for f in found.values()) / len(every), 3),
            "found_or_shared_rate": round(answered / len(every), 3),
            "trigram_indexes": trigrams, "db_version": version}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run("bench-crm-lookup-", keep=args.keep, check=args.check)
    return run.execute(lambda: measure(args, run))


def measure(args: argparse.Namespace, run: Run) -> dict[str, Any]:
    import clock

    load_before = os.getloadavg()[0]
    url, dialect = run.database(args.database_url)
    rng = random.Random(args.seed)
    now = clock.utcnow().replace(microsecond=0)
    log(f"seeding {args.customers:,} customers ({dialect})")
    t0 = time.perf_counter()
    samples = seed(url, run.tmp, args.customers, rng, now)
    seed_s = time.perf_counter() - t0
    log(f"  seeded in {seed_s:.0f} s; timing {args.lookups} look-ups")
    timed = time_lookups(url, samples, args.lookups, rng)
    p95 = timed["overall"]["p95_ms"]
    log(f"  p95 {p95} ms, found {timed['found_rate']:.1%}")
    problems = []
    if timed["found_or_shared_rate"] < 0.8:
        problems.append(f"only {timed['found_or_shared_rate']:.1%} of look-ups found their "
                        "customer (or more customers than are shown)")
    return {"benchmark": "crm_lookup", "date": date.today().isoformat(), "db": dialect,
            "customers": args.customers, "seed_seconds": round(seed_s, 1),
            "lookups": timed["overall"], "per_kind": timed["per_kind"],
            "found_rate": timed["found_rate"],
            "found_or_shared_rate": timed["found_or_shared_rate"],
            "trigram_indexes": timed["trigram_indexes"],
            "targets": {"p95_ms_max": TARGET_P95_MS},
            "meets_targets": not problems and p95 <= TARGET_P95_MS, "problems": problems,
            "machine": machine_facts(load_before, timed["db_version"])}


if __name__ == "__main__":
    sys.exit(main())
