# SPDX-License-Identifier: GPL-2.0-or-later
"""The servin command-line client: argument errors, the advice it gives when
servind cannot be reached, and docker's commands and output layouts against
a real servind on a private bus."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from servin_testlib.servind import SAMPLE_ARCHIVE, SERVIN, SERVIND

GOLDEN = os.path.join(os.environ.get("SERVIN_SOURCE_ROOT", ""), "tests", "data", "golden")
SAMPLE = "servin/sample"
USAGE_EXIT = 125

needs_servind = pytest.mark.skipif(not os.path.exists(SERVIND),
                                   reason="servind is not built in this tree")


def servin_alone(*args, env=None, input=None):
    """Run servin without a servind fixture, for errors found before any call."""
    return subprocess.run([SERVIN, *args], env=env or dict(os.environ), input=input,
                          capture_output=True, text=True, timeout=60)


def text(result):
    return result.stdout.decode(), result.stderr.decode()


# Argument errors exit 125 with docker's messages and a pointer at --help.

def test_unknown_command():
    result = servin_alone("frobnicate")
    assert result.returncode == USAGE_EXIT
    assert "'frobnicate' is not a servin command" in result.stderr
    assert "See 'servin --help'." in result.stderr


def test_unknown_long_flag():
    result = servin_alone("ps", "--bogus")
    assert result.returncode == USAGE_EXIT
    assert "unknown flag: --bogus" in result.stderr
    assert "See 'servin ps --help'." in result.stderr


def test_unknown_short_flag():
    result = servin_alone("images", "-z")
    assert result.returncode == USAGE_EXIT
    assert "unknown shorthand flag: 'z' in -z" in result.stderr


def test_unknown_global_flag():
    result = servin_alone("--bogus", "ps")
    assert result.returncode == USAGE_EXIT
    assert "unknown flag: --bogus" in result.stderr


def test_run_without_image():
    result = servin_alone("run", "--rm")
    assert result.returncode == USAGE_EXIT
    assert '"servin run" requires at least 1 argument (IMAGE).' in result.stderr
    assert "See 'servin run --help'." in result.stderr
    assert "Usage:  servin run [OPTIONS] IMAGE [COMMAND] [ARG...]" in result.stderr


def test_logs_without_container():
    result = servin_alone("logs")
    assert result.returncode == USAGE_EXIT
    assert '"servin logs" requires exactly 1 argument (CONTAINER).' in result.stderr


def test_flag_without_value():
    result = servin_alone("run", "--name")
    assert result.returncode == USAGE_EXIT
    assert "flag needs an argument: --name" in result.stderr


def test_short_flag_without_value():
    result = servin_alone("run", "-e")
    assert result.returncode == USAGE_EXIT
    assert "flag needs an argument: 'e' in -e" in result.stderr


def test_integer_flag_rejects_text():
    result = servin_alone("stop", "-t", "soon", "c1")
    assert result.returncode == USAGE_EXIT
    assert 'invalid argument "soon" for "-t, --time" flag' in result.stderr


def test_tail_rejects_text():
    result = servin_alone("logs", "--tail", "many", "c1")
    assert result.returncode == USAGE_EXIT
    assert 'invalid argument "many" for "-n, --tail" flag' in result.stderr


def test_ps_rejects_arguments():
    result = servin_alone("ps", "extra")
    assert result.returncode == USAGE_EXIT
    assert '"servin ps" accepts no arguments, but was given "extra".' in result.stderr


def test_management_command_errors_name_the_path():
    result = servin_alone("container", "ls", "--bogus")
    assert result.returncode == USAGE_EXIT
    assert "See 'servin container ls --help'." in result.stderr
    result = servin_alone("image", "frob")
    assert result.returncode == USAGE_EXIT
    assert "'frob' is not a servin image command" in result.stderr


def test_help():
    result = servin_alone("--help")
    assert result.returncode == 0
    assert "Usage:  servin [OPTIONS] COMMAND" in result.stdout
    assert "  run " in result.stdout
    result = servin_alone("run", "--help")
    assert result.returncode == 0
    assert "Usage:  servin run [OPTIONS] IMAGE [COMMAND] [ARG...]" in result.stdout
    for flag in ("--detach", "--rm", "--name", "--env", "--workdir", "--user", "--entrypoint",
                 "--hostname", "--interactive"):
        assert flag in result.stdout


def test_no_arguments_prints_help():
    result = servin_alone()
    assert result.returncode == 0
    assert "Usage:  servin [OPTIONS] COMMAND" in result.stdout
    assert result.stderr == ""


def test_help_after_image_belongs_to_command(tmp_path):
    """Options after IMAGE are the command's, so --help there is no help request."""
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path}/nothing")
    result = servin_alone("run", "busybox", "--help", env=env)
    assert result.returncode == USAGE_EXIT
    assert "Usage:" not in result.stdout
    assert "cannot connect to the system bus" in result.stderr


