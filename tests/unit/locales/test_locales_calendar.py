"""Holidays, business hours and time zones against LOCALES.md §2, §3 and §7."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from locales import InvalidValue, get_market, load_markets
from locales.calendar import (
    add_business_days,
    add_months,
    business_hours_on,
    day_info,
    follow_up_plan,
    holiday_names,
    holidays_for,
    is_business_day,
    is_business_moment,
    next_business_moment,
)

WAW, IST, KOL = ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Istanbul"), ZoneInfo("Asia/Kolkata")
D = dt.date


def dates(year, *mmdd):
    return {D(year, int(s[:2]), int(s[3:])) for s in mmdd}


def closed_days(code, year, subdivision=None):
    return {d.date for d in holiday_names(code, year, subdivision=subdivision) if d.kind == "closed"}


def half_days(code, year):
    return {d.date for d in holiday_names(code, year) if d.kind == "half_day"}


PL_FIXED = ("01-01", "01-06", "05-01", "05-03", "08-15", "11-01", "11-11", "12-24", "12-25", "12-26")
TR_FIXED = ("01-01", "04-23", "05-01", "05-19", "07-15", "08-30", "10-29")


@pytest.mark.parametrize(
    "code,year,expected_closed,expected_half",
    [
        ("PL", 2026, dates(2026, *PL_FIXED, "04-05", "04-06", "05-24", "06-04"), set()),
        ("PL", 2027, dates(2027, *PL_FIXED, "03-28", "03-29", "05-16", "05-27"), set()),
        (
            "TR", 2026,
            dates(2026, *TR_FIXED, "03-20", "03-21", "03-22", "05-27", "05-28", "05-29", "05-30"),
            dates(2026, "03-19", "05-26", "10-28"),
        ),
        (
            "TR", 2027,
            dates(2027, *TR_FIXED, "03-09", "03-10", "03-11", "05-16", "05-17", "05-18"),
            dates(2027, "03-08", "05-15", "10-28"),
        ),
        (
            "IN", 2026,
            dates(2026, "01-26", "03-04", "03-21", "03-26", "03-31", "04-03", "04-14", "05-01", "05-27",
                  "06-26", "08-15", "08-26", "09-04", "10-02", "10-20", "11-08", "11-24", "12-25"),
            set(),
        ),
    ],
)
def test_holidays_match_the_facts(code, year, expected_closed, expected_half):
    assert closed_days(code, year) == expected_closed
    assert half_days(code, year) == expected_half


def test_polish_christmas_eve_is_a_holiday_since_2025():
    assert day_info("PL", D(2026, 12, 24)).kind == "closed"
    assert day_info("PL", D(2024, 12, 24)) is None


def test_indian_states_add_their_days():
    national = closed_days("IN", 2026)
    mh = closed_days("IN", 2026, "MH")
    assert mh - national == dates(2026, "02-19", "03-03", "03-19", "09-14", "11-10")
    assert national - mh == dates(2026, "03-04")  # MH keeps Holi on 03-03 (holidays #3379)
    assert "Maharashtra Day" in holidays_for("IN", 2026, subdivision="mh")[D(2026, 5, 1)]
    assert closed_days("IN", 2026, "DL") == national
    assert closed_days("IN", 2026, "TS") == national
    wb = holidays_for("IN", 2026, subdivision="WB")
    added = sum(len(n.split("; ")) for n in wb.values()) - len(holidays_for("IN", 2026))
    assert added == 13


def test_indian_optional_category_and_estimated_islamic_dates():
    assert len(holidays_for("IN", 2026, categories=("optional",))) == 31
    estimated = [n for n in holidays_for("IN", 2027).values() if "(estimated)" in n]
    assert any("Id-ul-Fitr" in n for n in estimated)


def test_unknown_subdivision_is_rejected():
    with pytest.raises(InvalidValue) as info:
        closed_days("IN", 2026, "XX")
    assert info.value.code == "calendar.unknown_subdivision"


@pytest.mark.parametrize(
    "code,lang,date,name",
    [
        ("PL", "pl", D(2026, 11, 11), "Narodowe Święto Niepodległości"),
        ("PL", "en", D(2026, 11, 11), "National Independence Day"),
        ("PL", "tr", D(2026, 11, 11), "National Independence Day"),  # no tr names for PL: English
        ("TR", "tr", D(2026, 10, 29), "Cumhuriyet Bayramı"),
        ("IN", "hi", D(2026, 8, 15), "स्वतंत्रता दिवस"),
    ],
)
def test_holiday_names_follow_the_requested_language(code, lang, date, name):
    names = {d.date: d.name for d in holiday_names(code, 2026, lang=lang)}
    assert names[date] == name


def test_holiday_names_ignore_process_locale(monkeypatch):
    """Without language= the library follows LANG; we always pass it (LOCALES.md §2)."""
    monkeypatch.setenv("LANG", "")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("LANGUAGE", raising=False)
    assert holidays_for("PL", 2026)[D(2026, 1, 1)] == "New Year's Day"


# ----------------------------------------------------------------------- business hours


@pytest.mark.parametrize(
    "code,date,hours",
    [
        ("PL", D(2026, 12, 23), ("09:00", "17:00")),
        ("PL", D(2026, 12, 24), None),          # holiday
        ("PL", D(2026, 12, 27), None),          # Sunday
        ("TR", D(2026, 3, 19), ("09:00", "13:00")),   # bayram eve: half day
        ("TR", D(2026, 10, 28), ("09:00", "13:00")),
        ("TR", D(2026, 3, 18), ("09:00", "18:00")),
        ("TR", D(2026, 3, 21), None),           # Saturday and bayram
        ("IN", D(2026, 11, 7), ("10:00", "19:00")),   # Saturday is a working day
        ("IN", D(2026, 11, 8), None),           # Diwali (a Sunday anyway)
        ("IN", D(2026, 11, 24), None),          # Guru Nanak's Jayanti, Tuesday
    ],
)
def test_business_hours_on(code, date, hours):
    window = business_hours_on(code, date)
    got = None if window is None else (window.start.isoformat("minutes"), window.end.isoformat("minutes"))
    assert got == hours


@pytest.mark.parametrize(
    "code,when,expected",
    [
        ("TR", dt.datetime(2026, 3, 19, 12, 59, tzinfo=IST), True),
        ("TR", dt.datetime(2026, 3, 19, 13, 0, tzinfo=IST), False),
        ("PL", dt.datetime(2026, 12, 23, 16, 59, tzinfo=WAW), True),
        ("PL", dt.datetime(2026, 12, 23, 17, 0, tzinfo=WAW), False),
        # 08:30 UTC on a July Monday is 10:30 in Warsaw (CEST), inside hours.
        ("PL", dt.datetime(2026, 7, 6, 8, 30, tzinfo=dt.timezone.utc), True),
        # 04:00 UTC is 09:30 in Kolkata: before the 10:00 opening.
        ("IN", dt.datetime(2026, 7, 6, 4, 0, tzinfo=dt.timezone.utc), False),
    ],
)
def test_is_business_moment_in_market_time(code, when, expected):
    assert is_business_moment(code, when) is expected


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        is_business_moment("PL", dt.datetime(2026, 7, 6, 10, 0))


@pytest.mark.parametrize(
    "code,subdiv,start,expected",
    [
        # LOCALES.md §7: audit 3 weeks after trial start, moved to the next business day.
        ("PL", None, dt.datetime(2026, 12, 24, 0, 0, tzinfo=WAW), "2026-12-28T09:00:00+01:00"),
        ("TR", None, dt.datetime(2026, 5, 27, 0, 0, tzinfo=IST), "2026-06-01T09:00:00+03:00"),
        ("IN", "MH", dt.datetime(2026, 11, 19, 0, 0, tzinfo=KOL), "2026-11-19T10:00:00+05:30"),
        # Already inside hours: unchanged, but expressed in the market's zone.
        ("IN", None, dt.datetime(2026, 11, 19, 6, 0, tzinfo=dt.timezone.utc), "2026-11-19T11:30:00+05:30"),
        # After hours on Friday: Monday morning (PL) / Saturday morning (IN works Saturdays).
        ("PL", None, dt.datetime(2026, 11, 13, 18, 0, tzinfo=WAW), "2026-11-16T09:00:00+01:00"),
        ("IN", None, dt.datetime(2026, 11, 13, 20, 0, tzinfo=KOL), "2026-11-14T10:00:00+05:30"),
        # Across the Polish DST change (29 March 2026: Sunday) the offset moves to +02:00.
        ("PL", None, dt.datetime(2026, 3, 27, 17, 30, tzinfo=WAW), "2026-03-30T09:00:00+02:00"),
        ("PL", None, dt.datetime(2026, 10, 23, 17, 30, tzinfo=WAW), "2026-10-26T09:00:00+01:00"),
        # TR half-day: after 13:00 on the bayram eve jumps past the whole bayram.
        ("TR", None, dt.datetime(2026, 3, 19, 14, 0, tzinfo=IST), "2026-03-23T09:00:00+03:00"),
    ],
)
def test_next_business_moment(code, subdiv, start, expected):
    result = next_business_moment(code, start, subdiv)
    assert result.isoformat() == expected
    assert result.tzinfo.key == get_market(code).timezone


def test_full_day_only_skips_half_days():
    eve_morning = dt.datetime(2026, 5, 26, 8, 0, tzinfo=IST)
    assert next_business_moment("TR", eve_morning).date() == D(2026, 5, 26)
    assert next_business_moment("TR", eve_morning, full_day_only=True).isoformat() == "2026-06-01T09:00:00+03:00"


@pytest.mark.parametrize(
    "code,start,n,expected",
    [
        ("TR", D(2026, 3, 18), 1, D(2026, 3, 19)),   # half-day counts by default
        ("PL", D(2026, 12, 23), 1, D(2026, 12, 28)),
        ("PL", D(2026, 12, 23), 0, D(2026, 12, 23)),
        ("PL", D(2026, 12, 24), 0, D(2026, 12, 28)),
        ("IN", D(2026, 11, 6), 1, D(2026, 11, 7)),   # Saturday
    ],
)
def test_add_business_days(code, start, n, expected):
    assert add_business_days(code, start, n) == expected


def test_add_business_days_full_day_only():
    assert add_business_days("TR", D(2026, 3, 18), 1, full_day_only=True) == D(2026, 3, 23)
    assert not is_business_day("TR", D(2026, 3, 19), full_day_only=True)
    assert is_business_day("TR", D(2026, 3, 19))


@pytest.mark.parametrize(
    "start,months,expected",
    [(D(2026, 1, 31), 1, D(2026, 2, 28)), (D(2028, 1, 31), 1, D(2028, 2, 29)), (D(2026, 11, 15), 3, D(2027, 2, 15))],
)
def test_add_months_clamps(start, months, expected):
    assert add_months(start, months) == expected


# --------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    "utc,warsaw,istanbul,kolkata",
    [
        # LOCALES.md §3: 10:00 Warsaw = 12:00 Istanbul = 14:30 Kolkata in winter...
        (dt.datetime(2026, 1, 15, 9, 0), "10:00+01:00", "12:00+03:00", "14:30+05:30"),
        # ...and 11:00 / 13:30 in summer (Warsaw 10:00 CEST).
        (dt.datetime(2026, 7, 15, 8, 0), "10:00+02:00", "11:00+03:00", "13:30+05:30"),
        # DST boundaries of 2027 (28 March, 31 October).
        (dt.datetime(2027, 3, 28, 1, 0), "03:00+02:00", "04:00+03:00", "06:30+05:30"),
        (dt.datetime(2027, 10, 31, 1, 0), "02:00+01:00", "04:00+03:00", "06:30+05:30"),
    ],
)
def test_zone_offsets(utc, warsaw, istanbul, kolkata):
    instant = utc.replace(tzinfo=dt.timezone.utc)
    got = [instant.astimezone(get_market(c).tz).isoformat()[11:16] + instant.astimezone(get_market(c).tz).isoformat()[-6:] for c in ("PL", "TR", "IN")]
    assert got == [warsaw, istanbul, kolkata]


def test_non_existent_warsaw_time_resolves_to_winter_offset():
    gap = dt.datetime(2026, 3, 29, 2, 30, tzinfo=WAW)
    assert gap.utcoffset() == dt.timedelta(hours=1)  # zoneinfo, fold=0 (LOCALES.md §3)
    assert dt.datetime(2026, 3, 29, 3, 30, tzinfo=WAW).utcoffset() == dt.timedelta(hours=2)


# ----------------------------------------------------------------------------- overrides


def _write(tmp_path, text):
    path = tmp_path / "overrides.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_overrides_add_remove_and_half_day(tmp_path):
    path = _write(
        tmp_path,
        """
