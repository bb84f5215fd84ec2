# SPDX-License-Identifier: GPL-2.0-or-later
"""A real registry (Debian's docker-registry) on 127.0.0.1 for tests.

Registry starts /usr/bin/docker-registry with a generated configuration:
filesystem storage in a temporary folder, deletes enabled, a free port on
127.0.0.1. push() fills it with skopeo, and blob_data_path() gives the file
that contains a blob in the registry's storage, so that a test can damage it and
have the real registry serve the damaged bytes.

With auth="token" the registry requires Bearer tokens from a TokenService on
127.0.0.1, which hands anonymous tokens to anyone, as Docker Hub does for
public repositories, or with users given, full access only to those users.
With auth="htpasswd" the registry itself requires Basic auth, checked against
an htpasswd file made with apache2-utils' htpasswd -B.

With redirect_blobs the registry answers blob requests with a redirect to a
BlobStorage server on another port, as registries with S3 storage do.
requests() lists the (method, path, status) of the registry's access log.
"""

import base64
import http.server
import json
import os
import re
import threading
import urllib.parse
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

DOCKER_REGISTRY = "/usr/bin/docker-registry"
SKOPEO = "/usr/bin/skopeo"

CONFIG_TEMPLATE = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""

HTPASSWD_AUTH_TEMPLATE = """\
auth:
  htpasswd:
    realm: servin-test-registry
    path: {path}
"""

REDIRECT_TEMPLATE = """\
middleware:
  storage:
    - name: redirect
      options:
        baseurl: {base_url}
"""

ACCESS_LOG_LINE = re.compile(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3}) ')

TOKEN_AUTH_TEMPLATE = """\
auth:
  token:
    realm: {realm}
    service: {service}
    issuer: {issuer}
    rootcertbundle: {certificate}
"""


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port():
    """Return a port on 127.0.0.1 where connections are refused."""
    return free_port()


def _base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """A token server for docker-registry's token authentication.

    It signs RS256 JSON web tokens with a self-signed certificate made by
    openssl, whose certificate the registry trusts as rootcertbundle. Without
    users it grants every requested action on every repository to anyone.
    With users (a dict of name to password), a request with the right Basic
    credentials gets every requested action. A request without credentials
    gets a token that grants nothing, as Docker Hub does for private
    repositories, and wrong credentials get 401. Tokens last expires_in
    seconds. requests lists (query, authorization header) of each token
    request.
    """

    service = "servin-test-registry"
    issuer = "servin-test-token-service"

    def __init__(self, workdir, users=None, expires_in=300):
        self.workdir = workdir
        self.users = users
        self.expires_in = expires_in
        self.key_path = os.path.join(workdir, "token-key.pem")
        self.certificate_path = os.path.join(workdir, "token-cert.pem")
        self.requests = []
        self._server = None
        self._thread = None

    @property
    def realm(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", self.key_path, "-out", self.certificate_path,
                        "-days", "2", "-subj", "/CN=servin-test-token-service"],
                       check=True, capture_output=True, timeout=60)
        der = subprocess.run(["openssl", "x509", "-in", self.certificate_path, "-outform", "DER"],
                             check=True, capture_output=True, timeout=60).stdout
        self._x5c = base64.b64encode(der).decode()

        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                service.handle(self)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def make_token(self, scopes):
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {"iss": self.issuer, "sub": "", "aud": self.service,
                  "exp": now + self.expires_in,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        signing_input = (_base64url(json.dumps(header).encode()) + "."
                         + _base64url(json.dumps(claims).encode()))
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key_path],
                                   input=signing_input.encode(), check=True,
                                   capture_output=True, timeout=60).stdout
        return signing_input + "." + _base64url(signature)

    def handle(self, request):
        url = urllib.parse.urlsplit(request.path)
        query = urllib.parse.parse_qs(url.query)
        self.requests.append((url.query, request.headers.get("Authorization")))
        if url.path != "/token" or query.get("service") != [self.service]:
            request.send_response(400)
            request.end_headers()
            return
        scopes = query.get("scope", [])
        if self.users is not None:
            user = self._check_login(request.headers.get("Authorization"))
            if user is False:
                request.send_response(401)
                request.send_header("WWW-Authenticate", 'Basic realm="token"')
                request.end_headers()
                return
            if user is None:
                scopes = []
        token = self.make_token(scopes)
        body = json.dumps({"token": token, "access_token": token,
                           "expires_in": self.expires_in}).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


    def _check_login(self, authorization):
        """The user name of valid Basic credentials, None without any, False when wrong."""
        if authorization is None:
            return None
        scheme, _, encoded = authorization.partition(" ")
        if scheme != "Basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user if self.users.get(user) == password else False


