"""Demo rewards for `flask demo load`: a small catalogue of samples in both languages, the
newborn's mother's points for the last weeks of her diary (a streak, milestones, growth
checks) and one sample she asked for, waiting for the service team.

Runs after the demo families exist (diary.demo) and uses the same services as the site:
awards are given as the diary's pages give them, at the time each entry was written, so the
daily caps and streaks come out as they would have. Safe to run again: every award has its
reference and the redemption its key, so nothing is given twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from diary import age as agemath
from diary.accounts import find_user_by_email
from diary.models import Child, Entry, Membership
from rewards import catalogue, points, rules
from rewards.models import RewardItem

PARENT_EMAIL = "demo.newborn@example.com"
#: The weeks of her diary that earned points (the rewards started then).
DAYS = 21
REDEMPTION_KEY = "demo-newborn-wipes-0001"
ADDRESS = catalogue.Address(recipient="Emma Wilson", phone="+44 7700 900123",
                            province="England", city="London",
                            address="Flat 3, 12 Elm Row, Islington", postcode="N1 7AB")

#: (English name, Chinese name, English description, Chinese description, points, stock)
SAMPLES = (
    ("Gentle wipes, travel pack", "柔护湿巾旅行装",
     "Twenty fragrance-free water wipes in a pack that fits the changing bag.",
     "二十片无香型纯水湿巾，小包装正好放进妈咪包。", 40, 80),
    ("Newborn nappies, size NB (5)", "新生儿纸尿裤 NB 码（5 片）",
     "Five nappies with a soft waistband cut low for the cord stump. Try them before you "
     "buy a box.",
     "五片装，腰围柔软，前腰低剪裁避开脐带。买整包之前先试一试。", 60, 40),
    ("Baby wash and shampoo, 50 ml", "婴儿洗发沐浴二合一 50 毫升",
     "Tear-free, for hair and body from the first bath. Small enough for a weekend away.",
     "无泪配方，从第一次洗澡起就能洗头洗身。小瓶装，周末出门也方便。", 70, 30),
    ("Nipple balm, 10 ml", "乳头修护膏 10 毫升",
     "Lanolin balm for the first weeks of breastfeeding; nothing to wipe off before a feed.",
     "羊毛脂修护膏，陪您度过母乳喂养的头几周；喂奶前不用擦掉。", 80, 25),
    ("Soft-tip weaning spoons (2)", "软头辅食勺（2 支）",
     "Two silicone-tipped spoons that change colour when food is too hot. For about six "
     "months on.",
     "两支硅胶软头勺，食物太烫时会变色。适合六个月左右开始吃辅食的宝宝。", 120, 15),
    ("Muslin swaddle, 70 × 70 cm", "纱布包巾 70×70 厘米",
     "Breathable cotton muslin: a swaddle, a shade over the pram or a burp cloth.",
     "透气纯棉纱布：可以当包巾、推车遮阳布，也可以当拍嗝巾。", 200, 0),
)


@dataclass
class DemoRewards:
    samples_added: int = 0
    awards: int = 0
    redemption: bool = False
    parent_found: bool = True

    def summary(self) -> str:
        if not self.parent_found:
            return f"Rewards: catalogue ({self.samples_added} new samples); no {PARENT_EMAIL}."
        return (f"Rewards: {self.samples_added} new samples, {self.awards} new awards for "
                f"{PARENT_EMAIL}" + (", a sample requested." if self.redemption else "."))


def _catalogue(session: Session) -> int:
    have = set(session.scalars(select(RewardItem.name_en)))
    added = 0
    for name_en, name_zh, about_en, about_zh, cost, stock in SAMPLES:
        if name_en not in have:
            catalogue.create_item(session, catalogue.ItemInput(
                name_en, name_zh, about_en, about_zh, cost, stock, True))
            added += 1
    return added


def load(session: Session, now: datetime) -> DemoRewards:
    made = DemoRewards(samples_added=_catalogue(session))
    parent = find_user_by_email(session, PARENT_EMAIL)
    if parent is None:
        made.parent_found = False
        return made
    entries = list(session.scalars(
        select(Entry).join(Child, Child.id == Entry.child_id)
        .join(Membership, Membership.family_id == Child.family_id)
        .where(Membership.user_id == parent.id, Entry.author_id == parent.id,
               Entry.occurred_at >= now - timedelta(days=DAYS), Entry.occurred_at <= now)
        .order_by(Entry.occurred_at, Entry.id)))
    days_written: set = set()
    for entry in entries:
        family = entry.child.family
        at = entry.occurred_at
        ref = points.entry_ref(entry)
        rule = rules.ENTRY_RULES.get(entry.kind, "diary_entry")
        given = [points.award(session, parent, rule, ref, now=at, family=family)]
        day = agemath.local_date(at, family.timezone)
        days_written.add(day)
        run = points.run_length(days_written, day)
        if run in rules.STREAK_LENGTHS:
            given.append(points.award(session, parent, f"streak_{run}", ref, now=at,
                                      family=family))
        made.awards += sum(1 for row in given if row is not None)
    wipes = session.scalar(select(RewardItem).where(RewardItem.name_en == SAMPLES[0][0]))
    if wipes is not None and points.balance(session, parent) >= wipes.cost:
        before = len(catalogue.redemptions_of(session, parent))
        catalogue.redeem(session, parent, wipes.id, ADDRESS, REDEMPTION_KEY,
                         now - timedelta(hours=20))
        made.redemption = len(catalogue.redemptions_of(session, parent)) > before
    return made
