"""Webhooks go to public addresses only: refused when saved and again when sent (on the addresses
the name resolves to at that moment), sent to the checked address itself, and logged as a class
of outcome, never as the network's error text (the log must not work as a port scanner)."""

import socket
import ssl
import subprocess
import threading

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.deliveries import deliveries_dispatch_due
from alerts.models import DeliveryAttempt, WebhookEndpoint
from alerts.rules import alerts_evaluate
from tests.alerts.helpers import verified_incident
from tests.alerts.receiver import Receiver
from tests.factories import NAYRAB
from tests.stack import free_port

pytestmark = pytest.mark.django_db

REFUSED = (
    "This address is on a private, loopback, link-local, multicast or reserved network; "
    "webhooks are sent to public addresses only."
)
PUBLIC_ADDRESS = "93.184.215.14"  # example.com's; never connected to here

INTERNAL_URLS = [
    pytest.param("http://127.0.0.1:6379/", id="loopback-redis"),
    pytest.param("http://169.254.169.254/latest/meta-data/", id="cloud-metadata"),
    pytest.param("http://10.0.0.5/hook", id="private-10"),
    pytest.param("http://192.168.1.20:8080/hook", id="private-192-168"),
    pytest.param("http://100.64.0.1/hook", id="shared-cgnat"),
    pytest.param("http://[::1]:5432/", id="ipv6-loopback"),
    pytest.param("http://[fe80::1]/hook", id="ipv6-link-local"),
    pytest.param("http://[::ffff:127.0.0.1]/hook", id="ipv4-mapped-loopback"),
    pytest.param("http://localhost:8000/hook", id="name-resolving-to-loopback"),
    pytest.param("http://2130706433/hook", id="decimal-loopback"),
    pytest.param("http://224.0.0.1/hook", id="multicast"),
    pytest.param("http://[ff02::1]/hook", id="ipv6-multicast"),
    pytest.param("http://0.0.0.0:5432/", id="unspecified"),
    pytest.param("http://240.0.0.1/hook", id="reserved"),
]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def no_internal_hosts(settings):
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = []


@pytest.fixture
def fake_dns(monkeypatch):
    """Names of our choosing resolve to addresses of our choosing (a list per name: each lookup
    takes the next, the last one repeats); every other name as usual. Records the lookups."""
    real = socket.getaddrinfo
    table: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in table:
            lookups.append(host)
            answers = table[host]
            address = answers.pop(0) if len(answers) > 1 else answers[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table, lookups


@pytest.fixture
def no_connection(monkeypatch):
    """Fails the test if the sender opens any connection."""
    opened = []

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        raise AssertionError(f"a connection was opened to {address}")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


@pytest.fixture
def raise_alert(reference_data, users):
    """A verified incident in the corridor, and the alert(s) it raises queued for every webhook."""

    def make():
        verified_incident(reporter=users["reporter_a"], analyst=users["analyst"], point=NAYRAB)
        assert alerts_evaluate()

    return make


def _endpoint(url: str) -> WebhookEndpoint:
    return WebhookEndpoint(name="Partner", url=url)


def _outcomes(endpoint: WebhookEndpoint) -> set[tuple[bool, int | None, str]]:
    """Each distinct (ok, HTTP status, logged error) of the endpoint's attempts (one at least)."""
    attempts = DeliveryAttempt.objects.filter(delivery__endpoint=endpoint)
    assert attempts.exists()
    return set(attempts.values_list("ok", "status_code", "error"))


# --------------------------------------------------------------------------- when saved


@pytest.mark.usefixtures("no_internal_hosts")
@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_address_is_refused_when_saved_naming_the_url(url):
    with pytest.raises(ValidationError) as refused:
        _endpoint(url).full_clean()
    # Django's own URL check already refuses the decimal spelling of an address.
    expected = "Enter a valid URL." if url == "http://2130706433/hook" else REFUSED
    assert refused.value.message_dict == {"url": [expected]}


@pytest.mark.usefixtures("no_internal_hosts")
def test_a_public_address_is_accepted_when_saved():
    _endpoint(f"https://{PUBLIC_ADDRESS}/hooks/monitor").full_clean()


@pytest.mark.usefixtures("no_internal_hosts")
def test_a_name_is_judged_by_every_address_it_resolves_to(fake_dns, monkeypatch):
    real = socket.getaddrinfo

    def two_answers(host, port, *args, **kwargs):
        if host == "mixed.partner.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_ADDRESS, port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.9", port)),
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(ValidationError) as refused:
        _endpoint("https://mixed.partner.test/hook").full_clean()
    assert refused.value.message_dict == {"url": [REFUSED]}


