"""The SSRF guard against real sockets: what it refuses, that it connects to the address it
checked (never a second DNS answer), redirects re-checked hop by hop, and its limits."""

from __future__ import annotations

import socket
import time

import pytest

from orion.core.fakes.server import FakeServer, Reply
from orion.core.ssrf import FetchError, UnsafeURL, guarded_request, url_check


@pytest.fixture
def no_loopback(settings):
    settings.ORION_SSRF_ALLOW_LOOPBACK = False


@pytest.fixture
def site():
    with FakeServer() as server:
        server.script("GET", "/", Reply(body=b"<h1>Welcome</h1>"))
        yield server


def resolving(*answers: list[str]):
    """A resolver that gives `answers` in turn (the last one from then on) and logs calls."""
    calls: list[str] = []

    def resolve(host: str) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolve.calls = calls
    return resolve


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.20:8080/admin", "private"),
        ("http://172.16.0.5/", "private"),
        ("http://100.64.0.1/", "private"),  # CGNAT
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[::ffff:127.0.0.1]/", "this server"),
        ("http://[::1]/", "this server"),
        ("http://0.0.0.0/", "private"),
        ("http://224.0.0.1/", "private"),
        ("http://[fe80::1]/", "private"),
        ("http://[fec0::1]/", "private"),  # site-local: Python counts it as global
        ("http://[2002:a00:1::]/", "private"),  # 6to4 around 10.0.0.1
        ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),  # NAT64 around 169.254.169.254
    ],
)
def test_private_addresses_are_refused_with_a_sentence(url, words):
    with pytest.raises(UnsafeURL) as refused:
        guarded_request("GET", url)
    assert words in str(refused.value)
    assert str(refused.value).endswith(".")


def test_ipv6_loopback_stays_refused_even_when_loopback_is_allowed(settings):
    assert settings.ORION_SSRF_ALLOW_LOOPBACK is True
    with pytest.raises(UnsafeURL, match="this server"):
        url_check("http://[::1]:8000/")


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(url):
    with pytest.raises(UnsafeURL, match="Only http"):
        url_check(url)


def test_loopback_is_refused_without_the_setting(no_loopback, site):
    with pytest.raises(UnsafeURL, match="this server"):
        guarded_request("GET", site.url + "/")
    with pytest.raises(UnsafeURL, match="this server"):
        guarded_request("GET", f"http://localhost:{site.port}/")
    assert site.requests == []


@pytest.mark.parametrize("host", ["a@127.0.0.1", "a:b@127.0.0.1", "[::ffff:7f00:1]"])
def test_user_info_and_mapped_forms_of_loopback_are_refused(no_loopback, site, host):
    with pytest.raises(UnsafeURL, match="this server"):
        guarded_request("GET", f"http://{host}:{site.port}/")
    assert site.requests == []


def _numeric(host: str) -> list[str]:
    """What getaddrinfo answers for a numeric host: the C library's inet_aton parse."""
    return [socket.inet_ntoa(socket.inet_aton(host))]


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1", "017700000001"])
def test_decimal_hex_octal_and_short_loopback_are_refused(no_loopback, site, host):
    """Such a host is not an IP literal to the guard: it is resolved, and the address the
    resolver gives (127.0.0.1) is what is checked and what would be connected to."""
    with pytest.raises(UnsafeURL, match=r"\(127\.0\.0\.1\) points at this server"):
        guarded_request("GET", f"http://{host}:{site.port}/", resolver=_numeric)
    assert site.requests == []


def test_a_name_resolving_to_loopback_is_refused(no_loopback, site):
    resolve = resolving(["127.0.0.1"])
    with pytest.raises(UnsafeURL, match=r"shop\.example \(127\.0\.0\.1\)"):
        guarded_request("GET", f"http://shop.example:{site.port}/", resolver=resolve)
    assert site.requests == []


def test_one_private_answer_among_public_ones_refuses_the_name():
    resolve = resolving(["93.184.216.34", "10.0.0.7"])
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.7"):
        url_check("https://shop.example/", resolver=resolve)


