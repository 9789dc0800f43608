"""Write sample_ridership.csv: synthetic hourly boardings at an invented metro station (not real data).

Run from the repository root: `.venv/bin/python demos/transport/ridership-forecast/make_sample.py`.
The CSV is committed; this script documents how it was made and remakes it byte for byte (fixed seed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
START = "2025-02-03 00:00"  # a Monday
DAYS = 38  # five weeks and three days: the series ends on a Thursday night

# Mean boardings per hour of the day (0..23) on a working day, a Saturday and a Sunday.
WEEKDAY = [12, 6, 4, 5, 28, 160, 520, 980, 1150, 640, 390, 360, 410, 420, 380, 430, 700, 1080, 1010, 560,
           380, 300, 190, 80]
SATURDAY = [70, 35, 18, 10, 12, 40, 90, 170, 260, 350, 430, 480, 500, 510, 490, 470, 460, 450, 420, 380,
            340, 290, 210, 130]
SUNDAY = [90, 45, 20, 10, 10, 25, 60, 110, 180, 250, 320, 370, 390, 390, 380, 370, 350, 330, 300, 260, 220,
          170, 110, 50]
# Fridays: a lighter morning and a busier evening; Mondays: a slightly lighter day.
DAY_FACTOR = {0: 0.95, 1: 1.0, 2: 1.02, 3: 1.03, 4: 0.97}


def main() -> None:
    """Build the series: daily and weekly pattern, day-to-day level changes, hourly noise."""
    rng = np.random.default_rng(20250203)
    index = pd.date_range(START, periods=DAYS * 24, freq="h")
    day_level = rng.normal(1.0, 0.05, size=DAYS)  # weather, events: whole days run busier or quieter
    values = []
    for stamp in index:
        weekday, hour = stamp.day_of_week, stamp.hour
        profile = WEEKDAY if weekday < 5 else SATURDAY if weekday == 5 else SUNDAY
        mean = profile[hour] * DAY_FACTOR.get(weekday, 1.0) * day_level[(stamp - index[0]).days]
        if weekday == 4 and hour >= 19:
            mean *= 1.25
        # Hour-to-hour noise beyond counting noise: a late train, a group of tourists.
        mean *= rng.lognormal(0.0, 0.06)
        values.append(int(rng.poisson(max(mean, 0.0))))
    frame = pd.DataFrame({"timestamp": index.strftime("%Y-%m-%d %H:%M"), "boardings": values})
    frame.to_csv(HERE / "sample_ridership.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
