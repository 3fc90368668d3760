"""Webhook addresses: only globally routable ones, at save and at delivery, and the
delivery goes to the address that was checked (one lookup, no redirects)."""

import datetime
import socket
import ssl

import certifi
import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError

from scorecards.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from scorecards.webhooks.outbox import enqueue_drain
from scorecards.webhooks.signing import sign
from scorecards.webhooks.subscriptions import subscription_save
from tests.scorecards.conftest import HOOKS, WEBHOOK_SECRET, Receiver

PUBLIC = "93.184.216.34"

# Names the `dns` fixture answers for; each list is one lookup's answer.
NAMES = {
    "hooks.example": [PUBLIC],
    "xn--bcher-kva.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "localhost": ["127.0.0.1", "::1"],
    "internal.example": ["10.0.0.5"],
    "metadata.example": ["169.254.169.254"],
    "cgnat.example": ["100.100.100.200"],
    "mixed.example": [PUBLIC, "127.0.0.1"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "sixtofour.example": ["2002:a9fe:a9fe::1"],
    "nat64.example": ["64:ff9b::a9fe:a9fe"],
    "sitelocal.example": ["fec0::1"],
    "linklocal.example": ["fe80::1%1"],
}


class Dns:
    """getaddrinfo for the names above (and what a test adds), counting lookups per name;
    any other name is refused, as on a machine without DNS."""

    def __init__(self):
        self.answers = {name: [addresses] for name, addresses in NAMES.items()}
        self.lookups: list[str] = []

    def then(self, name: str, *answers: list[str]) -> None:
        """`name` answers each of `answers` in turn (the last one from then on)."""
        self.answers[name] = list(answers)

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.lookups.append(host)
        answers = self.answers[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]


@pytest.fixture
def dns(monkeypatch):
    dns = Dns()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, host)
        except (OSError, TypeError):
            return dns.getaddrinfo(host, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)  # an IP address: no DNS involved

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return dns


