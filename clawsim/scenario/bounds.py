"""The limits a scenario must stay within, in one place (the README's "Limits" lists them).

Every time or cost in milliseconds is an ``Ms``: a finite number in [0, ``MAX_MS``], so
no sum or product the engine forms can overflow to infinity. Every count is a ``Count``:
an integer that fits the result table's 64-bit columns. A field narrows these with
``Annotated[Ms, Field(ge=1)]``, never with ``= Field(ge=...)`` beside the type (pydantic
would let the type's ``ge=0`` replace the field's).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_MS = 1e12  # ~31.7 years of simulated time; sums of ~10^19 such terms still stay finite
MAX_COUNT = 2**63 - 1  # the largest value an int64 column (runs.parquet, runs.csv) holds
MAX_RATE_PER_S = 1e9  # one arrival per microsecond per copy
MAX_ACTOR_COPIES = 10_000  # total actor copies per run; each copy owns a random stream
MAX_LISTS_PER_RUN = 10_000  # lists one run may start; each is one record held in memory

MAX_FILE_BYTES = 1 << 20  # 1 MiB of scenario text
MAX_DEPTH = 64  # nesting of YAML mappings and sequences
MAX_NODES = 1_000_000  # YAML nodes once aliases are expanded (a 1 MiB file has ~500,000 at most)
CHECK_ALL_POINTS = 5_000  # plans with at most this many points have every point checked at validation

_MS_BOUND = Field(le=MAX_MS, allow_inf_nan=False)  # the one bound of every time and cost
Ms = Annotated[float, Field(ge=0), _MS_BOUND]
PositiveMs = Annotated[float, Field(gt=0), _MS_BOUND]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[Count, Field(ge=1)]  # (a later ge replaces the earlier one)
PerSecond = Annotated[float, Field(gt=0, le=MAX_RATE_PER_S, allow_inf_nan=False)]