# servind cannot be reached: each case prints what to do.

def test_no_system_bus(tmp_path):
    address = f"unix:path={tmp_path}/system_bus_socket"
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
    result = servin_alone("ps", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"servin: cannot connect to the system bus at {address}: ")
    assert "Start the system bus, or set DBUS_SYSTEM_BUS_ADDRESS" in result.stderr
    assert result.stdout == ""


def test_no_system_bus_run_exits_125(tmp_path):
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path}/system_bus_socket")
    result = servin_alone("run", "--rm", "busybox", env=env)
    assert result.returncode == USAGE_EXIT
    assert "cannot connect to the system bus" in result.stderr


def test_version_without_bus(tmp_path):
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path}/system_bus_socket")
    result = servin_alone("version", env=env)
    assert result.returncode == 1
    assert result.stdout.startswith("Client:\n Version:")
    assert "Server:" not in result.stdout
    assert "cannot connect to the system bus" in result.stderr


def test_bus_without_servind(bus):
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
    for args in (("ps",), ("images",), ("version",), ("rm", "c1")):
        result = servin_alone(*args, env=env)
        assert result.returncode == 1, args
        assert ("servin: servind is not running on the system bus. Start it with "
                "`servin daemon` as root, or install Servin's D-Bus service so the bus "
                "starts it") in result.stderr, args
        assert "cannot connect to the system bus" not in result.stderr


# Against a real servind.

def mask_ids(value):
    return re.sub(r"\b[0-9a-f]{12}\b", "<id>", value)


def parse_table(output):
    """Split docker-style table output into rows of cells at the column
    starts of the header line. Check the layout of Go's tabwriter as docker
    configures it: each column is as wide as its widest cell plus 3 spaces,
    at least 10, and the last column is not padded."""
    lines = output.rstrip("\n").split("\n")
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s{3}))\S", header)]
    rows = []
    for line in lines:
        cells = []
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(line)
            cell = line[start:end]
            if i + 1 < len(starts):
                assert cell.rstrip(" ") == cell.strip(" ") or cell.strip() == "", line
                assert len(line) >= end, f"row shorter than the header: {line!r}"
            cells.append(cell.rstrip(" "))
        rows.append(cells)
    for i in range(len(starts) - 1):
        widest = max(len(row[i]) for row in rows)
        assert starts[i + 1] - starts[i] == max(10, widest + 3), (i, output)
    assert all(line == line.rstrip(" ") for line in lines), output
    return rows


