"""Deliver alerts by e-mail and to webhooks: claimed from the database, retried with exponential
backoff, logged attempt by attempt; a webhook that keeps failing is switched off.

Delivery is at least once: a worker killed between sending and recording sends again after its
lease runs out. Receivers deduplicate on the X-Monitor-Delivery header.

Signature (documented in the README): X-Monitor-Signature: t=<unix seconds>,v1=<hex> where hex is
HMAC-SHA256 with the endpoint's secret over "<t>." followed by the raw body bytes.

A webhook is sent only to public addresses (alerts.destinations), to the very address that was
checked, and its log keeps a class of outcome ("timeout", "connection refused", "HTTP 5xx"),
never the network's own error text: the log must not describe what listens where.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.roles import Role
from alerts.destinations import Destination, DestinationRefused, resolve_destination
from alerts.models import Alert, AlertDelivery, DeliveryAttempt, WebhookEndpoint
from alerts.payloads import alert_email, alert_payload

logger = logging.getLogger(__name__)

# A claimed delivery is not claimed again for this long (the send's timeout is far shorter).
CLAIM_LEASE = datetime.timedelta(minutes=2)
DISPATCH_BATCH = 50


def email_recipients() -> list[str]:
    """Active analysts and admins with an address, and the configured extra addresses."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    staff = users.filter(
        Q(is_superuser=True) | Q(groups__name__in=[Role.ANALYST.value, Role.ADMIN.value])
    )
    addresses = set(staff.values_list("email", flat=True)) | set(settings.ALERT_EMAIL_RECIPIENTS)
    return sorted(addresses)


def deliveries_create(alerts: Iterable[Alert]) -> int:
    """Queue one e-mail and one delivery per interested active webhook for each alert."""
    alerts = list(alerts)
    if not alerts:
        return 0
    recipients = email_recipients()
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
    rows = []
    for alert in alerts:
        # E-mail goes to staff: the alerts raised on exact points (in partners' words); a webhook
        # gets the alerts of its audience's basis (alerts.models.AlertBasis).
        if recipients and alert.shown_to(exact=True):
            rows.append(
                AlertDelivery(
                    alert=alert, channel=AlertDelivery.Channel.EMAIL, recipients=recipients
                )
            )
        rows += [
            AlertDelivery(alert=alert, channel=AlertDelivery.Channel.WEBHOOK, endpoint=endpoint)
            for endpoint in endpoints
            if endpoint.wants(alert.kind)
            and alert.shown_to(exact=endpoint.audience == WebhookEndpoint.Audience.STAFF)
        ]
    AlertDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_s: int = 300) -> bool:
    """What a receiver does (and what the tests do): check the HMAC and the timestamp's age."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
        expected = sign(secret, timestamp, body)
    except (KeyError, ValueError):
        return False
    fresh = abs(time.time() - timestamp) <= tolerance_s
    return fresh and hmac.compare_digest(expected, header)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address already checked, whatever the host name resolves to by now; the
    host name still goes in the Host header."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, over TLS: SNI and the certificate check use the host name, not the address."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _send(destination: Destination, body: bytes, headers: dict[str, str]) -> int:
    """POST to the first checked address that accepts a connection; the response's status.

    Redirects are not followed (http.client never does): a webhook must answer itself.
    """
    connection_class = (
        _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    )
    error: OSError | None = None
    for address in destination.addresses:
        connection = connection_class(
            destination.host,
            destination.port,
            address=address,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            if isinstance(exc, ssl.SSLError):
                raise
            error = exc  # try the next checked address, if there is one
            continue
        try:
            connection.request("POST", destination.target, body=body, headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()
    raise error or ConnectionError()


def _outcome(error: BaseException) -> str:
    """The log's class for a failed send: what went wrong, never the network's own words."""
    if isinstance(error, DestinationRefused):
        return error.status
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLError):
        return "TLS failed"
    if isinstance(error, http.client.HTTPException):
        return "invalid response"
    return "connection failed"


def _post_webhook(delivery: AlertDelivery) -> tuple[bool, int | None, str]:
    endpoint = delivery.endpoint
    exact = endpoint.audience == WebhookEndpoint.Audience.STAFF
    body = json.dumps(
        {
            "delivery": str(delivery.uuid),
            "event": f"alert.{delivery.alert.kind}",
            "alert": alert_payload(delivery.alert, exact=exact),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "CeasefireMonitor-Webhook/1",
        "X-Monitor-Delivery": str(delivery.uuid),
        "X-Monitor-Event": f"alert.{delivery.alert.kind}",
        "X-Monitor-Signature": sign(endpoint.secret, int(time.time()), body),
    }
    try:
        # Resolved and checked on every attempt: DNS can change between saving and sending.
        status = _send(resolve_destination(endpoint.url), body, headers)
    except (DestinationRefused, OSError, http.client.HTTPException, ValueError) as error:
        logger.info("webhook %s: %s (%r)", endpoint.pk, _outcome(error), error)
        return False, None, _outcome(error)
    if 200 <= status < 300:
        return True, status, ""
    return False, status, f"HTTP {status // 100}xx"


def _send_email(delivery: AlertDelivery) -> tuple[bool, int | None, str]:
    subject, body = alert_email(delivery.alert)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, delivery.recipients)
    except Exception as error:  # SMTP and backend errors vary; each is logged on the attempt
        return False, None, f"{type(error).__name__}: {error}"[:500]
    return True, None, ""


def backoff(attempts: int) -> datetime.timedelta:
    """Wait before attempt `attempts + 1`: base, 2 x base, 4 x base, ..., capped."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return datetime.timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


