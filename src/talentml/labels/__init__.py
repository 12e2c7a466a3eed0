"""Labels: flight risk, high potential and ramp-up, point in time.

A label is an outcome that happens *after* a point in time ``as_of``. Every function here
takes the rows to label explicitly (a *spine* of ``employee_id`` and ``as_of``, or the hires
of an ``employees`` table) and returns pandas, aligned with its input:

* :func:`flight_risk` - a voluntary exit in ``(as_of, as_of + horizon]``; involuntary exits
  and horizons that run past ``observed_until`` are censored (missing label) and keep a
  duration for survival models;
* :func:`high_potential` - a promotion (or another job event, or a high-potential
  designation such as :func:`hipo_designations`) in ``(as_of, as_of + horizon]``; an exit
  inside the horizon before it is censored;
* :func:`ramp_up` - the interval-censored time from hire to sustained productivity, as
  ``lower_days`` / ``upper_days`` (what XGBoost's ``survival:aft`` objective wants);
  :func:`ramp_up_spine` attaches it to ``hire + k days`` rows;
* :func:`censor_at` - the targets as known at a date (an out-of-time split's training
  targets: durations and intervals that run past the date are censored there).

Point in time. A label uses only facts *effective after* ``as_of`` (they may be recorded
long after it: that is what a label is). The one fact at or before ``as_of`` that matters is
whether the row is at risk at all: an employee not yet hired, or whose termination is
effective at or before ``as_of``, is not active and gets no label (``censored =
"not_active"``). Nothing reads the clock: the end of observation is ``observed_until``, given
or derived from the data (and logged). Facts effective after ``observed_until`` are ignored.

Dates. ``hire_date`` is the first day of employment, effective at its start;
``termination_date`` is the *last* day (the contract), so a termination takes effect at the
end of that day, ``termination_date + 1 day``: an employee is active at ``as_of`` when
``hire_date <= as_of < termination_date + 1 day``, exactly as
:func:`talentml.features.make_spine` selects them, and a termination dated ``as_of`` is an
exit inside ``(as_of, as_of + horizon]``. Other job events (promotions, transfers) take effect
at the start of their ``effective_date``.

Censoring reasons are listed in :data:`CENSORING_REASONS`; ``docs/labels.md`` explains each
label, its censoring and its point-in-time rule.
"""

from __future__ import annotations

from ._censor import censor_at
from ._common import (
    CENSORING_REASONS,
)
from ._common import (
    EXIT as EXIT,
)
from ._common import (
    HORIZON_UNOBSERVED as HORIZON_UNOBSERVED,
)
from ._common import (
    INVOLUNTARY_EXIT as INVOLUNTARY_EXIT,
)
from ._common import (
    MSG_HORIZON as MSG_HORIZON,
)
from ._common import (
    MSG_ON_INACTIVE as MSG_ON_INACTIVE,
)
from ._common import (
    NOT_ACTIVE as NOT_ACTIVE,
)
from ._common import (
    PRODUCTIVE_BY_AS_OF as PRODUCTIVE_BY_AS_OF,
)
from ._common import (
    UNKNOWN_EMPLOYEE as UNKNOWN_EMPLOYEE,
)
from ._flight import flight_risk
from ._hipo import high_potential, hipo_designations
from ._ramp import ramp_up, ramp_up_spine

__all__ = [
    "CENSORING_REASONS",
    "censor_at",
    "flight_risk",
    "high_potential",
    "hipo_designations",
    "ramp_up",
    "ramp_up_spine",
]
