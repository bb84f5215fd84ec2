# SPDX-License-Identifier: GPL-2.0-or-later
"""servin-runtime's cache of compiled seccomp filters in ROOT/seccomp-cache.

The first container with a linux.seccomp compiles it and stores the BPF program, later ones load
it, and a damaged, unsafe or foreign entry is compiled again and replaced. The --debug lines in
the --log file show where each filter came from, and every case checks that the filter is still
enforced: `unshare -U`, which needs no capability, fails with EPERM.
"""

import copy
import json
import os
import stat
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runtime_bundle  # noqa: E402
from test_runtime import SERVIN_RUNTIME, Runtime, set_subreaper  # noqa: E402

SOURCE_ROOT = os.environ.get(
    "SERVIN_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")
)
PROFILE = os.path.join(SOURCE_ROOT, "data", "seccomp-default.json")
HEADER_SIZE = 40  # magic and SHA-256 before the struct sock_filter array
UNSHARE_DENIED = "unshare(0x10000000): Operation not permitted"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    set_subreaper()
    path = str(tmp_path_factory.mktemp("rootfs"))
    runtime_bundle.make_rootfs(path)
    return path


@pytest.fixture
def servin(rootfs, tmp_path):
    if os.uname().machine != "x86_64":
        pytest.skip("the profile built here is the x86_64 one")
    rt = Runtime("servin-runtime", SERVIN_RUNTIME, str(tmp_path), rootfs)
    yield rt
    rt.cleanup()


class Cache:
    """The runtime's cache folder and a --debug --log file per container."""

    def __init__(self, servin):
        self.servin = servin
        self.folder = os.path.join(servin.root, "seccomp-cache")
        self.logs = 0

    def entries(self):
        if not os.path.isdir(self.folder):
            return []
        return sorted(os.path.join(self.folder, n) for n in os.listdir(self.folder))

    def run(self, args, seccomp):
        """Run args under seccomp; return (result, log text)."""
        self.logs += 1
        log = os.path.join(self.servin.workdir, f"runtime-{self.logs}.log")
        container_id = self.servin.new_id()

        def add_seccomp(config):
            config["linux"]["seccomp"] = seccomp

        bundle = self.servin.bundle(container_id, args, add_seccomp)
        result = self.servin.command(
            "--debug", "--log", log, "run", "--bundle", bundle, container_id
        )
        with open(log) as f:
            return result, f.read()

    def assert_enforced(self, seccomp):
        result, log = self.run(["unshare", "-U", "true"], seccomp)
        assert result.returncode != 0
        assert UNSHARE_DENIED in result.stderr
        return log


@pytest.fixture
def cache(servin):
    return Cache(servin)


@pytest.fixture(scope="module")
def profile():
    return runtime_bundle.default_seccomp(PROFILE)


def test_first_container_writes_entry(cache, profile):
    log = cache.assert_enforced(profile)

    entries = cache.entries()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.endswith(".bpf")
    assert f"compiled the seccomp filter and stored it in {entry}" in log
    info = os.stat(entry)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == 0
    assert info.st_size > HEADER_SIZE
    assert (info.st_size - HEADER_SIZE) % 8 == 0
    assert stat.S_IMODE(os.stat(cache.folder).st_mode) == 0o700


def test_second_container_loads_entry(cache, profile):
    cache.assert_enforced(profile)
    [entry] = cache.entries()
    with open(entry, "rb") as f:
        stored = f.read()

    log = cache.assert_enforced(profile)
    assert f"loaded the seccomp filter from the cache entry {entry}" in log
    assert "compiled the seccomp filter" not in log
    assert cache.entries() == [entry]
    with open(entry, "rb") as f:
        assert f.read() == stored


def test_cached_filter_runs_everyday_commands(cache, profile):
    cache.run(["true"], profile)
    result, log = cache.run(["sh", "-c", "grep ^Seccomp: /proc/self/status; ls / >/dev/null"],
                            profile)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Seccomp:", "2"]
    assert "loaded the seccomp filter from the cache entry" in log


def test_reordered_members_share_entry(cache, profile):
    cache.run(["true"], profile)
    reordered = dict(reversed(list(copy.deepcopy(profile).items())))
    reordered["syscalls"] = [dict(reversed(list(rule.items()))) for rule in reordered["syscalls"]]
    assert json.dumps(reordered) != json.dumps(profile)

    log = cache.assert_enforced(reordered)
    assert "loaded the seccomp filter from the cache entry" in log
    assert len(cache.entries()) == 1


