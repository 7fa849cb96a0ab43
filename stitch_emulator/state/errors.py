"""Errors the emulator answers with, each carrying the reference's exact status and body (§7)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API error: `status` and the JSON `body` to send verbatim."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def v4_error(code: str, message: str, status: int = 400, **data: Any) -> ApiError:
    """The v4 sources shape: `{"error": code, "data": {"message": ..., ...}}` (§7.1 shape 2)."""
    return ApiError(status, {"error": code, "data": {"message": message, **data}})


def unauthorized(message: str = "invalid or missing access token") -> ApiError:
    return v4_error("Unauthorized", message, status=401)


def not_found(message: str = "not found") -> ApiError:
    return v4_error("NotFound", message, status=404)


def job_error(kind: str, message: str, status: int = 400) -> ApiError:
    """The replication-jobs shape: `{"error": {"type": ..., "message": ...}}` (§7.1 shape 3)."""
    return ApiError(status, {"error": {"type": kind, "message": message}})


def invalid_fields(message: str) -> ApiError:
    """The streams PUT shape: `{"invalid_fields": ...}` (§7.1 shape 4)."""
    return ApiError(400, {"invalid_fields": message})


def bare(message: str, status: int = 400) -> ApiError:
    """A bare JSON string body (§7.1 shape 1)."""
    return ApiError(status, message)


def account_error(code: str, message: str, errors: dict[str, str] | None = None) -> ApiError:
    """The accounts shape: `{"code", "message", "errors"?}` (§7.1 shape 5)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return ApiError(400, body)