def render_table(rows):
    """Lay rows out as parse_table expects, for golden files."""
    widths = [max(10, max(len(row[i]) for row in rows) + 3) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        line = "".join(cell.ljust(width) for cell, width in zip(row, widths)) + row[-1]
        out.append(line.rstrip(" "))
    return "\n".join(out) + "\n"


def check_golden(name, actual):
    path = os.path.join(GOLDEN, name)
    if os.environ.get("SERVIN_UPDATE_GOLDEN"):
        with open(path, "w") as f:
            f.write(actual)
    with open(path) as f:
        expected = f.read()
    assert actual == expected, f"{name} differs:\n{actual}"


def load_sample(servind):
    result = servind.servin("load", "-i", SAMPLE_ARCHIVE, check=True)
    assert text(result)[0] == f"Loaded image: {SAMPLE}:latest\n"


@needs_servind
def test_load_and_images_layout(servind):
    load_sample(servind)
    stdout, stderr = text(servind.servin("images", check=True))
    rows = parse_table(stdout)
    assert rows[1][0] == SAMPLE
    assert re.fullmatch(r"[0-9a-f]{12}", rows[1][2])
    assert re.fullmatch(r"\d+ (seconds|minutes|hours|days|weeks|months|years) ago|"
                        r"About an? (minute|hour) ago|Less than a second ago|1 second ago",
                        rows[1][3])
    assert re.fullmatch(r"\d+(\.\d+)?[kMG]?B", rows[1][4])
    masked = [row[:2] + ["<id>", "<created>", "<size>"] for row in rows[1:]]
    check_golden("images.txt", render_table([rows[0]] + masked))

    quiet = text(servind.servin("images", "-q", check=True))[0]
    assert quiet == rows[1][2] + "\n"
    assert text(servind.servin("image", "ls", check=True))[0] == stdout


@needs_servind
def test_load_from_stdin(servind):
    with open(SAMPLE_ARCHIVE, "rb") as archive:
        result = servind.servin("load", input=archive.read())
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == f"Loaded image: {SAMPLE}:latest\n"


@needs_servind
def test_load_of_missing_file(servind, tmp_path):
    result = servind.servin("load", "-i", str(tmp_path / "none.tar"))
    assert result.returncode == 1
    assert f"cannot open {tmp_path}/none.tar: No such file or directory" in text(result)[1]


@needs_servind
def test_run_prints_output_and_exit_code(servind):
    load_sample(servind)
    result = servind.servin("run", "--rm", SAMPLE)
    assert result.returncode == 0, result.stderr
    assert text(result) == ("Hello from Servin!\n", "")

    result = servind.servin("run", "--rm", SAMPLE, "sh", "-c", "echo out; echo err >&2; exit 7")
    assert result.returncode == 7
    assert text(result) == ("out\n", "err\n")


@needs_servind
def test_run_rm_leaves_nothing(servind):
    load_sample(servind)
    result = servind.servin("run", "--rm", SAMPLE, "true")
    assert result.returncode == 0, result.stderr
    assert text(servind.servin("ps", "-a", "-q", check=True))[0] == ""


@needs_servind
def test_run_options_take_effect(servind):
    load_sample(servind)
    script = 'echo "$FOO"; pwd; id -u; hostname'
    result = servind.servin("run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000",
                            "--hostname", "boxy", SAMPLE, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "bar\n/tmp\n1000\nboxy\n"

    result = servind.servin("run", "--rm", "--entrypoint", "/bin/echo", SAMPLE, "from", "entry")
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "from entry\n"


@needs_servind
def test_run_flags_after_image_belong_to_command(servind):
    load_sample(servind)
    result = servind.servin("run", "--rm", SAMPLE, "echo", "--rm", "-d", "--", "x")
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "--rm -d -- x\n"


@needs_servind
def test_run_interactive_passes_stdin(servind):
    load_sample(servind)
    result = servind.servin("run", "--rm", "-i", SAMPLE, "sh", "-c", "tr a-z A-Z",
                            input=b"quiet words\n")
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "QUIET WORDS\n"


@needs_servind
def test_run_unknown_image_without_registry(servind):
    result = servind.servin("run", "--rm", "127.0.0.1:1/none:latest")
    stdout, stderr = text(result)
    assert result.returncode == USAGE_EXIT
    assert "Unable to find image '127.0.0.1:1/none:latest' locally" in stderr
    assert "servin: Error response from daemon: " in stderr
    assert "127.0.0.1:1/none" in stderr.split("Error response from daemon: ")[1]


@needs_servind
def test_run_detached_then_logs(servind):
    load_sample(servind)
    # stdout and stderr reach the log through two pipes, so a pause keeps
    # "three" the last line for --tail.
    result = servind.servin("run", "-d", "--name", "talker", SAMPLE, "sh", "-c",
                            "echo one; echo two >&2; sleep 0.3; echo three")
    assert result.returncode == 0, result.stderr
    container_id = text(result)[0].strip()
    assert re.fullmatch(r"[0-9a-f]{64}", container_id)
    assert text(servind.servin("wait", "talker", check=True))[0] == "0\n"

    logs = servind.servin("logs", "talker", check=True)
    assert text(logs) == ("one\nthree\n", "two\n")
    tail = servind.servin("logs", "--tail", "1", container_id[:12], check=True)
    assert text(tail) == ("three\n", "")
    stamped = text(servind.servin("logs", "-t", "talker", check=True))[0]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z one\n", stamped), stamped


@needs_servind
def test_logs_follow_ends_with_container(servind):
    load_sample(servind)
    servind.servin("run", "-d", "--name", "slow", SAMPLE, "sh", "-c",
                   "echo first; sleep 1; echo second", check=True)
    result = servind.servin("logs", "-f", "slow", timeout=30)
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "first\nsecond\n"


@needs_servind
def test_ps_layout(servind):
    load_sample(servind)
    # Created times are whole seconds, so a second apart keeps the order certain.
    servind.servin("create", "--name", "made", SAMPLE, check=True)
    time.sleep(1.1)
    servind.servin("run", "--name", "done", SAMPLE, "sh", "-c", "exit 3")
    time.sleep(1.1)
    servind.servin("run", "-d", "--name", "busy", SAMPLE, "sh", "-c",
                   "echo a long command line; sleep 300", check=True)

    stdout = text(servind.servin("ps", "-a", check=True))[0]
    rows = parse_table(stdout)
    assert [row[6] for row in rows[1:]] == ["busy", "done", "made"]
    for row in rows[1:]:
        assert re.fullmatch(r"[0-9a-f]{12}", row[0])
    assert re.fullmatch(r"Up (Less than a second|\d+ seconds?)", rows[1][4])
    assert re.fullmatch(r"Exited \(3\) (Less than a second|\d+ seconds?) ago", rows[2][4])
    assert rows[3][4] == "Created"

    def mask(row):
        status = re.sub(r"(Less than a second|\d+ seconds?)", "<time>", row[4])
        return ["<id>", row[1], row[2], "<created>", status, row[5], row[6]]

    check_golden("ps-a.txt", render_table([rows[0]] + [mask(row) for row in rows[1:]]))

    running = parse_table(text(servind.servin("ps", check=True))[0])
    assert [row[6] for row in running[1:]] == ["busy"]
    quiet = text(servind.servin("ps", "-a", "-q", check=True))[0].split()
    assert quiet == [row[0] for row in rows[1:]]
    full = text(servind.servin("ps", "-a", "-q", "--no-trunc", check=True))[0].split()
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in full)
    untruncated = text(servind.servin("ps", "--no-trunc", check=True))[0]
    assert '"sh -c \'echo a long command line; sleep 300\'"' in untruncated
    # Times may have moved on since the first listing, so compare without them.
    management = parse_table(text(servind.servin("container", "ls", "-a", check=True))[0])
    assert [mask(row) for row in management[1:]] == [mask(row) for row in rows[1:]]
    assert [row[0] for row in management[1:]] == [row[0] for row in rows[1:]]


@needs_servind
def test_stop(servind):
    load_sample(servind)
    servind.servin("run", "-d", "--name", "sleeper", SAMPLE, "sleep", "300", check=True)
    started = time.monotonic()
    result = servind.servin("stop", "-t", "1", "sleeper")
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "sleeper\n"
    assert time.monotonic() - started < 20
    rows = parse_table(text(servind.servin("ps", "-a", check=True))[0])
    assert rows[1][4].startswith("Exited (")
    assert text(servind.servin("ps", "-q", check=True))[0] == ""


@needs_servind
def test_kill_and_wait(servind):
    load_sample(servind)
    servind.servin("run", "-d", "--name", "victim", SAMPLE, "sleep", "300", check=True)
    result = servind.servin("kill", "victim")
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "victim\n"
    assert text(servind.servin("wait", "victim", check=True))[0] == "137\n"

    # A container's init ignores SIGTERM unless it handles it, so this one traps it.
    servind.servin("run", "-d", "--name", "polite", SAMPLE, "sh", "-c",
                   "trap 'exit 42' TERM; while true; do sleep 0.1; done", check=True)
    time.sleep(0.5)
    servind.servin("kill", "-s", "TERM", "polite", check=True)
    assert text(servind.servin("wait", "polite", timeout=30, check=True))[0] == "42\n"

    result = servind.servin("kill", "-s", "NOPE", "polite")
    assert result.returncode == 1
    assert 'invalid signal "NOPE"' in text(result)[1]


@needs_servind
def test_rm_running_needs_force(servind):
    load_sample(servind)
    servind.servin("run", "-d", "--name", "keeper", SAMPLE, "sleep", "300", check=True)
    result = servind.servin("rm", "keeper")
    assert result.returncode == 1
    assert text(result)[1].startswith("Error response from daemon: ")
    rows = parse_table(text(servind.servin("ps", check=True))[0])
    assert [row[6] for row in rows[1:]] == ["keeper"]
    assert rows[1][4].startswith("Up ")

    result = servind.servin("rm", "-f", "keeper")
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == "keeper\n"
    assert text(servind.servin("ps", "-a", "-q", check=True))[0] == ""


@needs_servind
def test_rm_unknown_container(servind):
    result = servind.servin("rm", "nothere")
    assert result.returncode == 1
    assert text(result)[1] == "Error response from daemon: No such container: nothere\n"


@needs_servind
def test_start_attached(servind):
    load_sample(servind)
    created = servind.servin("create", "--name", "later", SAMPLE, "sh", "-c", "echo hi; exit 4",
                             check=True)
    assert re.fullmatch(r"[0-9a-f]{64}\n", text(created)[0])
    result = servind.servin("start", "-a", "later")
    assert result.returncode == 4
    assert text(result)[0] == "hi\n"


@needs_servind
def test_rmi(servind):
    load_sample(servind)
    image_id = text(servind.servin("images", "-q", "--no-trunc", check=True))[0].strip()
    result = servind.servin("rmi", SAMPLE)
    assert result.returncode == 0, result.stderr
    assert text(result)[0] == f"Untagged: {SAMPLE}:latest\nDeleted: {image_id}\n"
    assert text(servind.servin("images", "-q", check=True))[0] == ""

    result = servind.servin("rmi", SAMPLE)
    assert result.returncode == 1
    assert text(result)[1] == f"Error response from daemon: No such image: {SAMPLE}\n"


@needs_servind
def test_kill_then_rm_at_once(servind):
    load_sample(servind)
    servind.servin("run", "-d", "--name", "victim", SAMPLE, "sleep", "1000", check=True)
    servind.servin("kill", "victim", check=True)
    result = servind.servin("rm", "victim")
    assert result.returncode == 0, result.stderr


@needs_servind
def test_rmi_image_in_use(servind):
    load_sample(servind)
    servind.servin("run", "-d", "--name", "user", SAMPLE, "sleep", "1000", check=True)
    for flags in ((), ("-f",)):
        result = servind.servin("rmi", *flags, SAMPLE)
        assert result.returncode == 1
        assert "used by container user" in text(result)[1]
    assert SAMPLE in text(servind.servin("images", check=True))[0]

    servind.servin("rm", "-f", "user", check=True)
    result = servind.servin("rmi", SAMPLE)
    assert result.returncode == 0, result.stderr


@needs_servind
def test_inspect(servind):
    import json

    load_sample(servind)
    servind.servin("create", "--name", "looked", "-e", "SECRET=1", SAMPLE, check=True)
    containers = json.loads(servind.servin("inspect", "looked", check=True).stdout)
    assert len(containers) == 1
    assert containers[0]["Name"].lstrip("/") == "looked"
    images = json.loads(servind.servin("inspect", SAMPLE, check=True).stdout)
    assert len(images) == 1
    result = servind.servin("inspect", "nothing")
    assert result.returncode == 1
    assert "No such object: nothing" in text(result)[1]


@needs_servind
def test_version_with_servind(servind):
    stdout, _ = text(servind.servin("version", check=True))
    assert "\nServer: Servin\n Version:      " in stdout


@pytest.fixture
def registry():
    from servin_testlib.registry import Registry

    reg = Registry().start()
    yield reg
    reg.stop()


@needs_servind
def test_pull_from_local_registry(servind, registry):
    reference = registry.push_archive(SAMPLE_ARCHIVE, "sample")
    short = reference.rsplit(":", 1)[0]
    result = servind.servin("pull", short)
    stdout, stderr = text(result)
    assert result.returncode == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == "Using default tag: latest"
    assert f"Status: Downloaded newer image for {reference}" in lines
    assert lines[-1] == reference

    again = text(servind.servin("pull", reference, check=True))[0]
    assert f"Status: Image is up to date for {reference}" in again

    rows = parse_table(text(servind.servin("images", check=True))[0])
    assert rows[1][:2] == [short, "latest"]


@needs_servind
def test_pull_unknown_tag_names_reference(servind, registry):
    registry.push_archive(SAMPLE_ARCHIVE, "sample")
    reference = f"{registry.host}/sample:nope"
    result = servind.servin("pull", reference)
    assert result.returncode == 1
    assert text(result)[1].startswith("Error response from daemon: ")
    assert reference in text(result)[1]


@needs_servind
def test_run_pulls_missing_image(servind, registry):
    reference = registry.push_archive(SAMPLE_ARCHIVE, "sample")
    result = servind.servin("run", "--rm", reference)
    stdout, stderr = text(result)
    assert result.returncode == 0, stderr
    assert stdout == "Hello from Servin!\n"
    assert stderr.startswith(f"Unable to find image '{reference}' locally\n")
    assert f"Status: Downloaded newer image for {reference}" in stderr


@needs_servind
def test_pull_progress_on_terminal(servind, registry):
    """On a terminal, pull redraws one progress line instead of printing a line per status."""
    import pty

    reference = registry.push_archive(SAMPLE_ARCHIVE, "sample")
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([SERVIN, "pull", reference], env=servind.env(),
                                   stdout=terminal, stderr=subprocess.PIPE)
        os.close(terminal)
        terminal = -1
        output = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=120) == 0, process.stderr.read()
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    text_output = output.decode().replace("\r\n", "\n")
    assert "\r\x1b[K" in text_output
    assert f"Status: Downloaded newer image for {reference}\n" in text_output


