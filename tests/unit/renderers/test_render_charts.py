"""Manager charts: conversion by cohort, funnel by readiness stage, calibration."""
from __future__ import annotations

import io

import defusedxml.ElementTree as DET
import pytest
from PIL import Image

from renderers import render_png, render_svg
from renderers.charts import (CalibrationBin, CohortRow, FunnelRow, calibration_chart,
                              cohort_conversion_chart, readiness_funnel_chart)
from renderers.checks import layout_problems
from renderers.scene import iter_text
from locales import LANGUAGES

COHORTS = [(f"2026-{m:02d}", 100 + 13 * m, 10 + 3 * m) for m in range(1, 13)]
FUNNEL = [("launched", 45), ("setting_up", 1500), ("products", 1100), ("payments_shipping", 640),
          ("legal", 420), ("ready", 300)]
BINS = [(0.05, 0.03, 400), (0.15, 0.12, 300), (0.35, 0.33, 150), (0.7, 0.62, 40), (0.9, 0.8, 12)]


def texts(scene):
    return [r.text for r in iter_text(scene)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_charts_render_to_svg_and_png_without_overflow(lang):
    for scene in (cohort_conversion_chart(COHORTS, lang=lang, market="PL"),
                  readiness_funnel_chart(FUNNEL, lang=lang, market="TR"),
                  calibration_chart(BINS, lang=lang, market="IN")):
        root = DET.fromstring(render_svg(scene))
        assert root.get("role") == "img"
        assert layout_problems(scene) == []
        with Image.open(io.BytesIO(render_png(scene))) as im:
            assert im.size == (round(scene.width), round(scene.height))


def test_cohort_chart_shows_rates_and_counts():
    scene = cohort_conversion_chart([CohortRow("2026-01", 200, 50), {"cohort": "2026-02", "trials": 0,
                                                                     "converted": 0}], lang="en")
    assert "25%" in texts(scene) and "n = 200" in texts(scene) and "n = 0" in texts(scene)
    assert "2026-01 25%" in scene.desc


def test_funnel_is_in_stage_order_with_share_of_the_first_stage():
    scene = readiness_funnel_chart([FunnelRow(*r) for r in FUNNEL], lang="en", market="IN")
    stages = [t for t in texts(scene) if t in ("Setting up", "Products", "Launched")]
    assert stages == ["Setting up", "Products", "Launched"]
    assert "1,500 · 100% of the first stage" in texts(scene)
    assert "45 · 3% of the first stage" in texts(scene)


def test_calibration_chart_has_diagonal_legend_and_points():
    scene = calibration_chart([CalibrationBin(*b) for b in BINS], lang="pl", market="PL")
    assert "Idealna kalibracja" in texts(scene)
    assert "5% → 3%" in scene.desc


@pytest.mark.parametrize("chart", [cohort_conversion_chart, readiness_funnel_chart, calibration_chart])
def test_empty_data_says_so(chart):
    scene = chart([], lang="tr")
    assert "Henüz veri yok" in texts(scene)


def test_charts_are_deterministic():
    assert render_svg(calibration_chart(BINS)) == render_svg(calibration_chart(list(reversed(BINS))))