def test_different_profile_gets_own_entry(cache, profile):
    cache.assert_enforced(profile)
    [first] = cache.entries()
    changed = copy.deepcopy(profile)
    for rule in changed["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in ("mkdir", "mkdirat")]

    log = cache.assert_enforced(changed)
    entries = cache.entries()
    assert len(entries) == 2
    [second] = [e for e in entries if e != first]
    assert f"compiled the seccomp filter and stored it in {second}" in log

    # Each entry enforces its own profile: only the changed one denies mkdir, so the other lets
    # it reach the read-only root.
    result, log = cache.run(["mkdir", "/d"], changed)
    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr
    assert f"loaded the seccomp filter from the cache entry {second}" in log
    result, log = cache.run(["mkdir", "/d"], profile)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert f"loaded the seccomp filter from the cache entry {first}" in log


def test_integer_and_double_get_different_entries(cache):
    # linux.seccomp reads errnoRet only as an integer, so JSON 1 and 1.0 are different values.
    base = {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    as_double = copy.deepcopy(base)
    as_double["syscalls"][0]["errnoRet"] = 1.0
    cache.assert_enforced(base)
    cache.run(["true"], as_double)
    assert len(cache.entries()) == 2


def truncate_to(size):
    def damage(path, data):
        with open(path, "wb") as f:
            f.write(data[:size])
    return damage


def overwrite_program(path, data):
    with open(path, "wb") as f:
        f.write(data[:HEADER_SIZE] + os.urandom(len(data) - HEADER_SIZE))


def overwrite_all(path, data):
    with open(path, "wb") as f:
        f.write(os.urandom(len(data)))


def allow_all_program(path, data):
    # A valid size and magic with one instruction, BPF_RET|BPF_K SECCOMP_RET_ALLOW, and the
    # old checksum: loading it would turn the filter off.
    with open(path, "wb") as f:
        f.write(data[:HEADER_SIZE] + bytes([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]))


def drop_instruction(path, data):
    with open(path, "wb") as f:
        f.write(data[:-8])


@pytest.mark.parametrize("damage", [
    truncate_to(0),
    truncate_to(13),
    truncate_to(HEADER_SIZE),
    truncate_to(4000),
    drop_instruction,
    overwrite_program,
    overwrite_all,
    allow_all_program,
], ids=["empty", "13-bytes", "header-only", "4000-bytes", "one-instruction-less",
        "garbage-program", "garbage-file", "allow-all-program"])
def test_damaged_entry_is_compiled_again(cache, profile, damage):
    cache.run(["true"], profile)
    [entry] = cache.entries()
    with open(entry, "rb") as f:
        good = f.read()
    damage(entry, good)

    log = cache.assert_enforced(profile)
    assert f"ignoring the seccomp cache entry {entry}" in log
    assert f"compiled the seccomp filter and stored it in {entry}" in log
    with open(entry, "rb") as f:
        assert f.read() == good
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600


def test_oversized_entry_is_compiled_again(cache, profile):
    cache.run(["true"], profile)
    [entry] = cache.entries()
    with open(entry, "rb") as f:
        good = f.read()
    # More than the kernel's 4096 instructions of 8 bytes.
    with open(entry, "wb") as f:
        f.write(good[:HEADER_SIZE] + bytes(8 * 4097))

    log = cache.assert_enforced(profile)
    assert f"ignoring the seccomp cache entry {entry}: invalid size" in log
    with open(entry, "rb") as f:
        assert f.read() == good


def test_entry_readable_by_others_is_replaced(cache, profile):
    cache.run(["true"], profile)
    [entry] = cache.entries()
    os.chmod(entry, 0o644)

    log = cache.assert_enforced(profile)
    assert f"ignoring the seccomp cache entry {entry}: not a regular file" in log
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600


def test_entry_owned_by_other_user_is_replaced(cache, profile):
    cache.run(["true"], profile)
    [entry] = cache.entries()
    os.chown(entry, 65534, 65534)

    log = cache.assert_enforced(profile)
    assert f"ignoring the seccomp cache entry {entry}: not a regular file" in log
    assert os.stat(entry).st_uid == 0


def test_symlink_entry_is_replaced(cache, profile, tmp_path):
    cache.run(["true"], profile)
    [entry] = cache.entries()
    target = tmp_path / "elsewhere.bpf"
    os.rename(entry, target)
    os.symlink(target, entry)

    log = cache.assert_enforced(profile)
    assert f"ignoring the seccomp cache entry {entry}" in log
    assert not os.path.islink(entry)
    assert stat.S_ISREG(os.lstat(entry).st_mode)


def test_unsafe_cache_folder_is_not_used(cache, profile):
    os.makedirs(cache.folder, mode=0o700)
    os.chmod(cache.folder, 0o777)

    for _ in range(2):
        log = cache.assert_enforced(profile)
        assert "compiling the seccomp filter without the cache" in log
        assert "writable by its owner only" in log
        assert cache.entries() == []


def test_no_debug_lines_without_debug(servin, profile):
    log = os.path.join(servin.workdir, "plain.log")
    container_id = servin.new_id()

    def add_seccomp(config):
        config["linux"]["seccomp"] = profile

    bundle = servin.bundle(container_id, ["true"], add_seccomp)
    result = servin.command("--log", log, "run", "--bundle", bundle, container_id)
    assert result.returncode == 0, result.stderr
    assert "seccomp" not in result.stderr
    with open(log) as f:
        assert f.read() == ""
    assert len(os.listdir(os.path.join(servin.root, "seccomp-cache"))) == 1


def test_exec_loads_entry(cache, servin, profile):
    log = os.path.join(servin.workdir, "exec.log")
    container_id, pid, _ = servin.create(
        ["sleep", "30"], config_changes=lambda c: c["linux"].__setitem__("seccomp", profile)
    )
    [entry] = cache.entries()
    result = servin.command("--debug", "--log", log, "exec", container_id, "unshare", "-U", "true")
    assert result.returncode != 0
    assert UNSHARE_DENIED in result.stderr
    with open(log) as f:
        assert f"loaded the seccomp filter from the cache entry {entry}" in f.read()
