"""Demo tickets for `flask demo load`: the main demo parent's question answered by the demo
service agent, and a queue with a few tickets in every status (one past its promise, one
near it), so the SLA board looks real. Safe to run again: nothing is added twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import sla, tickets
from care.models import CannedReply, Ticket
from diary.models import User

SERVICE_EMAIL = "service@example.com"
MAIN_PARENT = "demo.newborn@example.com"
MAIN_SUBJECT = "Which nappy size for a 3.6 kg newborn?"

CANNED = (
    ("Thanks, we are on it",
     "Thank you for telling us. We are looking into it and will come back to you within "
     "one working day.",
     "谢谢您告诉我们。我们正在处理，会在一个工作日内回复您。"),
    ("Replacement on its way",
     "We are sorry about this. A replacement pack is on its way to you; there is nothing "
     "you need to send back.",
     "非常抱歉。我们已为您寄出一包替换装，无需寄回原商品。"),
    ("See your doctor",
     "We can share general information, but for your own baby please ask your doctor or "
     "midwife.",
     "我们可以提供一般性信息，但关于您宝宝的具体情况，请咨询医生或助产士。"),
)


@dataclass(frozen=True)
class Story:
    parent: str
    category: str
    severity: str
    subject: str
    body: str
    opened_hours_ago: float  # wall-clock hours before now
    status: str  # what it ends as
    reply: str = ""


QUEUE = (
    Story("demo.expecting@example.com", "question", "normal", "孕期可以吃螃蟹吗？",
          "听说孕期不能吃螃蟹，是真的吗？", 1, "new"),
    Story("demo.twins@example.com", "complaint", "high", "Wipes pack arrived torn",
          "The pack of wipes we got on Monday was torn open and dry.", 130, "new"),
    Story("demo.preterm@example.com", "site", "normal", "成长曲线显示不对",
          "宝宝是早产儿，成长曲线好像没有按矫正月龄显示。", 0, "in_progress"),
    Story("demo.twins@example.com", "suggestion", "low", "A twin mode for feeds",
          "It would help to log both babies' feeds at once.", 30, "in_progress"),
    Story("demo.preterm@example.com", "question", "normal", "疫苗可以推迟吗？",
          "宝宝最近感冒了，下周的疫苗可以推迟吗？", 50, "waiting",
          "请先咨询您的儿科医生；一般轻微感冒不影响接种，但要以医生意见为准。"),
    Story("demo.expecting@example.com", "privacy", "normal", "我的数据可以下载吗？",
          "我想下载账号里的所有数据。", 70, "waiting",
          "可以的：登录后在账号页面点击“下载我的数据”即可。需要我们帮您处理吗？"),
    Story("demo.twins@example.com", "question", "normal", "When do twins start solids?",
          "Our twins are two; is it too late to change their diet?", 300, "resolved",
          "Not at all! Our article on toddler meals is a good start."),
    Story("demo.preterm@example.com", "complaint", "normal", "纸尿裤尺码偏小",
          "M 码比以前的小了一些。", 400, "resolved",
          "非常抱歉，我们已为您寄出一包 L 码试用装。"),
)


def _near_opening(now: datetime, policy: sla.Policy, category: str) -> datetime:
    """An opening time whose promise falls due within two business hours of `now`."""
    for minutes in range(60, 60 * 24 * 14, 30):
        opened = now - timedelta(minutes=minutes)
        due = sla.due_at(opened, policy.hours_for(category), policy.calendar)
        left = sla.business_time(now, due, policy.calendar)
        if timedelta(0) < left <= timedelta(hours=2):
            return opened
    return now - timedelta(hours=30)


def load(session: Session, policy: sla.Policy, now: datetime) -> int:
    """Make the demo tickets (none when they exist or the demo users are missing); returns
    how many were made."""
    service = session.scalar(select(User).where(User.email == SERVICE_EMAIL))
    main = session.scalar(select(User).where(User.email == MAIN_PARENT))
    if service is None or main is None or session.scalar(
            select(Ticket.id).where(Ticket.user_id == main.id, Ticket.subject == MAIN_SUBJECT)):
        return 0
    if not tickets.canned_replies(session):
        for title, en, zh in CANNED:
            session.add(CannedReply(title=title, body_en=en, body_zh=zh, updated_at=now))
    opened = now - timedelta(days=3)
    ticket = tickets.open_ticket(session, main, tickets.TicketInput(
        "question", "normal", MAIN_SUBJECT,
        "Emma weighs 3.6 kg. The newborn nappies leak at night; should we go up a size?",
        from_path="/library/help"), policy, now=opened)
    tickets.staff_reply(session, service, ticket,
                        "Congratulations on Emma! Size 1 (2–5 kg) fits best now; if it leaks "
                        "at night, fasten the tabs a little higher and make sure the leg "
                        "cuffs are pulled out. Size 2 is for about 3–6 kg.",
                        "waiting", now=opened + timedelta(hours=3), notify=False)
    tickets.customer_reply(session, main, ticket, "Thank you, the cuffs were the problem!",
                           now=opened + timedelta(hours=20))
    tickets.resolve(session, ticket, service, opened + timedelta(hours=21))
    made = 1
    for story in QUEUE:
        parent = session.scalar(select(User).where(User.email == story.parent))
        if parent is None:
            continue
        at = _near_opening(now, policy, story.category) if story.opened_hours_ago == 0 \
            else now - timedelta(hours=story.opened_hours_ago)
        item = tickets.open_ticket(session, parent, tickets.TicketInput(
            story.category, story.severity, story.subject, story.body), policy, now=at)
        made += 1
        if story.status == "in_progress":
            tickets.assign(session, service, item, "service", service.id,
                           now=at + timedelta(minutes=20))
        elif story.reply:
            answered = min(at + timedelta(hours=4), now)
            tickets.staff_reply(session, service, item, story.reply, story.status,
                                now=answered, notify=False)
    return made
