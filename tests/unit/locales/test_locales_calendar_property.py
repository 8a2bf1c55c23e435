"""Property: the next business moment is never on a holiday, weekend or outside hours.

The oracle below asks the ``holidays`` package directly (not our calendar module), so
a bug in how we read holidays or half-days cannot hide behind itself.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from locales import get_market
from locales.calendar import is_business_moment, next_business_moment

ZONES = [dt.timezone.utc, ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Istanbul"), ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")]
CASES = [("PL", None), ("TR", None), ("IN", None), ("IN", "MH"), ("IN", "WB")]


def _oracle_closed(code, subdiv, date):
    return date in holidays.country_holidays(code, subdiv=subdiv, years=date.year, language="en_US", categories=("public",))


def _oracle_half_day(code, date):
    return code == "TR" and date in holidays.country_holidays("TR", years=date.year, language="en_US", categories=("half_day",))


# Uniform dates rarely hit a bayram eve afternoon, so half of the examples start near a
# special day (holiday or half-day of any market, +-1 day) to exercise the edges.
SPECIAL_DAYS = sorted(
    {d for c in ("PL", "TR", "IN") for d in holidays.country_holidays(c, years=range(2026, 2029), language="en_US")}
    | set(holidays.country_holidays("TR", years=range(2026, 2029), language="en_US", categories=("half_day",)))
)
NEAR_SPECIAL = st.builds(
    lambda day, shift, time: dt.datetime.combine(day + dt.timedelta(days=shift), time),
    st.sampled_from(SPECIAL_DAYS),
    st.integers(-1, 1),
    st.times(),
)
UNIFORM = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31, 23, 59))


@settings(max_examples=400, deadline=None)
@given(case=st.sampled_from(CASES), naive=st.one_of(UNIFORM, NEAR_SPECIAL), zone=st.sampled_from(ZONES))
def test_next_business_moment_is_a_business_moment(case, naive, zone):
    code, subdiv = case
    market = get_market(code)
    start = naive.replace(tzinfo=zone)
    result = next_business_moment(market, start, subdiv)

    assert result >= start
    assert result.tzinfo.key == market.timezone  # in the market's own zone
    local = result.astimezone(ZoneInfo(market.timezone))
    assert local.isoweekday() in market.working_days
    assert not _oracle_closed(code, subdiv, local.date())
    end = market.half_day_end if _oracle_half_day(code, local.date()) else market.business_hours.end
    assert market.business_hours.start <= local.time() < end
    assert is_business_moment(market, result, subdiv)

    # Minimal: unchanged when already open, otherwise it lands exactly on an opening time.
    if is_business_moment(market, start, subdiv):
        assert result == start
    else:
        assert local.time() == market.business_hours.start
        # ...and no day strictly between the start day and the result day was open.
        day = start.astimezone(market.tz).date() + dt.timedelta(days=1)
        while day < local.date():
            assert day.isoweekday() not in market.working_days or _oracle_closed(code, subdiv, day), day
            day += dt.timedelta(days=1)
