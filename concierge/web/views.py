"""Minimal pages; the consultant's screens come in later issues."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select

from ..app import get_session
from ..models import Shop

bp = Blueprint("web", __name__)


@bp.get("/healthz")
def healthz():
    """Say the app and its database answer."""
    count = get_session().scalar(select(func.count(Shop.id)))
    return jsonify(status="ok", shops=count)