class BlobStorage:
    """A plain HTTP server on 127.0.0.1 that serves files below a folder, as
    the storage that a registry redirects blob downloads to.
    authorizations lists the Authorization header of each request (None when
    absent)."""

    def __init__(self, root):
        self.root = root
        self.authorizations = []
        self._server = None
        self._thread = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self):
        storage = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                storage.handle(self)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def handle(self, request):
        self.authorizations.append(request.headers.get("Authorization"))
        path = os.path.normpath(urllib.parse.urlsplit(request.path).path).lstrip("/")
        full = os.path.join(self.root, path)
        if path.startswith("..") or not os.path.isfile(full):
            request.send_response(404)
            request.end_headers()
            return
        with open(full, "rb") as f:
            data = f.read()
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


class MisbehavingProxy:
    """A plain HTTP proxy on 127.0.0.1 in front of a Registry without auth.

    It forwards each GET to the registry, except for blob DIGEST, whose bytes
    it sends according to MODE. "stall" sends the headers and half the body,
    then nothing. "cut" sends half the body and closes the connection.
    "longer" sends 100 bytes more than the blob has, announced in
    Content-Length. "slow" sends all of it in 16 KiB pieces 50 ms apart.
    host is the "127.0.0.1:PORT" to pull through, misbehaved counts the
    requests for the blob, and started is set when the first one begins.
    """

    def __init__(self, registry, digest, mode):
        if mode not in ("stall", "cut", "longer", "slow"):
            raise ValueError(f"unsupported mode {mode!r}: use stall, cut, longer or slow")
        self.registry = registry
        self.digest = digest
        self.mode = mode
        self.misbehaved = 0
        self.started = threading.Event()
        self._released = threading.Event()
        self._server = None
        self._thread = None

    @property
    def host(self):
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                # A client that gives up mid-blob is part of the tests.
                try:
                    proxy.handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def handle(self, request):
        upstream = urllib.request.Request(f"http://{self.registry.host}{request.path}")
        if request.headers.get("Accept"):
            upstream.add_header("Accept", request.headers["Accept"])
        try:
            with urllib.request.urlopen(upstream, timeout=30) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()

        if status == 200 and request.path.endswith("/blobs/" + self.digest):
            self._misbehave(request, body)
            return
        request.send_response(status)
        for name in ("Content-Type", "Docker-Content-Digest"):
            if headers.get(name):
                request.send_header(name, headers[name])
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _misbehave(self, request, body):
        self.misbehaved += 1
        self.started.set()
        half = len(body) // 2
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        extra = 100 if self.mode == "longer" else 0
        request.send_header("Content-Length", str(len(body) + extra))
        request.end_headers()
        if self.mode == "longer":
            request.wfile.write(body + b"x" * extra)
            return
        if self.mode == "slow":
            for offset in range(0, len(body), 16 * 1024):
                request.wfile.write(body[offset:offset + 16 * 1024])
                request.wfile.flush()
                if self._released.wait(0.05):
                    break
            return
        request.wfile.write(body[:half])
        request.wfile.flush()
        if self.mode == "stall":
            self._released.wait(120)
        request.close_connection = True
        request.connection.shutdown(socket.SHUT_RDWR)


