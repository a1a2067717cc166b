"""The `/studio` parent blueprint: its areas and what every staff page's template reads."""
from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import current_user

from webapp.blueprints.studio import EDITORS
from webapp.blueprints.studio.audit.routes import bp as audit
from webapp.blueprints.studio.campaigns.routes import bp as campaigns
from webapp.blueprints.studio.clubs.routes import bp as clubs
from webapp.blueprints.studio.content.forms import KIND_NAMES
from webapp.blueprints.studio.content.routes import bp as content
from webapp.blueprints.studio.crm_analysis.routes import bp as crm_analysis
from webapp.blueprints.studio.crm_value.routes import bp as crm_value
from webapp.blueprints.studio.customers.routes import bp as customers
from webapp.blueprints.studio.families.routes import bp as families
from webapp.blueprints.studio.journeys.routes import bp as journeys
from webapp.blueprints.studio.outbox.routes import bp as outbox
from webapp.blueprints.studio.reco.routes import bp as reco
from webapp.blueprints.studio.reviews.routes import bp as reviews
from webapp.blueprints.studio.rewards.routes import bp as rewards
from webapp.blueprints.studio.segments.routes import bp as segments
from webapp.blueprints.studio.surveys.routes import bp as surveys
from webapp.blueprints.studio.surveys.routes import help_bp as help_stats
from webapp.blueprints.studio.tickets.routes import bp as tickets

bp = Blueprint("studio", __name__, url_prefix="/studio")
bp.register_blueprint(content)
bp.register_blueprint(journeys, url_prefix="/journeys")
bp.register_blueprint(families, url_prefix="/families")
bp.register_blueprint(outbox, url_prefix="/outbox")
bp.register_blueprint(audit, url_prefix="/audit")
bp.register_blueprint(reco, url_prefix="/suggestions")
bp.register_blueprint(crm_value, url_prefix="/crm")
bp.register_blueprint(segments, url_prefix="/segments")
bp.register_blueprint(campaigns, url_prefix="/campaigns")
bp.register_blueprint(customers, url_prefix="/customers")
bp.register_blueprint(crm_analysis, url_prefix="/crm")
bp.register_blueprint(clubs, url_prefix="/clubs")
bp.register_blueprint(tickets, url_prefix="/tickets")
bp.register_blueprint(rewards, url_prefix="/rewards")
bp.register_blueprint(surveys, url_prefix="/surveys")
bp.register_blueprint(help_stats, url_prefix="/help")
bp.register_blueprint(reviews, url_prefix="/reviews")


@bp.context_processor
def _navigation() -> dict[str, Any]:
    """What the studio's navigation (studio/_nav.html) needs, on every staff page."""
    return dict(KIND_NAMES=KIND_NAMES, KINDS=tuple(KIND_NAMES),
                can_edit_content=current_user.is_authenticated
                and current_user.staff_role in EDITORS + ("admin",))
