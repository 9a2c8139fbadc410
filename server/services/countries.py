"""Country codes and names (ISO 3166-1 alpha-2, from pycountry).

pycountry is imported on first use (a request that shows or registers a country), not at
start-up: an idle server does not hold it (issue 17)."""

from __future__ import annotations

from functools import cache

UNKNOWN_COUNTRY = "XX"


@cache
def country_name(code: str) -> str:
    """The English short name for a country code; "Unknown" for XX or an unknown code."""
    import pycountry

    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return "Unknown" if country is None else str(getattr(country, "common_name", country.name))


def normalise_country(code: str | None) -> str:
    """A known upper-case ISO code, or XX (lazer maps unknown codes to Unknown safely)."""
    if not code or len(code) != 2:
        return UNKNOWN_COUNTRY
    upper = code.upper()
    import pycountry

    return upper if pycountry.countries.get(alpha_2=upper) is not None else UNKNOWN_COUNTRY
