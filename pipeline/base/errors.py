"""Exceptions raised by the pipeline; the CLI turns them into one Vietnamese line each."""


class TreemError(Exception):
    """Base class: the message is Vietnamese and meant for the officer."""


class ConfigError(TreemError):
    """A catalogue, roster or settings file is missing or malformed."""


class WorkspaceError(TreemError):
    """The workspace folder is missing, unreadable or locked by another run."""


class UnreadableFile(TreemError):
    """A submitted file cannot be opened as a workbook; the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
