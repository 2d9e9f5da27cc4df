"""Shared column helpers for the models."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column(cls: type[enum.Enum]) -> Enum:
    """A VARCHAR enum column storing the members' values."""
    # Store the value, bounded by a CHECK-free VARCHAR so adding a member needs no migration dance.
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=20)