@pytest.fixture
def strict(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


REFUSED = [
    # the audit's
    "https://100.100.100.200/",
    "https://100.64.0.1/",
    "https://192.0.0.8/",
    "https://[2002:7f00:1::]/",
    "https://[2002:a9fe:a9fe::]/",
    "https://[fec0::1]/",
    # IPv6 forms of internal IPv4 addresses: mapped, 6to4, NAT64, compatible; Teredo
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[2002:c0a8:1::1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[64:ff9b:1::5db8:d822]/",
    "https://[::127.0.0.1]/",
    "https://[::a00:1]/",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    # other addresses that are not global
    "https://127.0.0.1/",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://192.168.0.10/",
    "https://169.254.169.254/latest/meta-data",
    "https://0.0.0.0/",
    "https://198.18.0.1/",
    "https://192.0.2.1/",
    "https://203.0.113.9/",
    "https://192.88.99.1/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[::1]/",
    "https://[::]/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://[ff02::1]/",
    "https://[100::1]/",
    "https://[2001:db8::1]/",
    "https://[3fff::1]/",
    "https://[5f00::1]/",
    # IPv4 written in ways resolvers and URL parsers read differently
    "http://2130706433/",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://0x7f000001/",
    "https://017700000001/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://127.0.0.01/",
    "https://1.2.3.4.5/",
    # trailing dots, user info, zones, Unicode spellings
    "https://127.0.0.1./",
    "https://localhost./",
    "https://hooks.example./",
    "https://good@127.0.0.1/",
    "https://good.example@127.0.0.1/",
    "https://user:pass@93.184.216.34/hook",
    "https://[fe80::1%25eth0]/",
    "https://①②⑦.0.0.1/",
    "https://127。0。0。1/",
    "https://ｌｏｃａｌｈｏｓｔ/",
    "https://loc\u200balhost/",
    # names that resolve to internal addresses, or not at all
    "https://localhost/",
    "https://internal.example/",
    "https://metadata.example/",
    "https://cgnat.example/",
    "https://mixed.example/",
    "https://mapped.example/",
    "https://sixtofour.example/",
    "https://nat64.example/",
    "https://sitelocal.example/",
    "https://linklocal.example/",
    "https://unknown.example/",
    # not https
    "http://93.184.216.34/hook",
    "ftp://93.184.216.34/",
    "file:///etc/passwd",
    "not a url",
]
ACCEPTED = [
    "https://93.184.216.34/hook",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    "https://hooks.example/hook",
    "https://hooks.example:8443/hook?team=ops",
    "https://bücher.example/hook",
    "https://[64:ff9b::5db8:d822]/hook",  # NAT64 of a public address
    "https://[2002:5db8:d822::1]/hook",  # 6to4 of a public address
]


# ---------------------------------------------------------------- at save
@pytest.mark.parametrize("url", REFUSED)
def test_the_api_refuses_an_address_that_is_not_global(strict, dns, subscribe, url):
    response = subscribe(url)
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == ["url"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", REFUSED)
def test_saving_refuses_an_address_that_is_not_global(strict, dns, engagement, url):
    """The rule is the service's, whatever the API's URL field lets through first."""
    subscription = WebhookSubscription(
        organization=engagement.client, url=url, events=["alert.raised"]
    )
    with pytest.raises(ValidationError) as refused:
        subscription_save(subscription=subscription, secret=WEBHOOK_SECRET)
    assert list(refused.value.message_dict) == ["url"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", ACCEPTED)
def test_a_public_address_is_accepted(strict, dns, subscribe, url):
    response = subscribe(url)
    assert response.status_code == 201, response.json()
    assert WebhookSubscription.objects.get().url == url


def test_moving_a_subscription_to_an_internal_address_is_refused(
    strict, dns, subscribe, as_user, client_admin
):
    hook = subscribe("https://hooks.example/hook").json()
    response = as_user(client_admin).patch(
        f"{HOOKS}{hook['id']}/",
        {"url": "https://[2002:a9fe:a9fe::]/"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["url"]
    assert WebhookSubscription.objects.get().url == "https://hooks.example/hook"


# ---------------------------------------------------------------- at delivery
@pytest.fixture
def connections(monkeypatch):
    """Where deliveries connect to; each attempt is refused, as by a closed port."""
    attempts = []

    def create_connection(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return attempts


@pytest.fixture
def deliver(engagement, django_capture_on_commit_callbacks):
    """Raise one alert event and run its delivery; the delivery row afterwards."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            OutboxEvent.objects.create(
                engagement=engagement, kind="alert.raised", payload={"event": "alert.raised"}
            )
            enqueue_drain()
        return WebhookDelivery.objects.get()

    return run


@pytest.mark.parametrize(
    "turned",
    [
        ["10.0.0.7"],
        ["169.254.169.254"],
        ["100.100.100.200"],
        ["::ffff:169.254.169.254"],
        ["2002:a9fe:a9fe::1"],
        ["64:ff9b::a9fe:a9fe"],
        ["fec0::1"],
        [PUBLIC, "127.0.0.1"],
    ],
)
def test_a_host_that_turned_internal_after_saving_gets_nothing(
    strict, dns, connections, subscribe, deliver, turned
):
    dns.then("hooks.example", [PUBLIC], turned)
    assert subscribe("https://hooks.example/hook").status_code == 201
    delivery = deliver()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "public addresses" in delivery.last_error
    assert connections == []
    assert dns.lookups == ["hooks.example", "hooks.example"]  # one at save, one to deliver


def test_delivery_connects_to_the_address_it_checked(strict, dns, connections, subscribe, deliver):
    """DNS rebinding: a second lookup would now answer 127.0.0.1; there is none."""
    assert subscribe("https://hooks.example/hook").status_code == 201
    dns.lookups.clear()
    dns.then("hooks.example", [PUBLIC], ["127.0.0.1"])
    delivery = deliver()
    assert dns.lookups == ["hooks.example"]
    assert connections == [(PUBLIC, 443)]
    assert delivery.status == "pending" and "Connection refused" in delivery.last_error


def test_the_pinned_connection_carries_the_host_name(dns, receiver, subscribe, deliver):
    """The connection goes to the checked address; the receiver sees the URL's host."""
    dns.then("hooks.test", ["127.0.0.1"], ["127.0.0.2"])  # nothing listens on .2
    assert subscribe(f"http://hooks.test:{receiver.port}/hook").status_code == 201
    delivery = deliver()
    assert (delivery.status, delivery.response_code) == ("succeeded", 200)
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.test:{receiver.port}"
    assert request["path"] == "/hook"
    headers = request["headers"]
    assert headers["X-Accord-Signature"] == sign(
        WEBHOOK_SECRET, headers["X-Accord-Timestamp"], request["body"]
    )
    assert dns.lookups == ["hooks.test"]


def test_a_redirect_is_a_failed_delivery_and_is_not_followed(receiver, subscribe, deliver):
    elsewhere = Receiver()
    try:
        receiver.statuses = [307]
        receiver.headers = {"Location": elsewhere.url}
        subscribe(receiver.url)
        delivery = deliver()
    finally:
        elsewhere.close()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 307)
    assert "redirects are not followed" in delivery.last_error
    assert len(receiver.requests) == 1 and elsewhere.requests == []


# ---------------------------------------------------------------- TLS to the checked address
def _certificate(name: str, key, issuer_name, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch, settings):
    """An https receiver on 127.0.0.1 whose certificate names `hooks.test`, from a CA the
    deliveries trust; `names` records the server name each client asked for (SNI)."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Accord test CA", ca_key, None, ca_key, ca=True)
    certificate = _certificate("hooks.test", key, ca.subject, ca_key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    monkeypatch.setattr(certifi, "where", lambda: str(tmp_path / "ca.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names = []
    context.sni_callback = lambda connection, name, context: names.append(name)
    receiver = Receiver(tls=context)
    receiver.names = names
    yield receiver
    receiver.close()


def test_tls_checks_the_certificate_against_the_host_name(dns, tls_receiver, subscribe, deliver):
    dns.then("hooks.test", ["127.0.0.1"])
    subscribe(f"https://hooks.test:{tls_receiver.port}/hook")
    delivery = deliver()
    assert (delivery.status, delivery.response_code) == ("succeeded", 200)
    assert tls_receiver.names == ["hooks.test"]
    assert len(tls_receiver.requests) == 1


def test_a_certificate_for_another_name_is_refused(dns, tls_receiver, subscribe, deliver):
    dns.then("other.test", ["127.0.0.1"])
    subscribe(f"https://other.test:{tls_receiver.port}/hook")
    delivery = deliver()
    assert delivery.status == "pending"
    assert "SSLError: hostname 'other.test' doesn't match 'hooks.test'" in delivery.last_error
    assert tls_receiver.names == ["other.test"] and tls_receiver.requests == []


def test_a_certificate_from_an_unknown_authority_is_refused(
    dns, tls_receiver, subscribe, deliver, monkeypatch
):
    monkeypatch.setattr(certifi, "where", certifi.core.where)  # the usual bundle only
    dns.then("hooks.test", ["127.0.0.1"])
    subscribe(f"https://hooks.test:{tls_receiver.port}/hook")
    delivery = deliver()
    assert delivery.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert tls_receiver.requests == []