def test_public_addresses_pass_the_check():
    resolve = resolving(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
    assert url_check("https://shop.example/", resolver=resolve)[0] == "93.184.216.34"


def test_unknown_host_is_a_fetch_error_not_a_crash():
    def nowhere(host: str) -> list[str]:
        raise FetchError(f"We could not find the address of {host}: check the spelling.")

    with pytest.raises(FetchError, match="could not find"):
        url_check("https://no-such-shop.example/", resolver=nowhere)


def test_connects_to_the_checked_address_with_the_host_name_kept(site):
    """The name is resolved once, by the guard; the connection goes to that answer (the
    test's loopback guard would refuse the system resolver a name like shop.example), and
    the server sees the original Host."""
    resolve = resolving(["127.0.0.1"], ["10.0.0.1"])
    fetched = guarded_request("GET", f"http://shop.example:{site.port}/", resolver=resolve)
    assert fetched.status == 200
    assert fetched.peer == "127.0.0.1"
    assert resolve.calls == ["shop.example"]
    assert site.requests[0].headers["Host"] == f"shop.example:{site.port}"


def test_a_refused_connect_moves_on_to_the_next_checked_address(site):
    resolve = resolving(["127.0.0.2", "127.0.0.1"])  # nothing listens on 127.0.0.2
    fetched = guarded_request("GET", f"http://shop.example:{site.port}/", resolver=resolve)
    assert fetched.peer == "127.0.0.1"
    assert resolve.calls == ["shop.example"]


def test_every_answer_is_checked_before_any_is_tried(site):
    resolve = resolving(["127.0.0.1", "10.0.0.1"])
    with pytest.raises(UnsafeURL):
        guarded_request("GET", f"http://shop.example:{site.port}/", resolver=resolve)
    assert site.requests == []


def test_a_rebinding_answer_is_checked_before_it_is_used(site):
    """The second lookup of the name answers a private address: that request is refused
    before it is sent; the first (checked, public-or-allowed) one went through."""
    resolve = resolving(["127.0.0.1"], ["10.0.0.1"])
    assert (
        guarded_request("GET", f"http://shop.example:{site.port}/", resolver=resolve).status == 200
    )
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.1"):
        guarded_request("GET", f"http://shop.example:{site.port}/", resolver=resolve)
    assert len(site.requests) == 1


def test_a_redirect_into_a_private_address_is_refused(site):
    site.script("GET", "/go", Reply(status=302, headers={"Location": "http://10.0.0.1/admin"}))
    with pytest.raises(UnsafeURL, match=r"10\.0\.0\.1"):
        guarded_request("GET", site.url + "/go")
    assert [r.path for r in site.requests] == ["/go"]


def test_a_redirect_to_a_name_resolving_to_metadata_is_refused(site):
    site.script("GET", "/go", Reply(status=301, headers={"Location": "http://evil.example/x"}))
    resolve = resolving(["169.254.169.254"])
    with pytest.raises(UnsafeURL, match="metadata"):
        guarded_request("GET", site.url + "/go", resolver=resolve)
    assert resolve.calls == ["evil.example"]


def test_allowed_redirects_are_followed_and_credentials_stay_home(site):
    with FakeServer() as other:
        other.script("GET", "/there", Reply(body=b"landed"))
        site.script("GET", "/go", Reply(status=302, headers={"Location": other.url + "/there"}))
        fetched = guarded_request(
            "GET", site.url + "/go", headers={"Authorization": "Bearer s3cret"}
        )
        assert fetched.text == "landed"
        assert fetched.history == [site.url + "/go"]
        assert site.requests[0].headers["Authorization"] == "Bearer s3cret"
        assert "Authorization" not in other.requests[0].headers


def test_too_many_redirects(site):
    site.script("GET", "/loop", Reply(status=302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="redirected more than 2 times"):
        guarded_request("GET", site.url + "/loop", max_redirects=2)


def test_size_cap_truncates(site):
    site.script("GET", "/big", Reply(body=b"x" * 50_000))
    fetched = guarded_request("GET", site.url + "/big", max_bytes=1000)
    assert fetched.truncated is True
    assert len(fetched.content) == 1000


def test_a_hung_site_is_a_timeout(site):
    site.script("GET", "/hang", Reply(action="hang"))
    from orion.core.ssrf import guarded_client

    client = guarded_client(read_timeout_s=0.3)
    with pytest.raises(FetchError, match="did not answer in time"):
        guarded_request("GET", site.url + "/hang", client=client)
    client.close()


def test_the_deadline_bounds_a_slow_site_in_all(site):
    from orion.core.ssrf import guarded_client

    site.script("GET", "/slow", Reply(body=b"late", delay=2.0))
    client = guarded_client(read_timeout_s=10)
    started = time.monotonic()
    with pytest.raises(FetchError, match="did not answer in time"):
        guarded_request("GET", site.url + "/slow", client=client, deadline_s=0.4)
    client.close()
    assert time.monotonic() - started < 1.5


def test_a_closed_port_is_a_fetch_error():
    server = FakeServer().start()
    port = server.port
    server.stop()
    with pytest.raises(FetchError, match="could not be reached"):
        guarded_request("GET", f"http://127.0.0.1:{port}/")


def _tls_files(tmp_path, name: str):
    """A throwaway CA and a certificate for `name` signed by it."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(subject, issuer, key, signer, *, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("Test CA", "Test CA", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert(name, "Test CA", key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "leaf.pem").write_bytes(
        leaf.public_bytes(pem)
        + key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "ca.pem", tmp_path / "leaf.pem"


@pytest.fixture
def tls_site(tmp_path):
    """An HTTPS server on 127.0.0.1 whose certificate is valid for shop.example only."""
    import http.server
    import ssl
    import threading

    ca, leaf = _tls_files(tmp_path, "shop.example")
    seen: list[str] = []
    names: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers["Host"])
            body = f"sni={','.join(names)}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trust = ssl.create_default_context(cafile=str(ca))
    yield server.server_address[1], trust, seen
    server.shutdown()
    server.server_close()


def test_https_is_pinned_and_verified_against_the_host_name(tls_site):
    from orion.core.ssrf import guarded_client

    port, trust, seen = tls_site
    client = guarded_client(resolver=resolving(["127.0.0.1"]), verify=trust)
    fetched = guarded_request("GET", f"https://shop.example:{port}/", client=client)
    client.close()
    assert fetched.status == 200
    assert fetched.peer == "127.0.0.1"
    assert fetched.text == "sni=shop.example"
    assert seen == [f"shop.example:{port}"]


def test_https_certificate_for_another_name_is_refused(tls_site):
    from orion.core.ssrf import guarded_client

    port, trust, seen = tls_site
    client = guarded_client(resolver=resolving(["127.0.0.1"]), verify=trust)
    with pytest.raises(FetchError, match="certificate is not valid"):
        guarded_request("GET", f"https://other.example:{port}/", client=client)
    client.close()
    assert seen == []