def _claim(limit: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            AlertDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=AlertDelivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(channel=AlertDelivery.Channel.EMAIL) | Q(endpoint__is_active=True))
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        AlertDelivery.objects.filter(id__in=ids).update(
            attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE
        )
    return ids


def deliveries_dispatch_due(*, limit: int = DISPATCH_BATCH) -> dict[str, int]:
    """Send every due delivery (in batches); returns counts of delivered and failed attempts."""
    counts = {"delivered": 0, "failed": 0}
    while True:
        ids = _claim(limit)
        if not ids:
            return counts
        deliveries = AlertDelivery.objects.filter(id__in=ids).select_related(
            "alert", "alert__incident", "endpoint"
        )
        for delivery in deliveries:
            ok = _attempt(delivery)
            counts["delivered" if ok else "failed"] += 1
        if len(ids) < limit:
            return counts


def _attempt(delivery: AlertDelivery) -> bool:
    started = time.monotonic()
    if delivery.channel == AlertDelivery.Channel.EMAIL:
        ok, status_code, error = _send_email(delivery)
    else:
        ok, status_code, error = _post_webhook(delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            at=now,
            ok=ok,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        if ok:
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                status=AlertDelivery.Status.DELIVERED, delivered_at=now
            )
            if delivery.endpoint_id:
                WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
                    consecutive_failures=0
                )
            return True
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            AlertDelivery.objects.filter(pk=delivery.pk).update(status=AlertDelivery.Status.FAILED)
        else:
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                next_attempt_at=now + backoff(delivery.attempts)
            )
        if delivery.endpoint_id:
            _count_failure(delivery.endpoint_id, error or f"HTTP {status_code}")
    logger.warning(
        "alert delivery %s failed (attempt %s): %s", delivery.uuid, delivery.attempts, error
    )
    return False


def _count_failure(endpoint_id: int, error: str) -> None:
    from accounts.models import AuditEvent
    from accounts.services import audit_record

    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.consecutive_failures += 1
    if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER:
        endpoint.is_active = False
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = (
            f"{endpoint.consecutive_failures} failed attempts in a row; last: {error}"
        )[:300]
        audit_record(
            action=AuditEvent.Action.WEBHOOK_DISABLED,
            object_type="webhook",
            object_ids=[str(endpoint.pk)],
            detail={"name": endpoint.name, "url": endpoint.url, "reason": endpoint.disabled_reason},
        )
        logger.error("webhook %s switched off: %s", endpoint.name, endpoint.disabled_reason)
    endpoint.save(
        update_fields=["consecutive_failures", "is_active", "disabled_at", "disabled_reason"]
    )
