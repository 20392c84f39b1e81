"""The JSON API under /api (filled in by item 3)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api")