@needs_servind
def test_run_passes_signals_on(servind):
    load_sample(servind)
    script = "trap 'echo got TERM; exit 5' TERM; echo ready; while true; do sleep 0.1; done"
    process = subprocess.Popen([SERVIN, "run", "--rm", SAMPLE, "sh", "-c", script],
                               env=servind.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"ready\n"
        process.send_signal(15)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 5, stderr
    assert stdout == b"got TERM\n"


def test_daemon_runs_servind_of_build_root(tmp_path):
    if not os.path.exists(SERVIND):
        pytest.skip("servind is not built in this tree")
    result = servin_alone("daemon", "--version")
    assert result.returncode == 0, result.stderr
    assert "0.1.0" in result.stdout

    env = dict(os.environ, SERVIN_BUILD_ROOT=str(tmp_path))
    result = servin_alone("daemon", env=env)
    assert result.returncode == 1
    assert (f"servin: cannot run servind at {tmp_path}/helper/servind: No such file or "
            "directory") in result.stderr


@needs_servind
def test_daemon_serves_clients(bus):
    """The advice works: servind started by `servin daemon` serves the next command."""
    from servin_testlib.servind import Servind

    daemon = Servind(bus)
    try:
        daemon.proc = subprocess.Popen([SERVIN, "daemon"], env=daemon.env(),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not bus.name_has_owner("org.servin.Servin1"):
            assert daemon.proc.poll() is None, "servin daemon exited"
            assert time.monotonic() < deadline, "servind did not take its bus name"
            time.sleep(0.05)
        result = daemon.servin("ps")
        assert result.returncode == 0, result.stderr
        assert text(result)[0].startswith("CONTAINER ID")
    finally:
        daemon.cleanup()


@needs_servind
def test_denied_user_gets_daemon_message(servind):
    """A user outside the servin group, without a terminal to authenticate on, is refused."""
    import pwd

    try:
        pwd.getpwnam("servin-ci-user")
    except KeyError:
        pytest.skip("tests/harness/env-up.sh creates the servin-ci-user test user")
    load_sample(servind)
    result = servind.servin("run", "--rm", SAMPLE, "true", user="servin-ci-user")
    assert result.returncode == USAGE_EXIT
    stderr = text(result)[1]
    assert stderr.startswith("servin: Error response from daemon: not authorized to call Create")
    assert "org.servin.container.manage" in stderr
    assert text(servind.servin("ps", "-a", "-q", check=True))[0] == ""


@needs_servind
def test_run_missing_command_exits_127(servind):
    load_sample(servind)
    result = servind.servin("run", "--rm", SAMPLE, "nosuchcommand")
    assert result.returncode == 127
    assert "nosuchcommand" in text(result)[1]
    assert text(servind.servin("ps", "-a", "-q", check=True))[0] == ""

    result = servind.servin("run", "-d", "--name", "kept", SAMPLE, "nosuchcommand")
    assert result.returncode == 127
    rows = parse_table(text(servind.servin("ps", "-a", check=True))[0])
    assert [row[6] for row in rows[1:]] == ["kept"]


@needs_servind
def test_run_name_in_use(servind):
    load_sample(servind)
    servind.servin("create", "--name", "twice", SAMPLE, check=True)
    result = servind.servin("run", "--name", "twice", SAMPLE)
    assert result.returncode == USAGE_EXIT
    assert text(result)[1].startswith("servin: Error response from daemon: ")
    assert '"twice"' in text(result)[1]


@needs_servind
def test_images_filter_by_reference(servind):
    load_sample(servind)
    everything = text(servind.servin("images", check=True))[0]
    assert text(servind.servin("images", SAMPLE, check=True))[0] == everything
    assert text(servind.servin("images", f"docker.io/{SAMPLE}:latest", check=True))[0] == everything
    only_header = text(servind.servin("images", f"{SAMPLE}:other", check=True))[0]
    assert only_header == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"
    assert text(servind.servin("images", "-q", "busybox", check=True))[0] == ""


class SlowProxy:
    """A TCP proxy on 127.0.0.1 that passes the registry's replies on at
    about 80 kB/s, so a pull lasts long enough to be interrupted."""

    CHUNK = 4096
    PAUSE = 0.05

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        self.stopped = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, server]
            threading.Thread(target=self._copy, args=(client, server, 0), daemon=True).start()
            threading.Thread(target=self._copy, args=(server, client, self.PAUSE),
                             daemon=True).start()

    def _copy(self, source, destination, pause):
        try:
            while not self.stopped:
                data = source.recv(self.CHUNK)
                if not data:
                    break
                destination.sendall(data)
                time.sleep(pause)
            destination.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def stop(self):
        self.stopped = True
        self.listener.close()
        for sock in self.sockets:
            sock.close()


@needs_servind
def test_pull_interrupt_cancels_job(servind, registry):
    registry.push_archive(SAMPLE_ARCHIVE, "sample")
    proxy = SlowProxy(registry.port).start()
    reference = f"127.0.0.1:{proxy.port}/sample:latest"
    process = subprocess.Popen([SERVIN, "pull", reference], env=servind.env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith(b"Downloading sha256:"):
                break
        assert seen and seen[-1].startswith(b"Downloading sha256:"), seen
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 1
        assert "cancel" in stderr.decode().lower(), stderr
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        proxy.stop()
    assert text(servind.servin("images", "-q", check=True))[0] == ""
