"""Domain errors, worded for clinicians. Pages show them with ``st.error``; the CLI prints one line."""

from __future__ import annotations


class HCCError(Exception):
    """Base class of every error the app explains to a user."""


class DataFileError(HCCError):
    """The file cannot be read at all (wrong format, encoding, empty)."""


class SchemaError(HCCError):
    """Required columns are missing; the message names them and the fix."""


class EmptyCohortError(HCCError):
    """No patient is left after the cohort rules."""


class SpecError(HCCError):
    """A cohort or analysis specification is invalid (unknown field or value)."""


class IdentifierError(HCCError):
    """The file has columns that look like direct patient identifiers; analysis is blocked until
    each is dropped or confirmed not to be one."""
