"""API error handling: model and service validation errors become 400s that name the field."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is None and _is_statement_timeout(exc):
        logger.warning("statement timeout on %s", context["request"].get_full_path())
        response = Response(
            {"detail": "The query took too long; narrow the filters or the page size."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "30"},
        )
    return response


def _is_statement_timeout(exc: BaseException) -> bool:
    cause = getattr(exc, "__cause__", None)
    return isinstance(exc, OperationalError) and getattr(cause, "pgcode", None) == "57014"
