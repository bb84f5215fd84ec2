# SPDX-License-Identifier: GPL-2.0-or-later
"""Build OCI bundles from Debian's busybox-static for OCI runtime tests."""

import copy
import json
import os
import shutil
import subprocess

BUSYBOX = "/bin/busybox"

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

# The configuration `runc spec` writes (runc 1.1), with terminal off so that the container's
# output reaches the runtime's stdout and stderr.
TEMPLATE = {
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
        ],
        "cwd": "/",
        "capabilities": {
            "bounding": DEFAULT_CAPS,
            "effective": DEFAULT_CAPS,
            "permitted": DEFAULT_CAPS,
            "ambient": DEFAULT_CAPS,
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [
            {"type": "pid"},
            {"type": "network"},
            {"type": "ipc"},
            {"type": "uts"},
            {"type": "mount"},
        ],
        "maskedPaths": [
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/sys/firmware",
            "/proc/scsi",
        ],
        "readonlyPaths": [
            "/proc/bus",
            "/proc/fs",
            "/proc/irq",
            "/proc/sys",
            "/proc/sysrq-trigger",
        ],
    },
}


def make_rootfs(path):
    """Fill path with a root filesystem: busybox and a link for each of its applets."""
    # Temporary folders start out as 0700, which would lock out a container's non-root user.
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)
    for folder in ("bin", "proc", "sys", "dev", "tmp", "etc", "root"):
        os.makedirs(os.path.join(path, folder), exist_ok=True)
    os.chmod(os.path.join(path, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    applets = subprocess.run(
        [BUSYBOX, "--list"], check=True, capture_output=True, text=True
    ).stdout.split()
    for applet in applets:
        link = os.path.join(path, "bin", applet)
        if applet != "busybox" and not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")


def make_config(args, rootfs, cgroups_path=None, **process):
    """Return a config.json dictionary that runs args in rootfs (an absolute path)."""
    config = copy.deepcopy(TEMPLATE)
    config["process"]["args"] = list(args)
    config["process"].update(process)
    config["root"]["path"] = rootfs
    if cgroups_path:
        config["linux"]["cgroupsPath"] = cgroups_path
    return config


def write_bundle(path, config):
    """Create the bundle folder path with config (a dictionary, or raw text) as config.json."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        if isinstance(config, str):
            f.write(config)
        else:
            json.dump(config, f, indent=2)
    return path


def default_seccomp(profile_path, capabilities=DEFAULT_CAPS):
    """Return the linux.seccomp that servind writes on x86_64 for a container with capabilities.

    profile_path is data/seccomp-default.json. Like sv_container_seccomp_filter, this keeps the
    rules whose "includes" and "excludes" select them and drops those two members and comments.
    """
    with open(profile_path) as f:
        profile = json.load(f)
    rules = []
    for rule in profile["syscalls"]:
        includes, excludes = rule.get("includes", {}), rule.get("excludes", {})
        if not set(includes.get("caps", [])) <= set(capabilities):
            continue
        if includes.get("arches") and "amd64" not in includes["arches"]:
            continue
        if set(excludes.get("caps", [])) & set(capabilities):
            continue
        if "amd64" in excludes.get("arches", []):
            continue
        kept = ("names", "action", "errnoRet", "args")
        rules.append({key: value for key, value in rule.items() if key in kept})
    return {
        "defaultAction": profile["defaultAction"],
        "defaultErrnoRet": profile["defaultErrnoRet"],
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": rules,
    }