@pytest.mark.usefixtures("no_internal_hosts")
def test_a_name_that_does_not_resolve_is_refused_when_saved(fake_dns):
    with pytest.raises(ValidationError) as refused:
        _endpoint("https://no-such-host.invalid/hook").full_clean()
    assert refused.value.message_dict == {"url": ["The host name of this URL could not be found."]}


def test_a_host_named_in_the_settings_may_be_internal(settings, fake_dns):
    table, _ = fake_dns
    table["hooks.office.test"] = ["10.20.0.7"]
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["Hooks.Office.Test"]
    _endpoint("http://hooks.office.test/hook").full_clean()
    # Only that name: the same address under another name is still refused.
    with pytest.raises(ValidationError):
        _endpoint("http://10.20.0.7/hook").full_clean()


def test_the_test_settings_allow_the_local_receiver_by_name_only(settings):
    assert settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS == ["127.0.0.1"]
    _endpoint("http://127.0.0.1:9/hook").full_clean()
    with pytest.raises(ValidationError):
        _endpoint("http://localhost:9/hook").full_clean()


@pytest.mark.usefixtures("no_internal_hosts")
def test_the_admin_refuses_an_internal_address_on_the_url_field(admin_client):
    response = admin_client.post(
        "/admin/alerts/webhookendpoint/add/",
        {
            "name": "Metadata",
            "url": "http://169.254.169.254/latest/meta-data/",
            "secret": "s" * 32,
            "audience": "partner",
            "kinds": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"url": [REFUSED]}
    assert not WebhookEndpoint.objects.exists()


# --------------------------------------------------------------------------- when sent


@pytest.mark.usefixtures("no_internal_hosts")
@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_address_is_refused_when_sent_without_connecting(
    raise_alert, no_connection, url
):
    endpoint = WebhookEndpoint.objects.create(name="Saved before the check", url=url)
    raise_alert()

    assert deliveries_dispatch_due()["delivered"] == 0

    assert _outcomes(endpoint) == {(False, None, "address not allowed")}
    assert no_connection == []


@pytest.mark.usefixtures("no_internal_hosts")
def test_the_local_receiver_gets_nothing_when_loopback_is_not_allowed(raise_alert):
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(name="Loopback", url=receiver.url)
        raise_alert()
        assert deliveries_dispatch_due()["delivered"] == 0
    assert receiver.requests == []
    assert _outcomes(endpoint) == {(False, None, "address not allowed")}


@pytest.mark.usefixtures("no_internal_hosts")
def test_a_name_that_turns_internal_after_it_was_saved_is_refused_when_sent(
    raise_alert, fake_dns, no_connection
):
    """DNS rebinding: public when the admin saved it, the metadata service when it is sent."""
    table, _ = fake_dns
    table["rebind.partner.test"] = [PUBLIC_ADDRESS, "169.254.169.254"]
    endpoint = _endpoint("http://rebind.partner.test/hook")
    endpoint.full_clean()
    endpoint.save()
    raise_alert()

    assert deliveries_dispatch_due()["delivered"] == 0
    assert _outcomes(endpoint) == {(False, None, "address not allowed")}
    assert no_connection == []


def test_the_sender_connects_to_the_address_it_checked_with_the_host_name_kept(
    raise_alert, fake_dns, settings
):
    """One lookup per attempt, and the connection goes to its answer: nothing is resolved again
    between the check and the connection; the receiver still sees its own host name."""
    table, lookups = fake_dns
    table["hooks.office.test"] = ["127.0.0.1"]
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["hooks.office.test"]
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(
            name="Office", url=f"http://hooks.office.test:{receiver.port}/hook?x=1"
        )
        raise_alert()
        lookups.clear()
        sent = deliveries_dispatch_due()
    assert sent["delivered"] >= 1 and sent["failed"] == 0
    assert len(receiver.requests) == sent["delivered"]
    assert {headers["host"] for headers, _ in receiver.requests} == {
        f"hooks.office.test:{receiver.port}"
    }
    assert lookups == ["hooks.office.test"] * sent["delivered"]  # one lookup per attempt
    assert _outcomes(endpoint) == {(True, 204, "")}


@pytest.fixture
def tls_receiver(tmp_path):
    """A local HTTPS receiver with a certificate for hooks.office.test; records the SNI names."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.office.test"),
            *("-addext", "subjectAltName=DNS:hooks.office.test"),
        ],
        check=True,
        capture_output=True,
    )
    server_names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    receiver = Receiver()
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    with receiver:
        yield receiver, cert, server_names


def _trusting(monkeypatch, cafile):
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: real(cafile=str(cafile)))


def test_over_tls_the_host_name_is_sent_as_sni_and_its_certificate_checked(
    raise_alert, fake_dns, settings, tls_receiver, monkeypatch
):
    receiver, cert, server_names = tls_receiver
    table, _ = fake_dns
    table["hooks.office.test"] = ["127.0.0.1"]
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["hooks.office.test"]
    _trusting(monkeypatch, cert)
    WebhookEndpoint.objects.create(
        name="Office TLS", url=f"https://hooks.office.test:{receiver.port}/hook"
    )
    raise_alert()

    sent = deliveries_dispatch_due()
    assert sent["delivered"] >= 1 and sent["failed"] == 0
    assert server_names == ["hooks.office.test"] * sent["delivered"]
    assert {headers["host"] for headers, _ in receiver.requests} == {
        f"hooks.office.test:{receiver.port}"
    }


def test_a_certificate_for_another_name_is_a_tls_failure(
    raise_alert, fake_dns, settings, tls_receiver, monkeypatch
):
    receiver, cert, _ = tls_receiver
    table, _ = fake_dns
    table["other.office.test"] = ["127.0.0.1"]
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["other.office.test"]
    _trusting(monkeypatch, cert)
    endpoint = WebhookEndpoint.objects.create(
        name="Wrong name", url=f"https://other.office.test:{receiver.port}/hook"
    )
    raise_alert()

    assert deliveries_dispatch_due()["delivered"] == 0
    assert receiver.requests == []
    assert _outcomes(endpoint) == {(False, None, "TLS failed")}


# --------------------------------------------------------------------------- the log


def test_a_closed_port_is_logged_as_connection_refused(raise_alert):
    endpoint = WebhookEndpoint.objects.create(name="Down", url=f"http://127.0.0.1:{free_port()}/")
    raise_alert()
    deliveries_dispatch_due()
    assert _outcomes(endpoint) == {(False, None, "connection refused")}


class _RawServer:
    """A TCP server on 127.0.0.1 that answers each connection with fixed bytes (or nothing)."""

    def __init__(self, reply: bytes | None):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self.sock.settimeout(0.1)
        held = []
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            if self.reply is not None:
                connection.settimeout(1)
                try:
                    connection.recv(65536)  # the request, as a real service would read it
                    connection.sendall(self.reply)
                finally:
                    connection.close()
            else:
                held.append(connection)  # never answers
        for connection in held:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.sock.close()


def test_a_service_that_is_not_http_is_logged_without_its_banner(raise_alert):
    with _RawServer(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n") as server:
        endpoint = WebhookEndpoint.objects.create(
            name="Not HTTP", url=f"http://127.0.0.1:{server.port}/"
        )
        raise_alert()
        deliveries_dispatch_due()
    assert _outcomes(endpoint) == {(False, None, "invalid response")}


def test_a_receiver_that_never_answers_is_logged_as_a_timeout(raise_alert, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    with _RawServer(None) as server:
        endpoint = WebhookEndpoint.objects.create(
            name="Silent", url=f"http://127.0.0.1:{server.port}/"
        )
        raise_alert()
        deliveries_dispatch_due()
    assert _outcomes(endpoint) == {(False, None, "timeout")}


def test_an_http_error_is_logged_by_its_class(raise_alert):
    with Receiver(status=503) as receiver:
        endpoint = WebhookEndpoint.objects.create(name="Busy", url=receiver.url)
        raise_alert()
        deliveries_dispatch_due()
    assert _outcomes(endpoint) == {(False, 503, "HTTP 5xx")}
