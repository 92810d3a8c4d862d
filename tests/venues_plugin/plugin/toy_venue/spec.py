"""The toy venue declares itself: a name, a config model, a factory, its markets."""

from __future__ import annotations

from quantdesk.venues.registry import BuildOptions, VenueSpec

from toy_venue.config import ToySettings


def build(section: ToySettings, name: str, options: BuildOptions) -> list:
    from toy_venue.venue import ToyVenue

    return [ToyVenue(section)]


def markets(section: ToySettings, name: str) -> list:
    from toy_venue.venue import ToyVenue

    return [ToyVenue(section).market]


SPEC = VenueSpec(names=("toy",), config=ToySettings, build=build, markets=markets, summary="a throwaway test venue")
