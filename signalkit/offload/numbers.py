"""Numbers in offloaded payloads: what JSON carries exactly, and what it cannot."""

from __future__ import annotations

import math
import sys

from signalkit.offload.errors import EncodeError

#: Integers shorter than this many bits have fewer decimal digits than Python's
#: smallest allowed limit on converting integers to text (640): the common ones
#: skip the check below.
SAFE_BITS = 2_000


def whole(value: int) -> int:
    """``value``, if JSON can carry it: Python refuses to write (and a worker to
    read) an integer of more digits than ``sys.get_int_max_str_digits()``, which
    would fail only when the task is queued, after the sender's commit."""
    if value.bit_length() >= SAFE_BITS:
        try:
            str(value)
        except ValueError:
            raise EncodeError(
                f"an integer of more than {sys.get_int_max_str_digits()} digits, "
                "which JSON cannot carry: send it as a string"
            ) from None
    return value


def finite(value: float) -> float | dict[str, str]:
    """``value`` as a JSON number, or as its text where a number store may
    rewrite it; finite numbers only."""
    if not math.isfinite(value):
        raise EncodeError(f"{value!r} is not a finite number")
    text = repr(value)
    # A number store may rewrite a JSON number: PostgreSQL's jsonb makes 1e+16
    # the integer 10000000000000000 and -0.0 the number 0.0 (2.5 and 123.0 stay
    # as written). Every float that Python writes with an exponent travels as
    # its text, not only the ones jsonb rewrites today.
    if "e" in text or text == "-0.0":
        return {"$float": text}
    return value
