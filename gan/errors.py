"""Typed errors of the `gan` package.

Every error a user can cause derives from :class:`GanError`, so the app and the
CLI can turn it into a one-line message without catching programming bugs.
"""

from __future__ import annotations


class GanError(Exception):
    """Base class for errors caused by user input or user-provided files."""


class InvalidInputError(GanError, ValueError):
    """A parameter is out of range or of the wrong kind (a bad seed, count, size...)."""


class CheckpointError(GanError):
    """A checkpoint is missing, corrupt, of an unknown format, or does not match its config."""


class ImageInputError(GanError, ValueError):
    """An uploaded image is not an image, is corrupt, too large or too small."""


class HubError(GanError):
    """The Hugging Face Hub (or a compatible server) refused or failed a request."""


class HubUnreachableError(HubError):
    """The Hub could not be reached at all: no network, a failing connection, or offline mode."""


class StyleWeightsError(GanError):
    """The style-transfer feature network's weights are missing, unreachable or not VGG19's."""


class DatasetError(GanError):
    """A built-in data set is missing and cannot be fetched, or its files are not what they should be."""


def one_line(text: object, limit: int = 300) -> str:
    """`text` as one line of at most `limit` characters: messages quote values from files nobody checked."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."
