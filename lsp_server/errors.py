"""Typed errors. Features raise these; the handler boundary converts them to LSP answers."""

from __future__ import annotations


class EnclaveError(Exception):
    """Base of every error Enclave raises on purpose. The message is safe to show a user:
    it never contains document text."""


class DocumentError(EnclaveError):
    """A document operation could not be carried out."""


class UnknownDocument(DocumentError):
    """The URI was never opened (or was closed)."""


class IgnoredDocument(DocumentError):
    """The file matches the ignore rules: Enclave never sends it to a model."""


class InvalidEdit(DocumentError):
    """An incremental change had a range that does not fit the document (backwards, past
    the end)."""


class StaleVersion(DocumentError):
    """A change carried a version that is not newer than the document's."""


class OutOfSync(DocumentError):
    """The document is out of sync with the editor: nothing is done with it until a full-text
    change or a reopen makes it whole again."""


class InvalidPosition(DocumentError):
    """A position or range in a request is malformed (not a non-negative integer pair)."""


class PositionOutOfRange(DocumentError):
    """A position lies beyond the document."""


class ModelError(EnclaveError):
    """The model could not be provisioned, loaded or run."""


class ModelNotFound(ModelError):
    """No model file at the configured path, and none provisioned."""


class ModelVerificationError(ModelError):
    """A model file failed its size or sha256 check."""


class ModelUnavailable(ModelError):
    """The worker is loading, restarting or has given up."""


class Unsupported(ModelError):
    """The model backend cannot run this kind of job (scoring through an HTTP backend)."""


class UnknownSuggestion(EnclaveError):
    """An acceptance named a suggestion id the server did not issue (or has forgotten)."""


class GenerationCancelled(EnclaveError):
    """A generation was cancelled or superseded by a newer request."""


class SettingsError(EnclaveError):
    """A setting had a value that could not be used."""
