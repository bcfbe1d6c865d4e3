"""When an incident may be dated: not before the start of the conflict.

The one place the bound is defined. Submissions (incidents.services.incident_validate, so the API,
the report form and the admin) and the ACLED import (a parameter of its SQL) check stored dates
against it; filters on dates accept any date.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.utils.translation import gettext as _

# 15 March 2011, the start of the conflict, from midnight in the project's time zone: an older
# date is a mistake (year 1 from a date picker, 1021 for 2021).
EARLIEST_OCCURRED_DATE = datetime.date(2011, 3, 15)


def earliest_occurred_at() -> datetime.datetime:
    """The first instant an incident may be dated: midnight of EARLIEST_OCCURRED_DATE in the
    project's time zone, as an ACLED event_date of that day is imported."""
    return datetime.datetime.combine(
        EARLIEST_OCCURRED_DATE, datetime.time(), zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )


def occurred_too_early_message() -> str:
    return _("The time of an incident cannot be before %(date)s, the start of the conflict.") % {
        "date": EARLIEST_OCCURRED_DATE.isoformat()
    }