class Registry:
    """One docker-registry process with its own storage; stop() ends it by PID.

    auth is None for anonymous access, "token" for Bearer tokens from a
    TokenService (the token_service attribute) or "htpasswd" for Basic auth.
    users (name to password) are the accounts of either kind of auth, and
    token_expires_in the lifetime of tokens in seconds."""

    def __init__(self, workdir=None, auth=None, users=None, token_expires_in=300,
                 redirect_blobs=False):
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="servin-registry-")
        self.root = os.path.join(self.workdir, "storage")
        self.config_path = os.path.join(self.workdir, "config.yml")
        self.log_path = os.path.join(self.workdir, "registry.log")
        self.port = None
        self.process = None
        if auth not in (None, "token", "htpasswd"):
            raise ValueError(f"unsupported registry auth {auth!r}: use None, \"token\" or "
                             "\"htpasswd\"")
        if auth == "htpasswd" and not users:
            raise ValueError("htpasswd auth needs users")
        self.auth = auth
        self.users = users
        self.token_expires_in = token_expires_in
        self.token_service = None
        self.htpasswd_path = os.path.join(self.workdir, "htpasswd")
        self.redirect_blobs = redirect_blobs
        self.blob_storage = None

    @property
    def host(self):
        """"127.0.0.1:PORT", the domain part of references to this registry."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=15.0):
        os.makedirs(self.root, exist_ok=True)
        if self.auth == "token":
            self.token_service = TokenService(self.workdir, self.users,
                                              self.token_expires_in).start()
        elif self.auth == "htpasswd":
            self._write_htpasswd()
        if self.redirect_blobs:
            self.blob_storage = BlobStorage(self.root).start()
        # The port can be taken between free_port() and the registry's bind,
        # so try a few ports.
        for _ in range(3):
            self.port = free_port()
            with open(self.config_path, "w") as config:
                config.write(CONFIG_TEMPLATE.format(root=self.root, port=self.port))
                if self.token_service is not None:
                    config.write(TOKEN_AUTH_TEMPLATE.format(
                        realm=self.token_service.realm, service=self.token_service.service,
                        issuer=self.token_service.issuer,
                        certificate=self.token_service.certificate_path))
                elif self.auth == "htpasswd":
                    config.write(HTPASSWD_AUTH_TEMPLATE.format(path=self.htpasswd_path))
                if self.blob_storage is not None:
                    config.write(REDIRECT_TEMPLATE.format(base_url=self.blob_storage.base_url))
            log = open(self.log_path, "ab")
            self.process = subprocess.Popen(
                [DOCKER_REGISTRY, "serve", self.config_path],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()
            if self._wait_ready(timeout):
                return self
            self._end_process()
        log = self.read_log()
        self.stop()
        raise RuntimeError(f"docker-registry did not start:\n{log}")

    def _write_htpasswd(self):
        if os.path.exists(self.htpasswd_path):
            os.unlink(self.htpasswd_path)
        for user, password in self.users.items():
            command = ["htpasswd", "-B", "-b", self.htpasswd_path, user, password]
            if not os.path.exists(self.htpasswd_path):
                command.insert(1, "-c")
            subprocess.run(command, check=True, capture_output=True, timeout=60)

    def _auth_header(self):
        """An Authorization header for the test's own requests, or None."""
        if self.auth == "htpasswd":
            user, password = next(iter(self.users.items()))
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        return None

    def requests(self):
        """(method, path, status) of each request in the registry's access log."""
        return [(m.group(1), m.group(2), int(m.group(3)))
                for m in ACCESS_LOG_LINE.finditer(self.read_log())]

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2) as response:
                    if response.status == 200:
                        return True
            except urllib.error.HTTPError as error:
                # A registry with token auth responds with 401 once it is up.
                if error.code == 401:
                    return True
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        return False

    def _end_process(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def stop(self):
        self._end_process()
        if self.token_service is not None:
            self.token_service.stop()
            self.token_service = None
        if self.blob_storage is not None:
            self.blob_storage.stop()
            self.blob_storage = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()
        except FileNotFoundError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def push(self, source, name, tag="latest", all_images=False):
        """Copy an image into the registry with skopeo.

        source is a skopeo transport reference: "oci:DIR:TAG" for an OCI
        layout or "oci-archive:FILE" for an OCI archive (push_layout and
        push_archive wrap these). all_images copies every manifest of an index.
        Returns "127.0.0.1:PORT/NAME:TAG".
        """
        destination = f"{self.host}/{name}:{tag}"
        command = [SKOPEO, "--insecure-policy", "copy", "--quiet",
                   "--dest-tls-verify=false"]
        if all_images:
            command.append("--all")
        if self.users:
            user, password = next(iter(self.users.items()))
            command.append(f"--dest-creds={user}:{password}")
        command += [source, f"docker://{destination}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"skopeo copy {source} to {destination} failed: {result.stderr}")
        return destination

    def push_layout(self, layout_dir, layout_tag, name, tag="latest", all_images=False):
        return self.push(f"oci:{layout_dir}:{layout_tag}", name, tag, all_images)

    def push_archive(self, archive_path, name, tag="latest", all_images=False):
        return self.push(f"oci-archive:{archive_path}", name, tag, all_images)

    def blob_data_path(self, digest):
        """The file containing blob "sha256:HEX" in the registry's filesystem storage."""
        algorithm, hexdigest = digest.split(":", 1)
        return os.path.join(self.root, "docker", "registry", "v2", "blobs", algorithm,
                            hexdigest[:2], hexdigest, "data")

    def corrupt_blob(self, digest):
        """Flip bytes in the middle of a stored blob, keeping its size."""
        path = self.blob_data_path(digest)
        with open(path, "r+b") as blob:
            data = bytearray(blob.read())
            middle = len(data) // 2
            for i in range(middle, min(middle + 16, len(data))):
                data[i] ^= 0xFF
            blob.seek(0)
            blob.write(data)
        return path

    def manifest(self, name, reference, accept=None):
        """GET a manifest over HTTP; returns (bytes, headers)."""
        request = urllib.request.Request(f"http://{self.host}/v2/{name}/manifests/{reference}")
        request.add_header("Accept", accept or ", ".join([
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ]))
        if self.token_service is not None:
            token = self.token_service.make_token([f"repository:{name}:pull"])
            request.add_header("Authorization", f"Bearer {token}")
        elif self._auth_header() is not None:
            request.add_header("Authorization", self._auth_header())
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read(), dict(response.headers)
