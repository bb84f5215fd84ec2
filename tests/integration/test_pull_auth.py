# SPDX-License-Identifier: GPL-2.0-or-later
"""Pulls that log in, and pulls that share blobs, against the real
docker-registry on 127.0.0.1.

The registry runs with htpasswd auth (Basic) or with token auth through the
TokenService of servin_testlib.registry. Credentials come from the
configuration, the environment or the Pull call's options. Each test checks
that the password shows up in no output, log or Job property. Pulls run
through sv-engine-tool, and through servind where the daemon's own
configuration or the D-Bus Pull options matter.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from gi.repository import Gio, GLib

from servin_testlib import dbus_call
from servin_testlib.registry import DOCKER_REGISTRY, SKOPEO, MisbehavingProxy, Registry
from servin_testlib.servind import SERVIND, Servind
from test_deep_image import max_overlay_layers
from test_pull import MKIMAGE, TOOL, Engine, add_image_on_base, make_large_layout, make_layout

USER = "alice"
PASSWORD = "Corr3ct-H0rse-Battery"
WRONG_PASSWORD = "Wr0ng-Passw0rd-Guess"
MANAGER = "/org/servin/Servin1/Manager"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(TOOL), reason=f"{TOOL} is not built"),
    pytest.mark.skipif(not os.path.exists(DOCKER_REGISTRY),
                       reason="docker-registry is not installed"),
    pytest.mark.skipif(not os.path.exists(SKOPEO), reason="skopeo is not installed"),
    pytest.mark.skipif(not os.path.exists(MKIMAGE), reason=f"{MKIMAGE} is not built"),
    pytest.mark.skipif(shutil.which("htpasswd") is None,
                       reason="htpasswd (apache2-utils) is not installed"),
]


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="servin-pull-auth-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def engine(workdir):
    return Engine(os.path.join(workdir, "data"))


@pytest.fixture
def layout(workdir):
    path = os.path.join(workdir, "layout")
    make_layout(path, "two-layer")
    return path


@pytest.fixture
def htpasswd_registry(workdir):
    with Registry(os.path.join(workdir, "registry"), auth="htpasswd",
                  users={USER: PASSWORD}) as started:
        yield started


@pytest.fixture
def token_registry(workdir):
    with Registry(os.path.join(workdir, "registry"), auth="token",
                  users={USER: PASSWORD}) as started:
        yield started


def auths_config(host, password=PASSWORD, user=USER):
    return (f"registries:\n  auths:\n    \"{host}\":\n      username: {user}\n"
            f"      password: \"{password}\"\n")


def write_config(workdir, text):
    path = os.path.join(workdir, "config.yaml")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    return path


def clean_environment(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVIN_REGISTRY_")}
    env.update(extra)
    return env


def pull(engine, *references, config=None, env=None):
    """Run sv-engine-tool pull; returns the CompletedProcess."""
    command = [TOOL, "--data-root", engine.data_root]
    if config is not None:
        command += ["--config", config]
    command += ["pull", *references]
    return subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=env if env is not None else clean_environment())


def assert_pulled(result):
    assert result.returncode == 0, result.stdout + result.stderr
    assert "id sha256:" in result.stdout


def assert_no_password(*texts):
    for text in texts:
        assert PASSWORD not in text
        assert WRONG_PASSWORD not in text


def blob_gets(registry):
    """The number of GET requests for each blob digest in the access log."""
    counts = {}
    for method, path, _status in registry.requests():
        if method == "GET" and "/blobs/sha256:" in path:
            digest = path.rsplit("/", 1)[1]
            counts[digest] = counts.get(digest, 0) + 1
    return counts


def test_htpasswd_credentials_from_config(htpasswd_registry, engine, layout, workdir):
    reference = htpasswd_registry.push_layout(layout, "latest", "team/app")
    config = write_config(workdir, auths_config(htpasswd_registry.host))

    result = pull(engine, reference, config=config)
    assert_pulled(result)
    assert reference in engine.images()
    assert_no_password(result.stdout, result.stderr)


def test_htpasswd_credentials_from_environment(htpasswd_registry, engine, layout, workdir):
    reference = htpasswd_registry.push_layout(layout, "latest", "team/app")
    # The environment wins over registries.auths.
    config = write_config(workdir, auths_config(htpasswd_registry.host, WRONG_PASSWORD))
    env = clean_environment(SERVIN_REGISTRY_USER=USER, SERVIN_REGISTRY_PASS=PASSWORD)

    result = pull(engine, reference, config=config, env=env)
    assert_pulled(result)
    assert_no_password(result.stdout, result.stderr)


def test_htpasswd_wrong_password(htpasswd_registry, engine, layout, workdir):
    reference = htpasswd_registry.push_layout(layout, "latest", "team/app")
    config = write_config(workdir, auths_config(htpasswd_registry.host, WRONG_PASSWORD))

    result = pull(engine, reference, config=config)
    assert result.returncode == 1
    assert "error AUTHENTICATION_FAILED" in result.stderr
    assert f"authentication failed for {htpasswd_registry.host}" in result.stderr
    assert_no_password(result.stdout, result.stderr)
    assert engine.images() == {}
    assert engine.snapshot() == set()


def test_htpasswd_without_credentials(htpasswd_registry, engine, layout):
    reference = htpasswd_registry.push_layout(layout, "latest", "team/app")

    result = pull(engine, reference)
    assert result.returncode == 1
    assert "error AUTHENTICATION_FAILED" in result.stderr
    assert f"registry {htpasswd_registry.host} requires a login" in result.stderr
    assert "registries.auths" in result.stderr
    assert engine.snapshot() == set()


def test_token_credentials_from_config(token_registry, engine, layout, workdir):
    reference = token_registry.push_layout(layout, "latest", "team/app")
    tokens = token_registry.token_service
    tokens.requests.clear()
    config = write_config(workdir, auths_config(token_registry.host))

    result = pull(engine, reference, config=config)
    assert_pulled(result)
    # One token for the version check and one for the repository, both
    # fetched with the credentials.
    assert len(tokens.requests) == 2
    for query, authorization in tokens.requests:
        assert authorization is not None and authorization.startswith("Basic ")
        assert f"account={USER}" in query
    assert "scope=repository%3Ateam%2Fapp%3Apull" in tokens.requests[1][0]
    assert_no_password(result.stdout, result.stderr)


def test_token_wrong_password(token_registry, engine, layout, workdir):
    reference = token_registry.push_layout(layout, "latest", "team/app")
    config = write_config(workdir, auths_config(token_registry.host, WRONG_PASSWORD))

    result = pull(engine, reference, config=config)
    assert result.returncode == 1
    assert "error AUTHENTICATION_FAILED" in result.stderr
    assert f"authentication failed for {token_registry.host}" in result.stderr
    assert token_registry.token_service.realm in result.stderr
    assert_no_password(result.stdout, result.stderr)
    assert engine.snapshot() == set()


def test_token_without_credentials(token_registry, engine, layout):
    # The token service hands anonymous callers a token that grants nothing,
    # so the registry denies the repository.
    reference = token_registry.push_layout(layout, "latest", "team/app")

    result = pull(engine, reference)
    assert result.returncode == 1
    assert "error NOT_FOUND" in result.stderr
    assert "denied anonymous access" in result.stderr
    assert "registries.auths" in result.stderr
    assert engine.snapshot() == set()


def test_redirected_blobs_get_no_credentials(workdir, engine, layout):
    with Registry(os.path.join(workdir, "registry"), auth="htpasswd", users={USER: PASSWORD},
                  redirect_blobs=True) as registry:
        reference = registry.push_layout(layout, "latest", "team/app")
        config = write_config(workdir, auths_config(registry.host))

        result = pull(engine, reference, config=config)
        assert_pulled(result)
        # The config and both layers came from the storage server, without
        # the registry's credentials.
        assert len(registry.blob_storage.authorizations) == 3
        assert registry.blob_storage.authorizations == [None, None, None]


def test_shared_base_layer_stored_once(workdir, engine, layout):
    with Registry(os.path.join(workdir, "registry")) as registry:
        add_image_on_base(layout, "other")
        first = registry.push_layout(layout, "latest", "first")
        second = registry.push_layout(layout, "other", "second")
        base = registry.manifest("first", "latest")
        base_digest = json.loads(base[0])["layers"][0]["digest"]

        assert_pulled(pull(engine, first))
        result = pull(engine, second)
        assert_pulled(result)
        assert f"Already exists {base_digest[:19]}" in result.stdout

        # The base layer was downloaded once and is stored once, as one blob
        # and one layer folder that both images list.
        assert blob_gets(registry)[base_digest] == 1
        blobs = os.listdir(os.path.join(engine.data_root, "blobs", "sha256"))
        assert blobs.count(base_digest[7:]) == 1
        assert engine.layer_path(first, 0) == engine.layer_path(second, 0)
        assert engine.layer_path(first, 1) != engine.layer_path(second, 1)


def test_concurrent_pulls_fetch_each_blob_once(workdir, engine):
    layout = os.path.join(workdir, "layout-large")
    make_large_layout(layout, 3, 4 * 1024 * 1024)
    with Registry(os.path.join(workdir, "registry")) as registry:
        reference = registry.push_layout(layout, "latest", "large")
        before = blob_gets(registry)

        # Two sv_puller_pull_async calls on one puller, started together.
        result = pull(engine, reference, reference)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count(f"{reference} id sha256:") == 2

        gets = blob_gets(registry)
        manifest = json.loads(registry.manifest("large", "latest")[0])
        for blob in [manifest["config"]] + manifest["layers"]:
            assert gets.get(blob["digest"], 0) - before.get(blob["digest"], 0) == 1
        # Each layer is unpacked once too, while the other pull waits for it.
        for layer in manifest["layers"]:
            assert result.stdout.count(f"Extracting {layer['digest'][:19]}") == 1
            assert result.stdout.count(f"Waiting {layer['digest'][:19]}") == 1
        assert engine.images() == {reference: engine.images()[reference]}


def test_too_many_layers_rejected_before_download(workdir, engine):
    layout = os.path.join(workdir, "layout-deep")
    limit = max_overlay_layers()
    make_large_layout(layout, limit + 1, 16)
    with Registry(os.path.join(workdir, "registry")) as registry:
        reference = registry.push_layout(layout, "latest", "deep")
        before = blob_gets(registry)

        result = pull(engine, reference)
        assert result.returncode == 1
        assert "error UNSUPPORTED" in result.stderr
        assert f"has {limit + 1} layers, more than the {limit} layers" in result.stderr
        assert blob_gets(registry) == before
        assert engine.snapshot() == set()


# Through servind


def start_servind(bus, extra_config=""):
    daemon = Servind(bus, extra_config=extra_config)
    # servind must see no credentials of the test's own environment.
    for name in ("SERVIN_REGISTRY_USER", "SERVIN_REGISTRY_PASS"):
        os.environ.pop(name, None)
    daemon.start()
    return daemon


def job_properties(connection, path):
    """Wait for the job at PATH to complete; returns its properties as a dict."""
    proxy = Gio.DBusProxy.new_sync(connection, Gio.DBusProxyFlags.NONE, None,
                                   "org.servin.Servin1", path, "org.servin.Servin1.Job", None)
    deadline = GLib.get_monotonic_time() + 120 * 1000000
    while not proxy.get_cached_property("Completed").unpack():
        assert GLib.get_monotonic_time() < deadline, "the pull job never completed"
        GLib.MainContext.default().iteration(True)
    return {name: proxy.get_cached_property(name).unpack()
            for name in proxy.get_cached_property_names()}


def pull_over_dbus(daemon, connection, reference, options):
    reply, error, message = dbus_call.call(daemon.bus.address, MANAGER, "Manager", "Pull",
                                           "sa{sv}", [reference, options],
                                           connection=connection)
    assert error is None, message
    return reply[0]


@pytest.mark.skipif(not os.path.exists(SERVIND), reason=f"{SERVIND} is not built")
def test_servin_pull_with_daemon_config_and_expiring_token(bus, workdir, layout):
    with Registry(os.path.join(workdir, "registry"), auth="token", users={USER: PASSWORD},
                  token_expires_in=3) as registry:
        first = registry.push_layout(layout, "latest", "team/app", tag="one")
        second = registry.push_layout(layout, "latest", "team/app", tag="two")
        tokens = registry.token_service
        daemon = start_servind(bus, auths_config(registry.host))
        try:
            tokens.requests.clear()
            result = daemon.servin("pull", first)
            assert result.returncode == 0, result.stderr.decode()
            after_first = len(tokens.requests)
            assert after_first >= 1

            # The tokens expire; the next pull fetches new ones and succeeds.
            time.sleep(3.5)
            result = daemon.servin("pull", second)
            assert result.returncode == 0, result.stderr.decode()
            assert len(tokens.requests) > after_first
            for _query, authorization in tokens.requests:
                assert authorization is not None and authorization.startswith("Basic ")
            assert_no_password(daemon.log())
        finally:
            daemon.cleanup()


@pytest.mark.skipif(not os.path.exists(SERVIND), reason=f"{SERVIND} is not built")
def test_pull_options_credentials(bus, workdir, layout):
    with Registry(os.path.join(workdir, "registry"), auth="htpasswd",
                  users={USER: PASSWORD}) as registry:
        reference = registry.push_layout(layout, "latest", "team/app")
        daemon = start_servind(bus)
        connection = dbus_call.connect(bus.address)
        try:
            # servind has no credentials for the registry in its configuration.
            result = daemon.servin("pull", reference)
            assert result.returncode == 1
            assert f"registry {registry.host} requires a login" in result.stderr.decode()

            options = {"Username": GLib.Variant("s", USER),
                       "Password": GLib.Variant("s", WRONG_PASSWORD)}
            failed = job_properties(connection, pull_over_dbus(daemon, connection, reference,
                                                               options))
            assert failed["Success"] is False
            assert failed["ErrorName"] == "org.servin.Servin1.Error.AuthenticationFailed"
            assert f"authentication failed for {registry.host}" in failed["ErrorMessage"]

            options["Password"] = GLib.Variant("s", PASSWORD)
            done = job_properties(connection, pull_over_dbus(daemon, connection, reference,
                                                             options))
            assert done["Success"] is True, done.get("ErrorMessage")

            # A Username without a Password is rejected at once.
            _reply, error, message = dbus_call.call(
                bus.address, MANAGER, "Manager", "Pull", "sa{sv}",
                [reference, {"Username": GLib.Variant("s", USER)}])
            assert error == "org.servin.Servin1.Error.InvalidArgument"
            assert "Password" in message

            assert_no_password(daemon.log(), repr(failed), repr(done))
        finally:
            connection.close_sync(None)
            daemon.cleanup()


@pytest.mark.skipif(not os.path.exists(SERVIND), reason=f"{SERVIND} is not built")
def test_concurrent_dbus_pulls_fetch_each_blob_once(bus, workdir):
    layout = os.path.join(workdir, "layout-large")
    make_large_layout(layout, 3, 4 * 1024 * 1024)
    with Registry(os.path.join(workdir, "registry")) as registry:
        reference = registry.push_layout(layout, "latest", "large")
        before = blob_gets(registry)
        daemon = start_servind(bus)
        connection = dbus_call.connect(bus.address)
        try:
            jobs = [pull_over_dbus(daemon, connection, reference, {}) for _ in range(2)]
            for job in jobs:
                assert job_properties(connection, job)["Success"] is True

            gets = blob_gets(registry)
            manifest = json.loads(registry.manifest("large", "latest")[0])
            for blob in [manifest["config"]] + manifest["layers"]:
                assert gets.get(blob["digest"], 0) - before.get(blob["digest"], 0) == 1
        finally:
            connection.close_sync(None)
            daemon.cleanup()


# Registries that misbehave while a layer downloads


@pytest.mark.parametrize("mode, code, words", [
    ("stall", "UNREACHABLE", "sent no data for 2 s"),
    ("cut", "FAILED", "before the end of the response"),
    ("longer", "INVALID_ARGUMENT", "larger than"),
])
def test_broken_blob_download_keeps_nothing(workdir, engine, layout, mode, code, words):
    with Registry(os.path.join(workdir, "registry")) as registry:
        registry.push_layout(layout, "latest", "team/app")
        manifest = json.loads(registry.manifest("team/app", "latest")[0])
        digest = manifest["layers"][-1]["digest"]

        with MisbehavingProxy(registry, digest, mode) as proxy:
            host = proxy.host
            started = time.monotonic()
            result = pull(engine, f"{host}/team/app:latest",
                          env=clean_environment(SERVIN_REGISTRY_TIMEOUT="2"))
            assert time.monotonic() - started < 60
        assert result.returncode == 1
        assert f"error {code}" in result.stderr
        assert f"blob {digest}" in result.stderr
        assert host in result.stderr
        assert words in result.stderr
        assert engine.images() == {}
        assert engine.snapshot() == set()
        assert os.listdir(os.path.join(engine.data_root, "tmp")) == []


@pytest.mark.skipif(not os.path.exists(SERVIND), reason=f"{SERVIND} is not built")
def test_waiting_pull_survives_cancel_of_downloading_pull(bus, workdir):
    layout = os.path.join(workdir, "layout-slow")
    make_large_layout(layout, 1, 1024 * 1024)
    with Registry(os.path.join(workdir, "registry")) as registry:
        registry.push_layout(layout, "latest", "slow")
        digest = json.loads(registry.manifest("slow", "latest")[0])["layers"][0]["digest"]
        daemon = start_servind(bus)
        connection = dbus_call.connect(bus.address)
        try:
            with MisbehavingProxy(registry, digest, "slow") as proxy:
                host = proxy.host
                reference = f"{host}/slow:latest"
                downloading = pull_over_dbus(daemon, connection, reference, {})
                assert proxy.started.wait(60), "the first pull never requested the layer"
                waiting = pull_over_dbus(daemon, connection, reference, {})
                # Let the second pull reach the layer that the first downloads.
                time.sleep(1)
                assert proxy.misbehaved == 1

                _reply, error, message = dbus_call.call(bus.address, downloading, "Job",
                                                        "Cancel", "", [], connection=connection)
                assert error is None, message
                cancelled = job_properties(connection, downloading)
                done = job_properties(connection, waiting)

            assert cancelled["Success"] is False
            assert cancelled["ErrorName"] == "org.servin.Servin1.Error.Cancelled"
            assert done["Success"] is True, done.get("ErrorMessage")
            # The waiting pull downloaded the layer itself after the cancel.
            assert proxy.misbehaved == 2
            listing = daemon.servin("images", check=True).stdout.decode()
            assert f"{host}/slow" in listing
        finally:
            connection.close_sync(None)
            daemon.cleanup()


def test_cancel_of_concurrent_pulls_keeps_nothing(workdir, engine):
    layout = os.path.join(workdir, "layout-large")
    make_large_layout(layout, 3, 16 * 1024 * 1024)
    with Registry(os.path.join(workdir, "registry")) as registry:
        reference = registry.push_layout(layout, "latest", "large")
        process = subprocess.Popen([TOOL, "--data-root", engine.data_root, "pull", reference,
                                    reference], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=clean_environment())
        try:
            # Cancel both pulls once a layer is downloading, so one pull
            # downloads and the other waits for it.
            for line in process.stdout:
                if "Downloading sha256:" in line:
                    process.send_signal(signal.SIGINT)
                    break
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert process.returncode == 1, "the pulls finished before the cancel arrived"
    assert stderr.count("error CANCELLED") == 2, stderr
    assert engine.images() == {}
    assert engine.snapshot() == set()
    assert os.listdir(os.path.join(engine.data_root, "tmp")) == []