TR:
  holidays:
    overrides:
      - {date: 2026-05-25, action: add, name: "İdari izin", reason: "9-day bayram break"}
      - {date: 2026-05-26, action: add, name: "İdari izin"}
      - {date: 2026-07-15, action: remove, reason: "example"}
      - {date: 2026-12-31, action: half_day, name: "New Year's Eve"}
IN:
  holidays:
    overrides:
      - {date: 2026-03-20, action: add, name: "Id-ul-Fitr (moon sighting)", subdivisions: [MH]}
      - {date: 2026-03-21, action: remove, subdivisions: [MH]}
""",
    )
    markets = load_markets(path)
    tr, india = markets["TR"], markets["IN"]
    assert day_info(tr, D(2026, 5, 25)).source == "override"
    assert business_hours_on(tr, D(2026, 7, 15)) is not None
    assert business_hours_on(tr, D(2026, 12, 31)).end == dt.time(13)
    # The bridge days push the TR §7 example start earlier: 05-22 (Fri) after hours -> 06-01.
    assert next_business_moment(tr, dt.datetime(2026, 5, 22, 18, 0, tzinfo=IST)).date() == D(2026, 6, 1)
    assert D(2026, 3, 20) in closed_days(india, 2026, "MH")
    assert D(2026, 3, 21) not in closed_days(india, 2026, "MH")
    assert D(2026, 3, 21) in closed_days(india, 2026)  # override is MH-only
    assert D(2026, 5, 25) not in closed_days("TR", 2026)  # the shipped data is untouched


# -------------------------------------------------------------------------- follow-ups


def test_follow_up_plan_tr_fast_after_trial_end():
    plan = follow_up_plan("TR", {"trial_start": D(2026, 5, 6), "trial_end": D(2026, 5, 20)})
    got = {p.step.key: p.at.isoformat() for p in plan}
    assert got == {
        "trial_end_1": "2026-05-21T09:00:00+03:00",
        "trial_end_2": "2026-05-22T09:00:00+03:00",
        "stage_audit": "2026-06-01T09:00:00+03:00",  # §7: 05-27 is Kurban Bayramı
    }
    assert all(p.allowed for p in plan)


def test_follow_up_plan_tr_skips_half_days():
    plan = follow_up_plan("TR", {"trial_end": D(2026, 5, 25)})
    # 05-26 is the bayram eve (half day) and 05-27..30 the bayram: both follow-ups land in June.
    assert [p.at.date() for p in plan] == [D(2026, 6, 1), D(2026, 6, 2)]


def test_follow_up_plan_pl_needs_consent():
    anchors = {"trial_start": dt.datetime(2026, 12, 3, 12, 0, tzinfo=WAW), "trial_end": D(2027, 1, 2)}
    plan = follow_up_plan("PL", anchors)
    assert {p.step.key: p.at.isoformat() for p in plan} == {
        "stage_audit": "2026-12-28T09:00:00+01:00",  # §7
        "nurture_2w": "2027-01-18T09:00:00+01:00",   # 01-16 is a Saturday
        "nurture_6w": "2027-02-15T09:00:00+01:00",   # 02-13 is a Saturday
        "nurture_3m": "2027-04-02T09:00:00+02:00",   # Friday, after the DST change
    }
    assert {p.reason_code for p in plan} == {"consent.missing"} and not any(p.allowed for p in plan)
    assert all(p.allowed for p in follow_up_plan("PL", anchors, consent=True))
    assert {p.reason_code for p in follow_up_plan("PL", anchors, consent=False)} == {"consent.refused"}


def test_follow_up_plan_in_offers_cross_border_early():
    plan = follow_up_plan("IN", {"trial_start": D(2026, 10, 29), "trial_end": D(2026, 11, 12)}, subdivision="MH")
    got = {p.step.key: p.at.isoformat() for p in plan}
    assert got["cross_border_offer"] == "2026-10-31T10:00:00+05:30"  # 2nd business day: Fri, Sat
    assert got["stage_audit"] == "2026-11-19T10:00:00+05:30"  # §7 (MH)
    assert plan[0].step.topic == "cross_border_setup"
