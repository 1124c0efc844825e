"""The Compose reverse proxy (deploy/compose/nginx.conf), parsed and routed as nginx would."""

import pytest

from tests.deploy.helpers import (
    DEPLOY,
    RASA_API_PATHS,
    RASA_CHANNEL_PATHS,
    Directive,
    nginx_location,
    parse_nginx,
    upstream_hosts,
    upstream_of,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def config() -> Directive:
    return parse_nginx((DEPLOY / "compose" / "nginx.conf").read_text())


@pytest.fixture(scope="module")
def server(config: Directive) -> Directive:
    return config.one("http").one("server")


def test_every_location_is_an_exact_or_prefix_match(server: Directive) -> None:
    # The routing below is computed with nginx's rules for these two kinds only.
    for location in server.all("location"):
        assert len(location.args) == 1 or location.args[0] in ("=", "^~"), location.args


def test_rasa_http_api_is_never_proxied_to_rasa(config: Directive, server: Directive) -> None:
    for path in RASA_API_PATHS:
        upstream = upstream_of(config, nginx_location(server, path))
        assert upstream is None or "rasa" not in upstream_hosts(upstream), path


def test_only_the_channel_locations_reach_rasa(config: Directive, server: Directive) -> None:
    for location in server.all("location"):
        upstream = upstream_of(config, location)
        if upstream is not None and "rasa" in upstream_hosts(upstream):
            assert location.args in (["/socket.io/"], ["/webhooks/"]), location.args


def test_channels_reach_rasa_and_the_rest_the_web_app(config: Directive, server: Directive) -> None:
    for path in RASA_CHANNEL_PATHS:
        upstream = upstream_of(config, nginx_location(server, path))
        assert upstream is not None, path
        assert upstream_hosts(upstream) == {"rasa"}, path
    for path in ("/", "/conseiller/", "/api/products", "/documents/x.pdf", "/socket.io"):
        upstream = upstream_of(config, nginx_location(server, path))
        assert upstream is not None, path
        assert upstream_hosts(upstream) == {"webapp"}, path


def test_readiness_and_metrics_are_not_served_to_the_outside(
    config: Directive, server: Directive
) -> None:
    for path in ("/webhooks/ops/ready", "/webhooks/ops/metrics", "/ready", "/metrics"):
        location = nginx_location(server, path)
        assert upstream_of(config, location) is None, path
        assert location.one("return").args == ["404"], path
    # Neighbours still go through: a channel webhook, and pages whose names start alike.
    assert upstream_of(config, nginx_location(server, "/webhooks/rest/webhook")) is not None
    assert upstream_of(config, nginx_location(server, "/metrics-explained")) is not None


def test_socketio_is_sticky_and_carries_websockets(config: Directive, server: Directive) -> None:
    location = nginx_location(server, RASA_CHANNEL_PATHS[0])
    upstream = upstream_of(config, location)
    assert upstream is not None
    sticky = upstream.all("ip_hash") or [
        rule for rule in upstream.all("hash") if "consistent" in rule.args
    ]
    assert sticky, "socket.io upstream without ip_hash or a consistent hash"
    headers = {tuple(rule.args) for rule in location.all("proxy_set_header")}
    assert ("Upgrade", "$http_upgrade") in headers
    assert ("Connection", "$connection_upgrade") in headers
    assert config.one("http").one("server").one("proxy_http_version").args == ["1.1"]


def test_upstreams_follow_the_replicas_through_dockers_dns(config: Directive) -> None:
    http = config.one("http")
    assert http.one("resolver").args[0] == "127.0.0.11"
    for upstream in http.all("upstream"):
        assert upstream.all("zone"), upstream.args
        for server in upstream.all("server"):
            assert "resolve" in server.args, (upstream.args, server.args)


def test_the_parser_reads_blocks_strings_and_comments() -> None:
    tree = parse_nginx('a 1; # comment\nb "x y" \'z\' { c; d "" e; }\n')
    assert [(d.name, d.args) for d in tree.block or []] == [("a", ["1"]), ("b", ["x y", "z"])]
    assert [(d.name, d.args) for d in tree.one("b").block or []] == [
        ("c", []),
        ("d", ["", "e"]),
    ]
    with pytest.raises(AssertionError):
        parse_nginx("a { b;")
